// A trace made of packages: katabot's own program for the built-in packages (exec, files, tcp, dns — possibly
// none of them, then it only provides the header, the flush marker and the footer) plus one bpftrace process per
// custom package. Custom packages start once the tracer has attached, so `${in_scope}` covers exactly what the
// tracer traces; their events are merged into the one trace in time order.
import { builtinKinds, builtinPackage } from '../bpf/builtin.ts';
import { tracePackageInfo, type DecoderStats } from '../bpf/decode.ts';
import { packageId, type BpfPackage, type ParamValue } from '../bpf/package.ts';
import { scopeExpression, type ScopeIds } from '../bpf/source.ts';
import type { CustomTraceEvent, KindCounts, TraceEvent, TraceFooter } from '../trace/format.ts';
import type { BeginRecord } from '../trace/protocol.ts';
import { sha256 } from '../adapters/bpf-packages.ts';
import { PackageProcess } from './bpf-process.ts';
import { TraceEngine, type EngineOptions, type EngineResult, type ExtraEvents } from './engine.ts';

export interface SessionPackage {
  pkg: BpfPackage;
  params: Record<string, ParamValue>;
}

export interface SessionOptions extends Omit<EngineOptions, 'kinds' | 'packages' | 'extra'> {
  /** Built-in packages to trace with (exec, files, tcp, dns); none: only the custom packages. */
  builtins: readonly string[];
  packages: readonly SessionPackage[];
  /** How often events are handed to the output while tracing (a trace read as it grows, e.g. a pod log). */
  flushEveryMs?: number;
  /** A custom package that does not start is left out (and named in the footer) instead of failing the trace. */
  optionalPackages?: boolean;
}

/** What a trace asks for besides the engine's options; with neither builtins nor packages, the plain engine. */
export interface PackageChoice {
  builtins?: readonly string[] | undefined;
  packages?: readonly SessionPackage[] | undefined;
  flushEveryMs?: number | undefined;
  optionalPackages?: boolean | undefined;
}

/**
 * Starts the plain engine when no package was asked for (its one fixed program needs no session around it),
 * else a session that runs the built-in program and each custom package side by side.
 */
export async function startTracer(options: Omit<EngineOptions, 'kinds' | 'packages' | 'extra'>, choice: PackageChoice): Promise<TraceEngine | TraceSession> {
  if (choice.builtins === undefined && choice.packages === undefined) return TraceEngine.start(options);
  return TraceSession.start({
    ...options,
    builtins: choice.builtins ?? [],
    packages: choice.packages ?? [],
    ...(choice.flushEveryMs !== undefined ? { flushEveryMs: choice.flushEveryMs } : {}),
    ...(choice.optionalPackages ? { optionalPackages: true } : {}),
  });
}

export interface SessionResult extends EngineResult {
  packages: Array<{ name: string; version: string; stats: DecoderStats; exitCode: number | null }>;
}

/** Custom events waiting for their place in the trace, oldest first. */
class ExtraQueue implements ExtraEvents {
  readonly #items: Array<TraceEvent | CustomTraceEvent> = [];
  readonly processes: PackageProcess[] = [];
  readonly failed: string[] = [];

