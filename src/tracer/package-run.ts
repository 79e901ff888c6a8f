// One custom package running: its program rendered for the trace's scope, in a bpftrace process of its own whose
// output the package's decoder turns into trace events (its maps too, printed when it stops).
import { PackageDecoder, type DecoderStats } from '../bpf/decode.ts';
import { packageId, type BpfPackage, type ParamValue } from '../bpf/package.ts';
import { renderProgram } from '../bpf/source.ts';
import { formatProblems, hasErrors, parseBpftraceDiagnostics } from '../bpf/validate.ts';
import type { Enricher } from '../trace/enrich.ts';
import type { CustomTraceEvent, TraceEvent } from '../trace/format.ts';
import { failureReason } from './bpftrace.ts';
import { BpftraceProcess } from './bpftrace-process.ts';
import { EbpfUnavailableError, PackageProgramError } from './errors.ts';
import type { Preflight } from './preflight.ts';

export interface PackageRunOptions {
  preflight: Preflight;
  pkg: BpfPackage;
  params: Record<string, ParamValue>;
  /** What `${in_scope}` becomes (src/bpf/source.ts scopeExpression). */
  scope: string;
  /** CLOCK_MONOTONIC at the trace's start. */
  startNs: bigint;
  onEvent: (event: TraceEvent | CustomTraceEvent) => void;
  enrich?: Enricher;
  log?: (line: string) => void;
  attachTimeoutMs?: number;
  /** BPFTRACE_STRLEN; bpftrace's own default (64) unless the package needs more. */
  strlen?: number;
}

export interface PackageRunResult {
  stats: DecoderStats;
  exitCode: number | null;
}

/** Errors of a failed start: compiler-style lines when bpftrace named the program's lines, else eBPF is unavailable. */
function startError(pkg: BpfPackage, stderr: string, file: string, exitCode: number | null): Error {
  const problems = parseBpftraceDiagnostics(stderr, file);
  if (hasErrors(problems)) return new PackageProgramError(packageId(pkg.meta), formatProblems(pkg.meta.program, problems.filter((p) => p.severity === 'error')));
  return new EbpfUnavailableError(`${packageId(pkg.meta)}: ${failureReason(stderr, exitCode)}`);
}

export class PackageRun {
  readonly pkg: BpfPackage;
  readonly #decoder: PackageDecoder;
  readonly #process: BpftraceProcess;

  private constructor(pkg: BpfPackage, decoder: PackageDecoder, process: BpftraceProcess) {
    this.pkg = pkg;
    this.#decoder = decoder;
    this.#process = process;
  }

  /** Starts the package's bpftrace and resolves once every probe is attached (BEGIN printed katabot's marker). */
  static async start(o: PackageRunOptions): Promise<PackageRun> {
    const id = packageId(o.pkg.meta);
    const decoder = new PackageDecoder({
      meta: o.pkg.meta,
      tsFromNsecs: (ns) => Number(ns - o.startNs),
      now: () => Number(process.hrtime.bigint() - o.startNs),
      ...(o.enrich ? { enrich: o.enrich } : {}),
    });
    const proc = await BpftraceProcess.start({
      bin: o.preflight.bin,
      program: renderProgram(o.pkg.source, { params: o.params, scope: o.scope, attachMarker: true }),
      file: o.pkg.meta.program,
      what: `${id}: bpftrace`,
      env: { strlen: o.strlen ?? 64, perfPages: 256 },
      sink: {
        push: (record, attached) => {
          const r = decoder.push(record);
          if (r.attached) attached();
          if (r.malformed) o.log?.(`${id}: output line ${record.line}: ${r.malformed}`);
          if (r.error) o.log?.(`${id}: bpftrace: ${r.error}`);
          for (const e of r.events) o.onEvent(e);
        },
        malformed: (err) => {
          decoder.stats.malformed++;
          o.log?.(`${id}: ${err.message}`);
        },
      },
      startError: (stderr, file, code) => startError(o.pkg, stderr, file, code),
      onExit: (code, reason) => { if (code !== 0) o.log?.(`${id}: bpftrace exited while tracing (code ${code}): ${reason}`); },
      ...(o.attachTimeoutMs !== undefined ? { attachTimeoutMs: o.attachTimeoutMs } : {}),
    });
    return new PackageRun(o.pkg, decoder, proc);
  }

  get stats(): DecoderStats {
    return this.#decoder.stats;
  }

  /** Resolves when bpftrace exits by itself (a program that calls exit()). */
  get exited(): Promise<number | null> {
    return this.#process.exited;
  }

  /** SIGINT: bpftrace runs END and prints its maps (they become events); waits for it to exit. */
  async stop(): Promise<PackageRunResult> {
    const exitCode = await this.#process.stop();
    return { stats: this.#decoder.stats, exitCode };
  }
}
