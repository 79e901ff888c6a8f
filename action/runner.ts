// The katabot action's effects on the runner: root through sudo, bpftrace from the distribution, the tracer
// started detached (so it outlives the main step and sees every later step), stopped by its stop file, and the
// artifact's files gathered. Every failure is an Error with one line saying why; main.ts and post.ts turn it into
// the job summary and never fail the job.
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, statSync, writeFileSync, fstatSync, chmodSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { ActionPaths } from './plan.ts';

const execFileAsync = promisify(execFile);

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** `argv` as root: directly when root, else through passwordless sudo. */
export function asRoot(argv: string[]): string[] {
  return isRoot() ? argv : ['sudo', '-n', ...argv];
}

async function run(argv: string[], timeoutMs = 600_000, env?: NodeJS.ProcessEnv): Promise<string> {
  const [cmd, ...args] = argv;
  const r = await execFileAsync(cmd!, args, { timeout: timeoutMs, maxBuffer: 16 << 20, ...(env ? { env } : {}) });
  return r.stdout;
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return ((e.stderr && e.stderr.trim()) || e.message || String(err)).split('\n').filter((l) => l.trim() !== '').slice(-1)[0] ?? String(err);
}

/** The tracer needs root: the runner user with passwordless sudo (GitHub's hosted runners) or root itself. */
export async function checkRoot(): Promise<void> {
  if (process.platform !== 'linux') throw new Error(`the katabot tracer needs a Linux runner, this one is ${process.platform}`);
  if (isRoot()) return;
  try {
    await run(['sudo', '-n', 'true'], 20_000);
  } catch (err) {
    throw new Error(`the tracer needs root, and passwordless sudo is not available here (${firstLine(err)})`);
  }
}

function onPath(name: string): string | undefined {
  for (const dir of [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (dir === '') continue;
    const p = join(dir, name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** bpftrace from the distribution's packages (apt), when it is missing and `install` allows it. */
export async function ensureBpftrace(install: boolean, log: (line: string) => void): Promise<string> {
  const found = onPath('bpftrace');
  if (found) return found;
  if (!install) throw new Error('bpftrace is not installed and the input install is false');
  if (!onPath('apt-get')) throw new Error('bpftrace is not installed and this runner has no apt-get to install it with');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const aptInstall = asRoot(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'bpftrace']);
  log('installing bpftrace from the distribution (apt-get install bpftrace)');
  try {
    await run(aptInstall, 600_000, env);
  } catch {
    // a fresh runner's package lists may be stale
    try {
      await run(asRoot(['apt-get', 'update', '-qq']), 600_000, env);
      await run(aptInstall, 600_000, env);
    } catch (err) {
      throw new Error(`apt-get install bpftrace failed: ${firstLine(err)}`);
    }
  }
  const installed = onPath('bpftrace');
  if (!installed) throw new Error('apt-get installed no bpftrace binary');
  return installed;
}

export interface StartedTracer {
  /** The process the action started (sudo, or the tracer itself when root). */
  pid: number;
  exited: () => boolean;
}

/** Starts the bundled tracer detached, as root, its output in the log file: it outlives the main step. */
export function startTracer(tracerJs: string, args: string[], paths: ActionPaths, env: Record<string, string>): StartedTracer {
  const log = openSync(paths.log, 'a');
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const argv = asRoot(['env', ...envArgs, process.execPath, tracerJs, ...args]);
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let done = false;
  child.on('exit', () => { done = true; });
  child.on('error', () => { done = true; });
  child.unref();
  if (child.pid === undefined) throw new Error(`cannot start ${argv[0]}`);
  return { pid: child.pid, exited: () => done };
}

/** Up to `bytes` of a file from its start or its end ('' when it cannot be read). */
function readPart(path: string, bytes: number, from: 'start' | 'end'): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const n = Math.min(size, bytes);
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, from === 'end' ? size - n : 0);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The end of a file (its last `bytes`), for the tracer log and the trace's footer. */
export function tail(path: string, bytes = 64 * 1024): string {
  return readPart(path, bytes, 'end');
}

/** The first line of a file. */
export function head(path: string, bytes = 64 * 1024): string {
  return readPart(path, bytes, 'start').split('\n')[0] ?? '';
}

/** The tracer's last words, for a reason: the last non-empty lines of its log. */
export function logTail(paths: ActionPaths, lines = 3): string {
  return tail(paths.log, 8192).split('\n').map((l) => l.trim()).filter((l) => l !== '').slice(-lines).join(' / ');
}

/** Waits until the tracer attached its probes; throws why it did not. */
export async function waitReady(paths: ActionPaths, tracer: StartedTracer, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (existsSync(paths.ready)) return;
    if (existsSync(`${paths.ready}.failed`)) throw new Error(tail(`${paths.ready}.failed`, 4096).trim() || 'the tracer failed to start');
    if (tracer.exited()) throw new Error(`the tracer exited before attaching: ${logTail(paths) || 'no output'}`);
    await delay(100);
  }
  throw new Error(`the tracer did not attach its probes within ${timeoutMs / 1000} s: ${logTail(paths) || 'no output'}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: a root process of ours (sudo) that still runs
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function finished(trace: string): boolean {
  return /"type":"footer"/.test(tail(trace, 4096));
}

/**
 * Stops the tracer by its stop file (it writes the footer, then exits), waiting up to `graceMs`; then SIGTERM and
 * SIGKILL as root. Returns how it ended.
 */
export async function stopTracer(paths: ActionPaths, pid: number, graceMs = 120_000): Promise<'stopped' | 'terminated' | 'killed' | 'gone'> {
  if (!alive(pid)) return finished(paths.trace) ? 'stopped' : 'gone';
  writeFileSync(paths.stop, `${new Date().toISOString()}\n`);
  const wait = async (ms: number): Promise<boolean> => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!alive(pid)) return true;
      await delay(100);
    }
    return false;
  };
  if (await wait(graceMs)) return 'stopped';
  // sudo passes the signal on to the tracer, which then writes its footer
  await run(asRoot(['kill', '-TERM', String(pid)]), 10_000).catch(() => undefined);
  if (await wait(20_000)) return 'terminated';
  await run(asRoot(['kill', '-KILL', String(pid)]), 10_000).catch(() => undefined);
  await wait(5_000);
  return 'killed';
}

/** Copies a file that may be readable by root only (an apiserver audit log) into the artifact. */
export async function copyAsRoot(from: string, to: string): Promise<void> {
  mkdirSync(join(to, '..'), { recursive: true });
  try {
    const data = await run(asRoot(['cat', from]), 300_000);
    writeFileSync(to, data);
  } catch (err) {
    throw new Error(`cannot read ${from}: ${firstLine(err)}`);
  }
}

/** Every file below `dir`, sorted (what the artifact holds). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

export function relativeFiles(dir: string, sub: string): string[] {
  return listFiles(join(dir, sub)).map((p) => relative(dir, p));
}

/** Runs the collect command (a guest tracer's collector) with KATABOT_TRACE_DIR set; its output goes to the log. */
export async function runCollectCommand(command: string, traceDir: string, timeoutMs = 600_000): Promise<string> {
  try {
    const r = await execFileAsync('/bin/sh', ['-c', command], { timeout: timeoutMs, maxBuffer: 16 << 20, env: { ...process.env, KATABOT_TRACE_DIR: traceDir } });
    return `${r.stdout}${r.stderr}`;
  } catch (err) {
    throw new Error(`collect-command failed: ${firstLine(err)}`);
  }
}

export function writeExecutable(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}
