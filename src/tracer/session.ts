// A trace session, the one way to trace: katabot's own program (the built-in packages exec, files, tcp, dns — all
// of them unless a choice was made, possibly none, then it only provides the header, the flush marker and the
// footer) in one bpftrace process, plus one bpftrace process per custom package. Every process feeds one pipeline:
// its decoder (the trace normaliser, or the package's decoder), the enrichers (DNS naming, cgroup attribution:
// src/trace/enrich.ts), then the trace file, where the packages' events are merged in time order. Custom packages
// start once the tracer has attached, so `${in_scope}` covers exactly what the tracer traces.
import { setTimeout as delay } from 'node:timers/promises';
import { builtinKinds, builtinPackage, DEFAULT_PROGRAM_OPTIONS, generateProgram, MARKER_BASE, type TraceScope } from '../bpf/builtin.ts';
import { tracePackageInfo, type DecoderStats } from '../bpf/decode.ts';
import { packageId, sha256, type BpfPackage, type ParamValue } from '../bpf/package.ts';
import { scopeExpression, type ScopeIds } from '../bpf/source.ts';
import { cgroupAttribution, dnsNaming, pipeline, type Attribution, type Enricher } from '../trace/enrich.ts';
import type { KindCounts, TraceEvent, TraceFooter, TraceHeader, TraceTarget } from '../trace/format.ts';
import type { NormalizerStats } from '../trace/normalize.ts';
import type { BeginRecord } from '../trace/protocol.ts';
import { BpftraceProcess } from './bpftrace-process.ts';
import { PackageRun } from './package-run.ts';
import type { Preflight } from './preflight.ts';
import { TraceRecorder, type ExtraFooter } from './recorder.ts';

export interface SessionPackage {
  pkg: BpfPackage;
  params: Record<string, ParamValue>;
}

export interface SessionOptions {
  preflight: Preflight;
  scope: TraceScope;
  target: TraceTarget;
  /** The trace file; null: none, the events only go to onEvent. */
  out: string | null;
  attribute?: (cgroupId: string) => Attribution | undefined;
  onEvent?: (event: TraceEvent) => void;
  onBegin?: (record: BeginRecord) => void;
  /** Diagnostics for stderr (bpftrace errors, malformed lines). */
  log?: (line: string) => void;
  strlen?: number;
  maxArgs?: number;
  /** perf ring pages per CPU; 1024 pages = 4 MiB, enough for bursts of ~50k events/s on one CPU. */
  perfPages?: number;
  /** Count repeated opens and connects in the kernel (default), or print every one (false). */
  aggregate?: boolean | undefined;
  attachTimeoutMs?: number;
  /** Built-in packages to trace with (exec, files, tcp, dns); none: only the custom packages. Without builtins and
   * packages, all of katabot's probes and a trace of format 1.0. */
  builtins?: readonly string[] | undefined;
  packages?: readonly SessionPackage[] | undefined;
  /** How often events are handed to the output while tracing (a trace read as it grows, e.g. a pod log). */
  flushEveryMs?: number | undefined;
  /** A custom package that does not start is left out (and named in the footer) instead of failing the trace. */
  optionalPackages?: boolean | undefined;
}

export interface SessionResult {
  stats: NormalizerStats;
  footer: TraceFooter;
  header: TraceHeader;
  /** CPU seconds used by bpftrace (read from /proc just before it stopped) and by this agent process, in total and
   * up to the moment the probes were attached (bpftrace's compile and load cost). */
  cpu: { bpftrace: number; agent: number; bpftraceAtAttach: number; agentAtAttach: number };
  bpftraceExit: number | null;
  /** Custom packages' results. */
  packages: Array<{ name: string; version: string; stats: DecoderStats; exitCode: number | null }>;
}

/** What the packages counted, lost and garbled, for the footer (its `custom` section only when packages ran). */
function packagesFooter(runs: readonly PackageRun[], failed: readonly string[]): ExtraFooter {
  const kinds: Partial<KindCounts> = {};
  const counts: Record<string, number> = {};
  let lost = 0;
  let malformed = 0;
  for (const p of runs) {
    for (const [k, n] of Object.entries(p.stats.kinds)) kinds[k as keyof KindCounts] = (kinds[k as keyof KindCounts] ?? 0) + n;
    for (const [k, n] of Object.entries(p.stats.custom)) counts[k] = (counts[k] ?? 0) + n;
    lost += p.stats.lost;
    malformed += p.stats.malformed;
  }
  if (runs.length === 0 && failed.length === 0) return { kinds };
  return { kinds, custom: { counts, lost, malformed, ...(failed.length > 0 ? { failed: [...failed] } : {}) } };
}

