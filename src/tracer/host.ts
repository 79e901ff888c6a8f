// Host mode: trace the whole machine but the tracer itself, or one cgroup subtree, until told to stop. This is what
// the katabot action runs on a GitHub Actions runner: every later step of the job, the cluster it builds (kubelet,
// containerd, runc pods, Kata's shim and VMM on the host side) and whatever they start.
// The agent moves itself (and so the bpftrace it starts) into a cgroup of its own, `/katabot/trace-<pid>-<n>`,
// which the kernel-side filter leaves out. Events carry their cgroup path and, for pod cgroups, the container id;
// pod names are not looked up (no API server is assumed), so keys are not scoped by workload.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TraceEvent, TraceTarget } from '../trace/format.ts';
import type { Attribution } from '../trace/enrich.ts';
import { SummaryBuilder, type TraceSummary } from '../trace/summary.ts';
import { parseCgroupPath } from '../trace/cgroup-path.ts';
import { CgroupIndex, cgroupId, createTraceCgroup, ownCgroupDir, removeCgroup } from './cgroup-fs.ts';
import { EbpfUnavailableError, PackageProgramError, TraceUsageError } from './errors.ts';
import { preflightOrMarkFailed } from './pods.ts';
import { markFailed, markReady } from './ready-file.ts';
import type { Preflight } from './preflight.ts';
import { TraceSession, type SessionOptions, type SessionPackage, type SessionResult } from './session.ts';
import { waitForStop } from './stop.ts';

/** Subtrees under this cgroup belong to katabot: `--cgroup` creates them when missing (the action's step cgroup). */
const KATABOT_CGROUP_PREFIX = '/katabot/';

export interface TraceHostOptions {
  out: string;
  /** Trace only this cgroup subtree (a path below the cgroup2 root, e.g. `/system.slice` or `/katabot/steps`). */
  cgroup?: string;
  untilFiles?: string[];
  /** Created when the probes are attached; `<file>.failed` holds the reason when tracing cannot start. */
  readyFile?: string;
  durationMs?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
  onEvent?: (event: TraceEvent) => void;
  onReady?: () => void;
  builtins?: readonly string[];
  packages?: readonly SessionPackage[];
  optionalPackages?: boolean;
  /** Count repeated opens and connects in the kernel (default), or print every one (false). */
  aggregate?: boolean;
  preflight?: Preflight;
}

export interface TraceHostResult extends SessionResult {
  summary: TraceSummary;
}

/** The subtree to trace: must exist, except under /katabot/ where it is created. */
function subtreeDir(root: string, path: string): string {
  if (!path.startsWith('/') || path.split('/').includes('..')) throw new TraceUsageError(`--cgroup ${path}: give an absolute path below the cgroup2 root, e.g. /system.slice`);
  const dir = join(root, path);
  if (existsSync(dir)) return dir;
  if (!path.startsWith(KATABOT_CGROUP_PREFIX)) throw new TraceUsageError(`--cgroup ${path}: no such cgroup under ${root}`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new EbpfUnavailableError(`cannot create cgroup ${dir}: ${(err as Error).message}`);
  }
  return dir;
}

export async function traceHost(opts: TraceHostOptions): Promise<TraceHostResult> {
  const log = opts.log ?? (() => {});
  const pre = await preflightOrMarkFailed(opts);
  const root = pre.cgroupRoot;
  // The whole machine is the root cgroup's subtree (tasks up to DEFAULT_PROGRAM_OPTIONS.maxCgroupDepth levels down).
  let target: bigint;
  try {
    target = cgroupId(opts.cgroup !== undefined && opts.cgroup !== '/' ? subtreeDir(root, opts.cgroup) : root);
  } catch (err) {
    markFailed(opts.readyFile, (err as Error).message);
    throw err;
  }

  // The agent's own cgroup: bpftrace, started below, inherits it, and the filter leaves it out.
  const home = ownCgroupDir(root);
  const own = createTraceCgroup(root);
  try {
    writeFileSync(join(own.dir, 'cgroup.procs'), String(process.pid));
  } catch (err) {
    removeCgroup(own.dir, home);
    const message = `cannot move the tracer into ${own.dir}: ${(err as Error).message}`;
    markFailed(opts.readyFile, `eBPF unavailable: ${message}`);
    throw new EbpfUnavailableError(message);
  }

  const index = new CgroupIndex(root, { minRescanMs: 500 });
  const cache = new Map<string, Attribution>();
  const attribute = (id: string): Attribution | undefined => {
    const known = cache.get(id);
    if (known) return known;
    const path = index.lookup(id);
    if (path === undefined) return { cgroup: `id:${id}` }; // retried after the next rescan
    const who: Attribution = { cgroup: path };
    const a = parseCgroupPath(path);
    if (a?.containerId) who.container_id = a.containerId;
    cache.set(id, who);
    return who;
  };

  const summary = new SummaryBuilder();
  const scope = { kind: 'cgroups' as const, targets: [target], exclude: [own.id] };
  const traceTarget: TraceTarget = { mode: 'host', cgroup: opts.cgroup ?? '/' };
  let session: TraceSession;
  try {
    session = await TraceSession.start({
      preflight: pre,
      scope,
      target: traceTarget,
      out: opts.out,
      attribute,
      onEvent: (e: TraceEvent) => {
        summary.add(e);
        opts.onEvent?.(e);
      },
      log,
      builtins: opts.builtins,
      packages: opts.packages,
      optionalPackages: opts.optionalPackages,
      aggregate: opts.aggregate,
    } satisfies SessionOptions);
  } catch (err) {
    removeCgroup(own.dir, home);
    if (err instanceof EbpfUnavailableError || err instanceof PackageProgramError) markFailed(opts.readyFile, err.message);
    throw err;
  }
  markReady(opts.readyFile);
  opts.onReady?.();
  await waitForStop(session, { ...opts, log });
  const result = await session.stop(null);
  // back to where the agent came from; the cgroup goes
  removeCgroup(own.dir, home);
  return { ...result, summary: summary.build(result.footer) };
}
