// The tracing engine shared by command and pod mode: generate the program, run bpftrace, parse its stream,
// normalise, write JSONL. Callers decide the scope and when to stop.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { BpftraceJsonStream } from '../trace/bpftrace-stream.ts';
import {
  TRACE_FORMAT, TRACE_FORMAT_VERSION, TRACE_FORMAT_VERSION_PACKAGES, type CustomTraceEvent, type EventKind, type KindCounts,
  type TraceEvent, type TraceFooter, type TraceHeader, type TracePackageInfo, type TraceTarget,
} from '../trace/format.ts';
import { TraceNormalizer, type Attribution, type NormalizerStats } from '../trace/normalize.ts';
import type { BeginRecord } from '../trace/protocol.ts';
import {
  awaitAttached, bpftraceBinary, checkBpftrace, failureReason, interruptBpftrace, isBenignStderrLine, kernfsParentField, startBpftrace, stderrTail,
  type BpftraceChild, type BpftraceVersion,
} from './bpftrace.ts';
import { cgroup2Root } from './cgroups.ts';
import { EbpfUnavailableError } from './errors.ts';
import { DEFAULT_PROGRAM_OPTIONS, MARKER_BASE, generateProgram, type TraceScope } from './program.ts';
import { katabotVersion } from './version.ts';
import { TraceWriter } from './writer.ts';

export interface Preflight {
  bin: string;
  version: BpftraceVersion;
  kernfsParent: '__parent' | 'parent';
  cgroupRoot: string;
}

/** Everything that must hold before tracing; throws EbpfUnavailableError with the first reason it fails. */
export async function preflight(): Promise<Preflight> {
  if (process.platform !== 'linux') throw new EbpfUnavailableError(`eBPF needs Linux, this is ${process.platform}`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new EbpfUnavailableError('katabot trace must run as root (CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)');
  }
  const bin = bpftraceBinary();
  const version = await checkBpftrace(bin);
  const cgroupRoot = cgroup2Root();
  const kernfsParent = await kernfsParentField(bin);
  return { bin, version, kernfsParent, cgroupRoot };
}

export interface EngineOptions {
  preflight: Preflight;
  scope: TraceScope;
  target: TraceTarget;
  out: string;
  attribute?: (cgroupId: string) => Attribution | undefined;
  onEvent?: (event: TraceEvent) => void;
  onBegin?: (record: BeginRecord) => void;
  /** Diagnostics for stderr (bpftrace errors, malformed lines). */
  log?: (line: string) => void;
  strlen?: number;
  maxArgs?: number;
  /** perf ring pages per CPU; 1024 pages = 4 MiB, enough for bursts of ~50k events/s on one CPU. */
  perfPages?: number;
  attachTimeoutMs?: number;
  /** Trace kinds of the program (the built-in packages asked for); all by default. */
  kinds?: readonly EventKind[];
  /** The packages behind the trace, for the header (format 1.1). */
  packages?: TracePackageInfo[];
  /** Events from elsewhere (packages' own bpftrace processes) merged into the trace in time order. */
  extra?: ExtraEvents;
}

/** Events the engine writes among its own: before each of its events, those up to its ts; the rest at the end. */
export interface ExtraEvents {
  takeUpTo(ts: number): Array<TraceEvent | CustomTraceEvent>;
  takeAll(): Array<TraceEvent | CustomTraceEvent>;
  /** Counts for the footer: events of the seven kinds, and the custom section. */
  footer(): { kinds: Partial<KindCounts>; custom?: TraceFooter['custom'] };
}

export interface EngineResult {
  stats: NormalizerStats;
  footer: TraceFooter;
  header: TraceHeader;
  /** CPU seconds used by bpftrace (read from /proc just before it stopped) and by this agent process, in total and
   * up to the moment the probes were attached (bpftrace's compile and load cost). */
  cpu: { bpftrace: number; agent: number; bpftraceAtAttach: number; agentAtAttach: number };
  bpftraceExit: number | null;
}