export class TraceSession {
  readonly #recorder: TraceRecorder;
  readonly #tracer: BpftraceProcess;
  readonly #runs: PackageRun[] = [];
  readonly #failed: string[] = [];
  readonly #markerWaiters = new Map<number, () => void>();
  readonly #cpuStart: NodeJS.CpuUsage;
  readonly #cpuAtAttach: { bpftrace: number; agent: number };
  #markerSeq = 0;
  #timer: NodeJS.Timeout | undefined;

  private constructor(recorder: TraceRecorder, tracer: BpftraceProcess, cpuStart: NodeJS.CpuUsage, markerWaiters: Map<number, () => void>) {
    this.#recorder = recorder;
    this.#tracer = tracer;
    this.#cpuStart = cpuStart;
    this.#markerWaiters = markerWaiters;
    this.#cpuAtAttach = { bpftrace: tracer.cpuSeconds(), agent: this.#agentCpu() };
  }

  get header(): TraceHeader {
    return this.#recorder.header;
  }

  /** CLOCK_MONOTONIC (bpftrace's `nsecs`) at the header's start. */
  get startNs(): bigint {
    return this.#recorder.startNs;
  }

  /** The tracer program's bpftrace (the guest tracer reports its memory). */
  get bpftracePid(): number | undefined {
    return this.#tracer.pid;
  }

  /** Starts the tracer program, then the custom packages; resolves once every probe is attached. */
  static async start(o: SessionOptions): Promise<TraceSession> {
    const chosen = o.builtins !== undefined || o.packages !== undefined;
    const custom = (o.packages ?? []).filter((p) => !p.pkg.builtin);
    const builtins = [...new Set([...(o.builtins ?? []), ...(o.packages ?? []).filter((p) => p.pkg.builtin).map((p) => p.pkg.meta.name)])];
    const strlen = o.strlen ?? DEFAULT_PROGRAM_OPTIONS.strlen;
    const maxArgs = o.maxArgs ?? DEFAULT_PROGRAM_OPTIONS.maxArgs;
    const enrich = pipeline(dnsNaming, o.attribute ? cgroupAttribution(o.attribute) : undefined);
    const aggregate = o.aggregate ?? DEFAULT_PROGRAM_OPTIONS.aggregate;
    const program = generateProgram({
      ...DEFAULT_PROGRAM_OPTIONS,
      strlen,
      maxArgs,
      aggregate,
      scope: o.scope,
      agentPid: process.pid,
      kernfsParentField: o.preflight.kernfsParent,
      ...(chosen ? { kinds: builtinKinds(builtins) } : {}),
    });
    const cpuStart = process.cpuUsage();
    const markerWaiters = new Map<number, () => void>();
    let begin: BeginRecord | undefined;
    const recorder = new TraceRecorder({
      out: o.out,
      target: o.target,
      bpftrace: o.preflight.version.raw,
      strlen,
      maxArgs,
      ...(chosen ? {
        packages: [
          ...builtins.map((n) => tracePackageInfo(builtinPackage(n)!.meta, { kind: 'builtin' })),
          ...custom.map((p) => tracePackageInfo(p.pkg.meta, p.pkg.origin, sha256(p.pkg.source))),
        ],
      } : {}),
      enrich,
      ...(o.onEvent ? { onEvent: o.onEvent } : {}),
      onBegin: (b) => {
        begin = b;
        o.onBegin?.(b);
      },
      onMarker: (n) => markerWaiters.get(n)?.(),
      ...(o.log ? { log: o.log } : {}),
    });
    let tracer: BpftraceProcess;
    try {
      tracer = await BpftraceProcess.start({
        bin: o.preflight.bin,
        program,
        file: 'trace.bt',
        what: 'bpftrace',
        // the aggregation maps' size; without them, bpftrace's default (4096 keys) as before
        env: { strlen, perfPages: o.perfPages ?? 1024, ...(aggregate ? { mapKeys: DEFAULT_PROGRAM_OPTIONS.mapKeys } : {}) },
        sink: recorder,
        onExit: (code, reason) => o.log?.(`bpftrace exited while tracing (code ${code}): ${reason}; the trace stops here`),
        ...(o.attachTimeoutMs !== undefined ? { attachTimeoutMs: o.attachTimeoutMs } : {}),
      });
    } catch (err) {
      await recorder.discard();
      throw err;
    }
    const session = new TraceSession(recorder, tracer, cpuStart, markerWaiters);
    if (custom.length > 0) await session.#startPackages(o, custom, begin, enrich);
    if (o.flushEveryMs !== undefined) {
      // events older than the tracer's reorder window can no longer be preceded by one of its own
      session.#timer = setInterval(() => session.flush(Number(process.hrtime.bigint() - recorder.startNs) - 1_500_000_000), o.flushEveryMs);
      session.#timer.unref();
    }
    return session;
  }

