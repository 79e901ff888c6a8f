// One package's bpftrace process: render the program, start it, read its JSON output into trace events, stop it
// with SIGINT so bpftrace runs END and prints its maps (which become events too).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PackageDecoder, type DecoderStats } from '../bpf/decode.ts';
import { packageId, type BpfPackage, type ParamValue } from '../bpf/package.ts';
import { renderProgram } from '../bpf/source.ts';
import { formatProblems, hasErrors, parseBpftraceDiagnostics } from '../bpf/validate.ts';
import { BpftraceJsonStream } from '../trace/bpftrace-stream.ts';
import type { CustomTraceEvent, TraceEvent } from '../trace/format.ts';
import type { Attribution } from '../trace/normalize.ts';
import { awaitAttached, failureReason, interruptBpftrace, startBpftrace, stderrTail, type BpftraceChild } from './bpftrace.ts';
import type { Preflight } from './engine.ts';
import { EbpfUnavailableError, PackageProgramError } from './errors.ts';

export interface PackageProcessOptions {
  preflight: Preflight;
  pkg: BpfPackage;
  params: Record<string, ParamValue>;
  /** What `${in_scope}` becomes (src/bpf/source.ts scopeExpression). */
  scope: string;
  /** CLOCK_MONOTONIC at the trace's start. */
  startNs: bigint;
  onEvent: (event: TraceEvent | CustomTraceEvent) => void;
  attribute?: (cgroupId: string) => Attribution | undefined;
  log?: (line: string) => void;
  attachTimeoutMs?: number;
  /** BPFTRACE_STRLEN; bpftrace's own default (64) unless the package needs more. */
  strlen?: number;
}

export interface PackageProcessResult {
  stats: DecoderStats;
  exitCode: number | null;
}

/** Errors of a failed start: compiler-style lines when bpftrace named the program's lines, else eBPF is unavailable. */
export function startError(pkg: BpfPackage, stderr: string, file: string, exitCode: number | null): Error {
  const problems = parseBpftraceDiagnostics(stderr, file);
  if (hasErrors(problems)) return new PackageProgramError(packageId(pkg.meta), formatProblems(pkg.meta.program, problems.filter((p) => p.severity === 'error')));
  return new EbpfUnavailableError(`${packageId(pkg.meta)}: ${failureReason(stderr, exitCode)}`);
}

export class PackageProcess {
  readonly pkg: BpfPackage;
  readonly #o: PackageProcessOptions;
  readonly #child: BpftraceChild;
  readonly #decoder: PackageDecoder;
  readonly #stream: BpftraceJsonStream;
  readonly #dir: string;
  readonly #file: string;
  readonly #exited: Promise<number | null>;
  #attached!: Promise<void>;
  #exitCode: number | null | undefined;
  readonly #stderr: () => string;
  #running = false;

  private constructor(o: PackageProcessOptions) {
    this.pkg = o.pkg;
    this.#o = o;
    const text = renderProgram(o.pkg.source, { params: o.params, scope: o.scope, attachMarker: true });
    this.#dir = mkdtempSync(join(tmpdir(), 'katabot-bpf-'));
    // named as in the package, so bpftrace's errors say `program.bt:LINE:COL`
    this.#file = join(this.#dir, o.pkg.meta.program);
    writeFileSync(this.#file, text);
    const now = (): number => Number(process.hrtime.bigint() - o.startNs);
    this.#decoder = new PackageDecoder({
      meta: o.pkg.meta,
      tsFromNsecs: (ns) => Number(ns - o.startNs),
      now,
      ...(o.attribute ? { attribute: o.attribute } : {}),
    });
    this.#stream = new BpftraceJsonStream({ onError: (err) => { this.#decoder.stats.malformed++; o.log?.(`${packageId(o.pkg.meta)}: ${err.message}`); } });
    let onAttached!: () => void;
    let onEarlyExit!: (err: Error) => void;
    this.#attached = new Promise<void>((resolve, reject) => { onAttached = resolve; onEarlyExit = reject; });
    this.#child = startBpftrace(o.preflight.bin, this.#file, { strlen: o.strlen ?? 64, perfPages: 256 });
    const killOnExit = (): void => { if (this.#exitCode === undefined) this.#child.kill('SIGKILL'); };
    process.once('exit', killOnExit);
    const handle = (chunkRecords: ReturnType<BpftraceJsonStream['push']>): void => {
      for (const record of chunkRecords) {
        const r = this.#decoder.push(record);
        if (r.attached) onAttached();
        if (r.malformed) o.log?.(`${packageId(o.pkg.meta)}: output line ${record.line}: ${r.malformed}`);
        if (r.error) o.log?.(`${packageId(o.pkg.meta)}: bpftrace: ${r.error}`);
        for (const e of r.events) o.onEvent(e);
      }
    };
    this.#child.stdout.setEncoding('utf8');
    this.#child.stdout.on('data', (chunk: string) => handle(this.#stream.push(chunk)));
    this.#stderr = stderrTail(this.#child.stderr);
    this.#exited = new Promise((resolve) => {
      this.#child.on('error', (err) => {
        onEarlyExit(new EbpfUnavailableError(`cannot start bpftrace: ${err.message}`));
        resolve(null);
      });
      this.#child.on('close', (code) => {
        this.#exitCode = code;
        process.off('exit', killOnExit);
        handle(this.#stream.end());
        if (this.#running && code !== 0) o.log?.(`${packageId(o.pkg.meta)}: bpftrace exited while tracing (code ${code}): ${failureReason(this.#stderr(), code)}`);
        // a program whose BEGIN calls exit() has attached before it ends: that is a start, not a failure
        onEarlyExit(startError(o.pkg, this.#stderr(), this.#file, code));
        resolve(code);
      });
    });
  }

  /** Starts bpftrace and resolves once every probe is attached (BEGIN printed katabot's marker). */
  static async start(o: PackageProcessOptions): Promise<PackageProcess> {
    const p = new PackageProcess(o);
    await awaitAttached(p.#attached, o.attachTimeoutMs ?? 120_000, `${packageId(o.pkg.meta)}: bpftrace`, () => p.#kill());
    p.#running = true;
    return p;
  }

  get stats(): DecoderStats {
    return this.#decoder.stats;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Resolves when bpftrace exits by itself (a program that calls exit()). */
  get exited(): Promise<number | null> {
    return this.#exited;
  }

  async #kill(): Promise<void> {
    if (this.#exitCode === undefined) this.#child.kill('SIGKILL');
    await this.#exited;
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** SIGINT: bpftrace runs END and prints its maps; waits for it to exit (SIGINT repeated, SIGKILL after 15 s). */
  async stop(): Promise<PackageProcessResult> {
    this.#running = false;
    if (this.#exitCode === undefined) {
      await interruptBpftrace(this.#child, this.#exited);
    }
    rmSync(this.#dir, { recursive: true, force: true });
    return { stats: this.#decoder.stats, exitCode: this.#exitCode ?? null };
  }

  /** bpftrace's stderr lines worth showing. */
  diagnostics(): string[] {
    return this.#stderr().split('\n').filter((l) => l.trim() !== '' && !/RLIMIT_MEMLOCK/.test(l));
  }
}