function clockTicksToSeconds(statLine: string): number {
  // /proc/PID/stat: fields after the parenthesised comm; utime and stime are fields 14 and 15 (USER_HZ = 100)
  const rest = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

export class TraceEngine {
  readonly header: TraceHeader;
  /** CLOCK_MONOTONIC (bpftrace's `nsecs`) at the header's start. */
  readonly startNs: bigint;
  readonly #opts: EngineOptions;
  readonly #child: BpftraceChild;
  readonly #normalizer: TraceNormalizer;
  readonly #stream: BpftraceJsonStream;
  readonly #writer: TraceWriter;
  readonly #programDir: string;
  readonly #startWall: number;
  readonly #cpuStart: NodeJS.CpuUsage;
  readonly #markerWaiters = new Map<number, () => void>();
  #markerSeq = 0;
  readonly #stderr: () => string;
  #exited: Promise<number | null>;
  #exitCode: number | null | undefined;
  #attached!: Promise<void>;
  #malformed = 0;
  #cpuAtAttach = { bpftrace: 0, agent: 0 };
  /** Attached and not yet asked to stop: an exit now is a crash worth reporting. */
  #running = false;
  #stopping = false;

  private constructor(opts: EngineOptions) {
    this.#opts = opts;
    const strlen = opts.strlen ?? DEFAULT_PROGRAM_OPTIONS.strlen;
    const maxArgs = opts.maxArgs ?? DEFAULT_PROGRAM_OPTIONS.maxArgs;
    const program = generateProgram({
      ...DEFAULT_PROGRAM_OPTIONS,
      strlen,
      maxArgs,
      scope: opts.scope,
      agentPid: process.pid,
      kernfsParentField: opts.preflight.kernfsParent,
      ...(opts.kinds ? { kinds: opts.kinds } : {}),
    });
    this.#programDir = mkdtempSync(join(tmpdir(), 'katabot-trace-'));
    const programPath = join(this.#programDir, 'trace.bt');
    writeFileSync(programPath, program);

    this.#cpuStart = process.cpuUsage();
    const startNs = process.hrtime.bigint(); // CLOCK_MONOTONIC, the clock of bpftrace's nsecs
    this.startNs = startNs;
    this.#startWall = Date.now();
    this.header = {
      type: 'header',
      format: TRACE_FORMAT,
      version: opts.packages ? TRACE_FORMAT_VERSION_PACKAGES : TRACE_FORMAT_VERSION,
      katabot: katabotVersion(),
      source: 'bpftrace',
      bpftrace: opts.preflight.version.raw,
      kernel: release(),
      host: hostname(),
      start: new Date(this.#startWall).toISOString(),
      target: opts.target,
      limits: { strlen, max_args: maxArgs },
      ...(opts.packages ? { packages: opts.packages } : {}),
    };
    this.#writer = new TraceWriter(opts.out);
    this.#writer.write(this.header);

    let onAttached!: () => void;
    let onEarlyExit!: (err: Error) => void;
    this.#attached = new Promise<void>((resolve, reject) => { onAttached = resolve; onEarlyExit = reject; });
    this.#normalizer = new TraceNormalizer({
      startNs,
      strlen,
      attribute: opts.attribute,
      emit: (event) => {
        if (opts.extra) for (const x of opts.extra.takeUpTo(event.ts)) this.#writer.write(x);
        this.#writer.write(event);
        opts.onEvent?.(event);
      },
      // Not on `attached_probes`: v0.17 prints that before attaching, while BEGIN runs after every probe is in.
      onMarker: (n) => this.#markerWaiters.get(n)?.(),
      onBegin: (record) => {
        this.#cpuAtAttach = { bpftrace: this.#bpftraceCpu(), agent: this.#agentCpu() };
        opts.onBegin?.(record);
        onAttached();
      },
      onBpftraceError: (msg) => opts.log?.(`bpftrace: ${msg}`),
      onMalformed: (line, reason) => opts.log?.(`bpftrace output line ${line}: ${reason}`),
    });
    this.#stream = new BpftraceJsonStream({
      onError: (err) => {
        this.#malformed++;
        opts.log?.(err.message);
      },
    });

    this.#child = startBpftrace(opts.preflight.bin, programPath, { strlen, perfPages: opts.perfPages ?? 1024 });
    // bpftrace runs in its own process group (a terminal's Ctrl-C must not stop it before the command): make sure
    // it does not outlive the agent.
    const killOnExit = (): void => { if (this.#exitCode === undefined) this.#child.kill('SIGKILL'); };
    process.once('exit', killOnExit);
    this.#child.stdout.setEncoding('utf8');
    this.#child.stdout.on('data', (chunk: string) => {
      for (const record of this.#stream.push(chunk)) this.#normalizer.push(record);
    });
    this.#stderr = stderrTail(this.#child.stderr);
    this.#exited = new Promise((resolve) => {
      this.#child.on('error', (err) => {
        onEarlyExit(new EbpfUnavailableError(`cannot start bpftrace: ${err.message}`));
        resolve(null);
      });
      this.#child.on('close', (code) => {
        this.#exitCode = code;
        process.off('exit', killOnExit);
        if (this.#running) opts.log?.(`bpftrace exited while tracing (code ${code}): ${failureReason(this.#stderr(), code)}; the trace stops here`);
        onEarlyExit(new EbpfUnavailableError(failureReason(this.#stderr(), code)));
        resolve(code);
      });
    });
  }

  /** Starts bpftrace and resolves once its probes are attached. */
  static async start(opts: EngineOptions): Promise<TraceEngine> {
    const engine = new TraceEngine(opts);
    await awaitAttached(engine.#attached, opts.attachTimeoutMs ?? 120_000, 'bpftrace', () => engine.abort());
    engine.#running = true;
    return engine;
  }

  #bpftraceCpu(): number {
    try {
      return clockTicksToSeconds(readFileSync(`/proc/${this.#child.pid}/stat`, 'utf8'));
    } catch {
      return 0;
    }
  }

  #agentCpu(): number {
    const u = process.cpuUsage(this.#cpuStart);
    return (u.user + u.system) / 1e6;
  }

  /** Writes extra events up to `upToTs` and hands buffered lines to the output (for a trace read while it grows). */
  flush(upToTs?: number): void {
    if (this.#stopping) return;
    if (this.#opts.extra && upToTs !== undefined) for (const x of this.#opts.extra.takeUpTo(upToTs)) this.#writer.write(x);
    this.#writer.flush();
  }

  get bpftracePid(): number | undefined {
    return this.#child.pid;
  }

  /** Kills bpftrace and removes partial output after a failed start. */
  async abort(): Promise<void> {
    this.#stopping = true;
    if (this.#exitCode === undefined) this.#child.kill('SIGKILL');
    await this.#exited;
    await this.#writer.close();
    this.#writer.discard();
    rmSync(this.#programDir, { recursive: true, force: true });
  }

  /** Waits until bpftrace has delivered everything the kernel produced so far, then stops it and writes the footer. */
  async stop(exitCode: number | null = null): Promise<EngineResult> {
    this.#running = false;
    this.#stopping = true;
    if (this.#exitCode === undefined) {
      // A record triggered now is read after every record the probes printed before it on this CPU; other CPUs'
      // rings are polled in the same pass, so a short wait after it covers them.
      const marker = ++this.#markerSeq;
      const seen = new Promise<void>((resolve) => this.#markerWaiters.set(marker, resolve));
      try {
        process.kill(MARKER_BASE + marker, 0);
      } catch {
        // ESRCH is expected: no such process; the probe has fired anyway
      }
      // the timeout must not keep the process alive once the marker came
      const timeout = new AbortController();
      await Promise.race([seen, delay(3000, undefined, { signal: timeout.signal }).catch(() => undefined)]);
      timeout.abort();
      await delay(100);
    }
    const bpftraceCpu = this.#bpftraceCpu();
    if (this.#exitCode === undefined) {
      await interruptBpftrace(this.#child, this.#exited); // bpftrace runs END and prints @sent
    }
    // 'close' fires after stdout ended, so every chunk has been pushed
    for (const record of this.#stream.end()) this.#normalizer.push(record);
    const stats = this.#normalizer.finish();
    let custom: TraceFooter['custom'];
    if (this.#opts.extra) {
      for (const x of this.#opts.extra.takeAll()) this.#writer.write(x);
      const extra = this.#opts.extra.footer();
      for (const [k, n] of Object.entries(extra.kinds)) stats.counts[k as EventKind] += n;
      custom = extra.custom;
    }
    const lostTotal = Math.max(stats.lostReported, stats.gap) + stats.incomplete;
    const footer: TraceFooter = {
      type: 'footer',
      counts: stats.counts,
      lost: { reported: stats.lostReported, gap: stats.gap, incomplete: stats.incomplete, total: lostTotal },
      malformed: stats.malformed + this.#malformed,
      truncated: stats.truncated,
      duration_ms: Date.now() - this.#startWall,
      end: new Date().toISOString(),
      exit_code: exitCode,
      ...(custom ? { custom } : {}),
    };
    if (!stats.sentByTag) this.#opts.log?.('bpftrace ended without printing its record counters; lost events may be undercounted');
    this.#writer.write(footer);
    await this.#writer.close();
    rmSync(this.#programDir, { recursive: true, force: true });
    return {
      stats,
      footer,
      header: this.header,
      cpu: { bpftrace: bpftraceCpu, agent: this.#agentCpu(), bpftraceAtAttach: this.#cpuAtAttach.bpftrace, agentAtAttach: this.#cpuAtAttach.agent },
      bpftraceExit: this.#exitCode ?? null,
    };
  }

  /** bpftrace stderr lines worth showing (not the usual warnings). */
  diagnostics(): string[] {
    return this.#stderr().split('\n').filter((l) => !isBenignStderrLine(l));
  }
}
