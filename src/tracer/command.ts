// `katabot trace -- CMD ARGS…`: run CMD in a cgroup of its own and trace it and every descendant.
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, relative, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { SummaryBuilder, type TraceSummary } from '../trace/summary.ts';
import type { TraceEvent } from '../trace/format.ts';
import { signalNumber } from '../trace/linux.ts';
import { CgroupIndex, cgroupPopulated, createTraceCgroup, ownCgroupDir, removeCgroup } from './cgroup-fs.ts';
import { TraceUsageError } from './errors.ts';
import { preflight } from './preflight.ts';
import { TraceSession, type SessionOptions, type SessionPackage, type SessionResult } from './session.ts';

export interface TraceCommandOptions {
  argv: string[];
  out: string;
  /** How long descendants that outlive CMD keep being traced. */
  lingerMs?: number;
  stdio?: 'inherit' | 'ignore';
  log?: (line: string) => void;
  onEvent?: (event: TraceEvent) => void;
  /** Called once the probes are attached, just before CMD starts. */
  onReady?: () => void;
  /** Trace with these built-in packages only (exec, files, tcp, dns) instead of all of katabot's probes. */
  builtins?: readonly string[];
  /** Custom packages to run next to the tracer, scoped to CMD's cgroup. */
  packages?: readonly SessionPackage[];
  /** Count repeated opens and connects in the kernel (default), or print every one (false). */
  aggregate?: boolean;
  /** perf ring pages per CPU (tests and benchmarks: a small ring loses records on purpose). */
  perfPages?: number;
}

export interface TraceCommandResult extends SessionResult {
  exitCode: number;
  summary: TraceSummary;
  /** pids still running in the trace cgroup when tracing stopped (moved back to the agent's cgroup). */
  leftover: number[];
  /** Wall time of CMD alone, from spawn to exit. */
  commandMs: number;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** PATH lookup done here, so the trace shows one exec of CMD instead of a shell's failed attempts per PATH entry. */
function resolveExecutable(name: string, path = process.env['PATH'] ?? '/usr/bin:/bin'): string {
  if (name.includes('/')) {
    const abs = resolve(name);
    if (!isExecutableFile(abs)) throw new TraceUsageError(`${name}: not an executable file`, 126);
    return abs;
  }
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new TraceUsageError(`${name}: command not found`, 127);
}

// $0 is the cgroup directory; the shell moves itself into it, then becomes CMD, so CMD's own exec is traced.
const JOIN_CGROUP_AND_EXEC = 'echo 0 > "$0/cgroup.procs" || exit 125; exec "$@"';

export async function traceCommand(opts: TraceCommandOptions): Promise<TraceCommandResult> {
  const [cmd, ...args] = opts.argv;
  if (!cmd) throw new TraceUsageError('nothing to trace: give a command after --');
  const exe = resolveExecutable(cmd);
  const pre = await preflight();
  const cg = createTraceCgroup(pre.cgroupRoot);
  const index = new CgroupIndex(pre.cgroupRoot, { subtree: cg.path, minRescanMs: 200 });
  const summary = new SummaryBuilder();
  let session: TraceSession;
  try {
    session = await TraceSession.start({
      preflight: pre,
      scope: { kind: 'cgroups', targets: [cg.id] },
      target: { mode: 'command', argv: opts.argv, cgroup: cg.path },
      out: opts.out,
      // Events in CMD's own cgroup carry no cgroup field; sub-cgroups CMD creates are named relative to it.
      attribute: (id: string) => {
        if (id === cg.id.toString()) return undefined;
        const path = index.lookup(id);
        return path === undefined ? { cgroup: `id:${id}` } : { cgroup: relative(cg.path, path) };
      },
      onEvent: (e: TraceEvent) => {
        summary.add(e);
        opts.onEvent?.(e);
      },
      builtins: opts.builtins,
      packages: opts.packages,
      aggregate: opts.aggregate,
      ...(opts.perfPages !== undefined ? { perfPages: opts.perfPages } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    } satisfies SessionOptions);
  } catch (err) {
    removeCgroup(cg.dir, ownCgroupDir(pre.cgroupRoot));
    throw err;
  }
  opts.onReady?.();

  const started = performance.now();
  const child = spawn('/bin/sh', ['-c', JOIN_CGROUP_AND_EXEC, cg.dir, exe, ...args], { stdio: opts.stdio ?? 'inherit' });
  // CMD gets terminal signals itself (same process group); the agent stays alive to finish the trace.
  const forward = (sig: NodeJS.Signals): void => { child.kill(sig); };
  const ignoreInt = (): void => {};
  process.on('SIGINT', ignoreInt);
  process.on('SIGTERM', forward);
  process.on('SIGHUP', forward);
  const exitCode = await new Promise<number>((resolveExit) => {
    child.on('error', (err) => {
      opts.log?.(`cannot start ${cmd}: ${err.message}`);
      resolveExit(127);
    });
    child.on('exit', (code, signal) => resolveExit(code ?? 128 + (signal ? signalNumber(signal) ?? 1 : 1)));
  });
  const commandMs = performance.now() - started;
  process.off('SIGINT', ignoreInt);
  process.off('SIGTERM', forward);
  process.off('SIGHUP', forward);

  // Descendants may outlive CMD (daemons, background jobs): keep tracing them for a while.
  const lingerUntil = Date.now() + (opts.lingerMs ?? 1000);
  while (cgroupPopulated(cg.dir) && Date.now() < lingerUntil) await delay(20);

  const result = await session.stop(exitCode);
  const leftover = removeCgroup(cg.dir, ownCgroupDir(pre.cgroupRoot));
  if (leftover.length > 0) opts.log?.(`still running after ${cmd} exited, no longer traced: pids ${leftover.join(' ')}`);
  return { ...result, exitCode, summary: summary.build(result.footer), leftover, commandMs };
}