  async #startPackages(o: SessionOptions, custom: readonly SessionPackage[], begin: BeginRecord | undefined, enrich: Enricher): Promise<void> {
    let ids: ScopeIds;
    if (o.scope.kind === 'all') ids = { kind: 'all' };
    else if (o.scope.kind === 'cgroups') ids = { kind: 'cgroups', ids: o.scope.targets, ...(o.scope.exclude ? { exclude: o.scope.exclude } : {}) };
    else if (o.scope.kind === 'all-but-self') ids = { kind: 'all-but-self', self: BigInt(begin?.selfcg ?? '0') };
    else ids = { kind: 'own-pod', self: BigInt(begin?.selfcg ?? '0'), pod: BigInt(begin?.parentcg ?? '0') };
    const scope = scopeExpression(ids, o.preflight.kernfsParent);
    const started = await Promise.allSettled(custom.map((p) => PackageRun.start({
      preflight: o.preflight,
      pkg: p.pkg,
      params: p.params,
      scope,
      startNs: this.startNs,
      onEvent: (e) => {
        this.#recorder.extra.push(e);
        if (e.kind !== 'custom') o.onEvent?.(e);
      },
      enrich,
      ...(o.log ? { log: o.log } : {}),
      ...(o.attachTimeoutMs !== undefined ? { attachTimeoutMs: o.attachTimeoutMs } : {}),
    })));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    for (const r of started) if (r.status === 'fulfilled') this.#runs.push(r.value);
    if (failed && o.optionalPackages) {
      for (const [i, r] of started.entries()) {
        if (r.status !== 'rejected') continue;
        const id = packageId(custom[i]!.pkg.meta);
        const message = (r.reason as Error).message;
        const line = message.startsWith(`${id}: `) ? message : `${id}: ${message}`;
        this.#failed.push(line);
        o.log?.(`package did not start, tracing without it: ${line}`);
      }
    } else if (failed) {
      await this.abort();
      throw failed.reason;
    }
  }

  #agentCpu(): number {
    const u = process.cpuUsage(this.#cpuStart);
    return (u.user + u.system) / 1e6;
  }

  /** Writes the packages' events up to `upToTs` and hands buffered lines to the output (a trace read as it grows). */
  flush(upToTs?: number): void {
    this.#recorder.flush(upToTs);
  }

  /** Resolves with the first custom package whose bpftrace exits by itself; never without custom packages. */
  packageExited(): Promise<string> {
    return Promise.race(this.#runs.map(async (p) => { await p.exited; return p.pkg.meta.name; }));
  }

  /**
   * Waits until the tracer's bpftrace has delivered everything the kernel produced so far, stops the packages
   * (SIGINT: their maps are printed and become events), then the tracer, and writes the footer.
   */
  async stop(exitCode: number | null = null): Promise<SessionResult> {
    if (this.#timer) clearInterval(this.#timer);
    // First: bpftrace v0.17 drops the records it is reading when SIGINT comes, and a command's last records are
    // still on their way when it exits. The packages' processes read their rings meanwhile too.
    await this.#catchUp();
    const results = await Promise.all(this.#runs.map(async (p) => ({ p, r: await p.stop() })));
    const bpftraceCpu = this.#tracer.cpuSeconds();
    const bpftraceExit = await this.#tracer.stop(); // bpftrace runs END and prints @sent
    const { stats, footer } = await this.#recorder.finish(exitCode, packagesFooter(this.#runs, this.#failed));
    return {
      stats,
      footer,
      header: this.header,
      cpu: { bpftrace: bpftraceCpu, agent: this.#agentCpu(), bpftraceAtAttach: this.#cpuAtAttach.bpftrace, agentAtAttach: this.#cpuAtAttach.agent },
      bpftraceExit,
      packages: results.map(({ p, r }) => ({ name: p.pkg.meta.name, version: p.pkg.meta.version, stats: r.stats, exitCode: r.exitCode })),
    };
  }

  /**
   * A record triggered now is read after every record the probes printed before it on this CPU; other CPUs'
   * rings are polled in the same pass, so a short wait after it covers them.
   */
  async #catchUp(): Promise<void> {
    if (this.#tracer.hasExited) return;
    const marker = ++this.#markerSeq;
    const seen = new Promise<void>((resolve) => this.#markerWaiters.set(marker, resolve));
    try {
      process.kill(MARKER_BASE + marker, 0);
    } catch {
      // ESRCH is expected: no such process; the probe has fired anyway
    }
    // the timeout must not keep the process alive once the marker came; it is long because a bpftrace that is
    // behind (a loaded machine) needs the time, and every record it has not read when SIGINT comes is lost
    const timeout = new AbortController();
    await Promise.race([seen, delay(10_000, undefined, { signal: timeout.signal }).catch(() => undefined)]);
    timeout.abort();
    await delay(100);
  }

  /** Kills every bpftrace and removes partial output (a start that failed). */
  async abort(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await Promise.all(this.#runs.map((p) => p.stop()));
    await this.#tracer.kill();
    await this.#recorder.discard();
  }
}
