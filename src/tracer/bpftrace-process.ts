// One bpftrace child process, whatever its program: the program written to a private directory, bpftrace started
// with JSON output, every record of its stream handed to a sink (the trace normaliser or a package's decoder),
// the start awaited until the sink sees the probes attached, and a stop that lets bpftrace run END and print its
// maps (SIGINT) or a kill. The trace program and every custom package run in one of these.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpftraceJsonStream, type BpftraceRecord } from '../trace/bpftrace-stream.ts';
import type { TraceParseError } from '../trace/format.ts';
import {
  awaitAttached, failureReason, interruptBpftrace, startBpftrace, stderrTail, type BpftraceChild, type BpftraceEnv,
} from './bpftrace.ts';
import { EbpfUnavailableError } from './errors.ts';

/** Where a process's output goes. */
export interface BpftraceSink {
  /** One record of bpftrace's output; the sink calls `attached` when it shows that every probe is in. */
  push(record: BpftraceRecord, attached: () => void): void;
  /** A line of output that is not bpftrace JSON. */
  malformed(err: TraceParseError): void;
}

export interface BpftraceProcessOptions {
  bin: string;
  program: string;
  /** The program's file name: bpftrace's errors name it (`program.bt:LINE:COL`). */
  file: string;
  /** How messages name the process, e.g. `bpftrace` or `syscount@1.0.0: bpftrace`. */
  what: string;
  env: BpftraceEnv;
  sink: BpftraceSink;
  attachTimeoutMs?: number;
  /** The error when bpftrace exits before its probes are attached. */
  startError?: (stderr: string, file: string, exitCode: number | null) => Error;
  /** bpftrace ended by itself after attaching: a crash, or a program that calls exit(). */
  onExit?: (exitCode: number | null, reason: string) => void;
}

function clockTicksToSeconds(statLine: string): number {
  // /proc/PID/stat: fields after the parenthesised comm; utime and stime are fields 14 and 15 (USER_HZ = 100)
  const rest = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

export class BpftraceProcess {
  readonly #child: BpftraceChild;
  readonly #dir: string;
  readonly #stream: BpftraceJsonStream;
  readonly #stderr: () => string;
  readonly #exited: Promise<number | null>;
  readonly #attached: Promise<void>;
  #exitCode: number | null | undefined;
  /** Attached and not yet asked to stop: an exit now is bpftrace's own doing. */
  #running = false;

  private constructor(o: BpftraceProcessOptions) {
    this.#dir = mkdtempSync(join(tmpdir(), 'katabot-bpftrace-'));
    const file = join(this.#dir, o.file);
    writeFileSync(file, o.program);
    let onAttached!: () => void;
    let onEarlyExit!: (err: Error) => void;
    this.#attached = new Promise<void>((resolve, reject) => { onAttached = resolve; onEarlyExit = reject; });
    this.#stream = new BpftraceJsonStream({ onError: (err) => o.sink.malformed(err) });
    const push = (records: BpftraceRecord[]): void => { for (const r of records) o.sink.push(r, onAttached); };

    this.#child = startBpftrace(o.bin, file, o.env);
    // bpftrace runs in its own process group (a terminal's Ctrl-C must not stop it before the traced command):
    // make sure it does not outlive the agent.
    const killOnExit = (): void => { if (this.#exitCode === undefined) this.#child.kill('SIGKILL'); };
    process.once('exit', killOnExit);
    this.#child.stdout.setEncoding('utf8');
    this.#child.stdout.on('data', (chunk: string) => push(this.#stream.push(chunk)));
    this.#stderr = stderrTail(this.#child.stderr);
    this.#exited = new Promise((resolve) => {
      this.#child.on('error', (err) => {
        onEarlyExit(new EbpfUnavailableError(`cannot start bpftrace: ${err.message}`));
        resolve(null);
      });
      // 'close' comes after stdout ended: every chunk has been pushed
      this.#child.on('close', (code) => {
        this.#exitCode = code;
        process.off('exit', killOnExit);
        push(this.#stream.end());
        if (this.#running) o.onExit?.(code, failureReason(this.#stderr(), code));
        // a program whose BEGIN calls exit() has attached before it ends: that is a start, not a failure
        onEarlyExit(o.startError?.(this.#stderr(), file, code) ?? new EbpfUnavailableError(failureReason(this.#stderr(), code)));
        resolve(code);
      });
    });
  }

  /** Starts bpftrace and resolves once the sink saw every probe attached; kills it when that does not happen. */
  static async start(o: BpftraceProcessOptions): Promise<BpftraceProcess> {
    const p = new BpftraceProcess(o);
    await awaitAttached(p.#attached, o.attachTimeoutMs ?? 120_000, o.what, () => p.kill());
    p.#running = true;
    return p;
  }

  /** Resolves with the exit code when bpftrace has exited (by itself or stopped). */
  get exited(): Promise<number | null> {
    return this.#exited;
  }

  get hasExited(): boolean {
    return this.#exitCode !== undefined;
  }

  /** bpftrace's process id (for its memory use, read from /proc). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** CPU seconds bpftrace used so far (0 once it is gone). */
  cpuSeconds(): number {
    try {
      return clockTicksToSeconds(readFileSync(`/proc/${this.#child.pid}/stat`, 'utf8'));
    } catch {
      return 0;
    }
  }

  /** SIGINT: bpftrace runs END and prints its maps into the sink; resolves with its exit code once it exited. */
  async stop(): Promise<number | null> {
    this.#running = false;
    if (this.#exitCode === undefined) await interruptBpftrace(this.#child, this.#exited);
    rmSync(this.#dir, { recursive: true, force: true });
    return this.#exitCode ?? null;
  }

  /** SIGKILL, for a start that failed: nothing of the output is wanted. */
  async kill(): Promise<void> {
    this.#running = false;
    if (this.#exitCode === undefined) this.#child.kill('SIGKILL');
    await this.#exited;
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
