// Finding, checking and starting bpftrace.
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { EbpfUnavailableError } from './errors.ts';

const execFileAsync = promisify(execFile);

/** The versions the generated program and the JSON parser are written for. v0.17.0 is the tested one; later
 * 0.x releases renamed `args->` to `args.` and changed JSON records, so they need a new review first. */
const SUPPORTED_BPFTRACE = { min: [0, 17, 0], below: [0, 20, 0], tested: 'v0.17.0' } as const;

export interface BpftraceVersion {
  raw: string;
  major: number;
  minor: number;
  patch: number;
}

function parseBpftraceVersion(output: string): BpftraceVersion | undefined {
  const m = /bpftrace v?(\d+)\.(\d+)\.(\d+)\S*/.exec(output);
  if (!m) return undefined;
  return { raw: m[0].replace(/^bpftrace /, ''), major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

function isSupportedVersion(v: BpftraceVersion): boolean {
  const n = [v.major, v.minor, v.patch];
  return compare(n, SUPPORTED_BPFTRACE.min) >= 0 && compare(n, SUPPORTED_BPFTRACE.below) < 0;
}

export function bpftraceBinary(): string {
  return process.env['KATABOT_BPFTRACE'] ?? 'bpftrace';
}

/** Runs `bpftrace --version` and pins the version; throws EbpfUnavailableError when it cannot be used. */
export async function checkBpftrace(bin = bpftraceBinary()): Promise<BpftraceVersion> {
  let out: string;
  try {
    const r = await execFileAsync(bin, ['--version'], { timeout: 10_000 });
    out = `${r.stdout}${r.stderr}`;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new EbpfUnavailableError(`${bin} not found (install the bpftrace package ${SUPPORTED_BPFTRACE.tested})`);
    throw new EbpfUnavailableError(`${bin} --version failed: ${e.message.split('\n')[0]}`);
  }
  const version = parseBpftraceVersion(out);
  if (!version) throw new EbpfUnavailableError(`cannot read the bpftrace version from ${JSON.stringify(out.trim().slice(0, 80))}`);
  if (!isSupportedVersion(version) && process.env['KATABOT_BPFTRACE_ANY_VERSION'] !== '1') {
    throw new EbpfUnavailableError(
      `bpftrace ${version.raw} is not supported: katabot's program is written for v0.17.x–v0.19.x (tested ${SUPPORTED_BPFTRACE.tested}); `
      + 'set KATABOT_BPFTRACE_ANY_VERSION=1 to try anyway');
  }
  return version;
}

/** Linux 6.15 renamed kernfs_node.parent to __parent; the BTF says which one this kernel has. */
export async function kernfsParentField(bin = bpftraceBinary()): Promise<'__parent' | 'parent'> {
  try {
    const r = await execFileAsync(bin, ['-lv', 'struct kernfs_node'], { timeout: 20_000 });
    if (/\b__parent\b/.test(r.stdout)) return '__parent';
    if (/\bparent\b/.test(r.stdout)) return 'parent';
  } catch {
    // fall through to the kernel version
  }
  const [major = 0, minor = 0] = (await import('node:os')).release().split('.').map(Number);
  return major > 6 || (major === 6 && minor >= 15) ? '__parent' : 'parent';
}

const TRACEFS_EVENTS = ['/sys/kernel/tracing/events', '/sys/kernel/debug/tracing/events'];

function tracefsMounted(): boolean {
  return TRACEFS_EVENTS.some((p) => existsSync(p));
}

export interface BpftraceLaunch {
  command: string;
  args: string[];
  /** tracefs is mounted for bpftrace only, in a private mount namespace */
  privateTracefs: boolean;
}

/**
 * How to start bpftrace. Tracepoints need tracefs; when it is not mounted (a minimal VM or container) it is
 * mounted in a private mount namespace that only bpftrace sees, so the host's mounts stay untouched.
 */
export function bpftraceLaunch(bin: string, bpftraceArgs: string[]): BpftraceLaunch {
  if (tracefsMounted()) return { command: bin, args: bpftraceArgs, privateTracefs: false };
  const unshare = ['/usr/bin/unshare', '/bin/unshare'].find((p) => existsSync(p));
  if (!unshare) {
    throw new EbpfUnavailableError('tracefs is not mounted and unshare(1) is missing: mount -t tracefs nodev /sys/kernel/tracing');
  }
  const script = 'mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || mount -t tracefs nodev /sys/kernel/debug/tracing || exit 97; exec "$0" "$@"';
  return { command: unshare, args: ['--mount', '--propagation', 'private', '/bin/sh', '-c', script, bin, ...bpftraceArgs], privateTracefs: true };
}

export type BpftraceChild = ChildProcessByStdio<null, Readable, Readable>;

export interface BpftraceEnv {
  strlen: number;
  /** perf ring pages per CPU (power of two) */
  perfPages: number;
  /** keys each map may hold (bpftrace's default: 4096) */
  mapKeys?: number;
}

export function startBpftrace(bin: string, programPath: string, env: BpftraceEnv): BpftraceChild {
  const launch = bpftraceLaunch(bin, ['-f', 'json', programPath]);
  return spawn(launch.command, launch.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: {
      ...process.env,
      BPFTRACE_STRLEN: String(env.strlen),
      BPFTRACE_PERF_RB_PAGES: String(env.perfPages),
      ...(env.mapKeys !== undefined ? { BPFTRACE_MAP_KEYS_MAX: String(env.mapKeys) } : {}),
    },
  });
}

/** Lines of bpftrace's stderr that are noise: warnings about memlock (kernels ≥5.11 account BPF memory to the
 * cgroup instead) and address-space hints for user pointers. */
function isBenignStderrLine(line: string): boolean {
  return line.trim() === ''
    || /RLIMIT_MEMLOCK/.test(line)
    || /Addrspace mismatch/.test(line)
    || /^\s*(tracepoint|BEGIN|END|\s*~|\s*\^)/.test(line)
    || /WARNING: .*(available_filter_functions|available_events)/.test(line)
    || /^sh: .*ulimit/.test(line)
    || /^Attaching \d+ probes/.test(line);
}

/**
 * Collects a bpftrace child's stderr for error messages, keeping only its last 32–64 KiB: a long trace can warn
 * without end. Returns what is kept so far.
 */
export function stderrTail(stderr: Readable): () => string {
  let text = '';
  stderr.setEncoding('utf8');
  stderr.on('data', (chunk: string) => {
    text += chunk;
    if (text.length > 65536) text = text.slice(-32768);
  });
  return () => text;
}

/** Condenses bpftrace's stderr into the reason shown after `eBPF unavailable:`. */
export function failureReason(stderr: string, exitCode: number | null): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !isBenignStderrLine(l));
  const error = lines.find((l) => /error/i.test(l)) ?? lines[0];
  if (exitCode === 97) return 'tracefs could not be mounted (needs CAP_SYS_ADMIN)';
  if (!error) return `bpftrace exited with code ${exitCode ?? 'signal'} before attaching its probes`;
  if (/tracepoint not found/.test(error)) return `bpftrace cannot find tracepoints (${error})`;
  if (/Operation not permitted|permission/i.test(error)) return `not permitted: run as root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN) — ${error}`;
  return error.replace(/^ERROR:\s*/, '');
}

/**
 * Stops bpftrace the way that makes it run END and print its maps: SIGINT. bpftrace v0.17 looks at its exit flag
 * only when epoll_wait returns, so a SIGINT that lands while it handles events (not while it waits) is noticed at
 * the next event — never, for a program with no more output (seen about once in 25 stops). SIGINT is therefore
 * repeated until it exits: the next one interrupts epoll_wait. Repeating is safe, the handler only sets the flag.
 * SIGKILL after `killAfterMs`.
 */
export async function interruptBpftrace(child: BpftraceChild, exited: Promise<unknown>, killAfterMs = 15_000): Promise<void> {
  child.kill('SIGINT');
  const again = setInterval(() => child.kill('SIGINT'), 500);
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  try {
    await exited;
  } finally {
    clearInterval(again);
    clearTimeout(killer);
  }
}

/**
 * Waits for a bpftrace child to report its probes attached, for at most `timeoutMs`. On a timeout or an
 * early exit it calls `cleanup` (kill the child) before rethrowing, so no bpftrace is left behind.
 */
export async function awaitAttached(attached: Promise<void>, timeoutMs: number, what: string, cleanup: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      attached,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new EbpfUnavailableError(`${what} did not attach its probes within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    await cleanup();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