  push(e: TraceEvent | CustomTraceEvent): void {
    // mostly in order: search from the end
    let i = this.#items.length;
    while (i > 0 && this.#items[i - 1]!.ts > e.ts) i--;
    this.#items.splice(i, 0, e);
  }

  takeUpTo(ts: number): Array<TraceEvent | CustomTraceEvent> {
    let n = 0;
    while (n < this.#items.length && this.#items[n]!.ts <= ts) n++;
    return n === 0 ? [] : this.#items.splice(0, n);
  }

  takeAll(): Array<TraceEvent | CustomTraceEvent> {
    return this.#items.splice(0, this.#items.length);
  }

  footer(): { kinds: Partial<KindCounts>; custom?: TraceFooter['custom'] } {
    const kinds: Partial<KindCounts> = {};
    const counts: Record<string, number> = {};
    let lost = 0;
    let malformed = 0;
    for (const p of this.processes) {
      for (const [k, n] of Object.entries(p.stats.kinds)) kinds[k as keyof KindCounts] = (kinds[k as keyof KindCounts] ?? 0) + n;
      for (const [k, n] of Object.entries(p.stats.custom)) counts[k] = (counts[k] ?? 0) + n;
      lost += p.stats.lost;
      malformed += p.stats.malformed;
    }
    if (this.processes.length === 0 && this.failed.length === 0) return { kinds };
    return { kinds, custom: { counts, lost, malformed, ...(this.failed.length > 0 ? { failed: this.failed } : {}) } };
  }
}

/** A trace needs katabot's own program even without built-in packages: it writes the header and footer and tells
 * the custom packages which cgroups are in scope. */
export class TraceSession {
  readonly engine: TraceEngine;
  readonly #queue: ExtraQueue;
  readonly #timer: NodeJS.Timeout | undefined;

  private constructor(engine: TraceEngine, queue: ExtraQueue, flushEveryMs: number | undefined) {
    this.engine = engine;
    this.#queue = queue;
    if (flushEveryMs !== undefined) {
      // events older than the tracer's reorder window can no longer be preceded by one of its own
      this.#timer = setInterval(() => engine.flush(Number(process.hrtime.bigint() - engine.startNs) - 1_500_000_000), flushEveryMs);
      this.#timer.unref();
    }
  }

  get header(): TraceEngine['header'] {
    return this.engine.header;
  }

  static async start(o: SessionOptions): Promise<TraceSession> {
    const queue = new ExtraQueue();
    const custom = o.packages.filter((p) => !p.pkg.builtin);
    const builtins = [...new Set([...o.builtins, ...o.packages.filter((p) => p.pkg.builtin).map((p) => p.pkg.meta.name)])];
    const infos = [
      ...builtins.map((n) => tracePackageInfo(builtinPackage(n)!.meta, { kind: 'builtin' })),
      ...custom.map((p) => tracePackageInfo(p.pkg.meta, p.pkg.origin, sha256(p.pkg.source))),
    ];
    let begin: BeginRecord | undefined;
    const { builtins: _b, packages: _p, flushEveryMs, optionalPackages, ...engineOptions } = o;
    const engine = await TraceEngine.start({
      ...engineOptions,
      kinds: builtinKinds(builtins),
      packages: infos,
      extra: queue,
      onBegin: (b) => {
        begin = b;
        o.onBegin?.(b);
      },
    });
    if (custom.length === 0) return new TraceSession(engine, queue, flushEveryMs);

    let ids: ScopeIds;
    if (o.scope.kind === 'all') ids = { kind: 'all' };
    else if (o.scope.kind === 'cgroups') ids = { kind: 'cgroups', ids: o.scope.targets, ...(o.scope.exclude ? { exclude: o.scope.exclude } : {}) };
    else if (o.scope.kind === 'all-but-self') ids = { kind: 'all-but-self', self: BigInt(begin?.selfcg ?? '0') };
    else ids = { kind: 'own-pod', self: BigInt(begin?.selfcg ?? '0'), pod: BigInt(begin?.parentcg ?? '0') };
    const scope = scopeExpression(ids, o.preflight.kernfsParent);
    const started = await Promise.allSettled(custom.map((p) => PackageProcess.start({
      preflight: o.preflight,
      pkg: p.pkg,
      params: p.params,
      scope,
      startNs: engine.startNs,
      onEvent: (e) => {
        queue.push(e);
        if (e.kind !== 'custom') o.onEvent?.(e);
      },
      ...(o.attribute ? { attribute: o.attribute } : {}),
      ...(o.log ? { log: o.log } : {}),
      ...(o.attachTimeoutMs !== undefined ? { attachTimeoutMs: o.attachTimeoutMs } : {}),
    })));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    for (const r of started) if (r.status === 'fulfilled') queue.processes.push(r.value);
    if (failed && optionalPackages) {
      for (const [i, r] of started.entries()) {
        if (r.status !== 'rejected') continue;
        const id = packageId(custom[i]!.pkg.meta);
        const message = (r.reason as Error).message;
        const line = message.startsWith(`${id}: `) ? message : `${id}: ${message}`;
        queue.failed.push(line);
        o.log?.(`package did not start, tracing without it: ${line}`);
      }
    } else if (failed) {
      await Promise.all(queue.processes.map((p) => p.stop()));
      await engine.abort();
      throw failed.reason;
    }
    return new TraceSession(engine, queue, flushEveryMs);
  }

  /** Stops the packages (SIGINT: their maps are printed and become events), then the tracer, and writes the footer. */
  async stop(exitCode: number | null = null): Promise<SessionResult> {
    if (this.#timer) clearInterval(this.#timer);
    const results = await Promise.all(this.#queue.processes.map(async (p) => ({ p, r: await p.stop() })));
    const result = await this.engine.stop(exitCode);
    return {
      ...result,
      packages: results.map(({ p, r }) => ({ name: p.pkg.meta.name, version: p.pkg.meta.version, stats: r.stats, exitCode: r.exitCode })),
    };
  }

  async abort(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await Promise.all(this.#queue.processes.map((p) => p.stop()));
    await this.engine.abort();
  }

  /** Resolves with the first custom package whose bpftrace exits by itself. */
  packageExited(): Promise<string> {
    return Promise.race(this.#queue.processes.map(async (p) => { await p.exited; return p.pkg.meta.name; }));
  }

  diagnostics(): string[] {
    return [...this.engine.diagnostics(), ...this.#queue.processes.flatMap((p) => p.diagnostics())];
  }
}
