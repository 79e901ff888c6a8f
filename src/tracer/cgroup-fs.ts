// cgroup v2 plumbing: find the hierarchy, create the traced command's cgroup, map cgroup ids to paths.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { findCgroup2Mount, parseMountInfo, parseProcCgroup } from '../trace/cgroup-path.ts';
import { EbpfUnavailableError } from './errors.ts';

/** The cgroup2 mount point (`/sys/fs/cgroup` unified, `/sys/fs/cgroup/unified` hybrid). */
export function cgroup2Root(): string {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch (err) {
    throw new EbpfUnavailableError(`cannot read /proc/self/mountinfo: ${(err as Error).message}`);
  }
  const mount = findCgroup2Mount(parseMountInfo(text));
  if (!mount) throw new EbpfUnavailableError('no cgroup v2 hierarchy is mounted: katabot scopes a trace by cgroup v2 id');
  return mount;
}

/** The cgroup v2 directory under a root a user passed: the root itself, or `unified/` below it on hybrid hosts
 * (a host's /sys/fs/cgroup mounted into a sidecar). */
export function cgroup2Dir(root: string): string {
  if (existsSync(join(root, 'cgroup.controllers'))) return root;
  const unified = join(root, 'unified');
  if (existsSync(join(unified, 'cgroup.controllers'))) return unified;
  return root;
}

/** A cgroup's id as bpftrace's `cgroup` builtin reports it: the inode number of its directory. */
export function cgroupId(dir: string): bigint {
  return statSync(dir, { bigint: true }).ino;
}

/** The agent's own cgroup directory, to move leftover processes back to before removing the trace cgroup. */
export function ownCgroupDir(root: string): string {
  const path = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8')) ?? '/';
  return join(root, path);
}

export interface TraceCgroup {
  dir: string;
  id: bigint;
  /** Path relative to the cgroup2 root, e.g. `/katabot/trace-1234-1`. */
  path: string;
}

let counter = 0;

/** Creates `<root>/katabot/trace-<pid>-<n>`; processes that write 0 to its cgroup.procs join it. */
export function createTraceCgroup(root: string): TraceCgroup {
  const parent = join(root, 'katabot');
  const dir = join(parent, `trace-${process.pid}-${++counter}`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new EbpfUnavailableError(`cannot create cgroup ${dir}: ${(err as Error).message}`);
  }
  return { dir, id: cgroupId(dir), path: '/' + relative(root, dir) };
}

/** True while any process lives in the cgroup or below it. */
export function cgroupPopulated(dir: string): boolean {
  try {
    const events = readFileSync(join(dir, 'cgroup.events'), 'utf8');
    return /^populated 1$/m.test(events);
  } catch {
    return false;
  }
}

function cgroupPids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string): void => {
    try {
      for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (line.trim()) out.push(Number(line));
      for (const entry of readdirSync(d, { withFileTypes: true })) if (entry.isDirectory()) walk(join(d, entry.name));
    } catch {
      // removed meanwhile
    }
  };
  walk(dir);
  return out;
}

/** Moves leftover processes to `target` and removes the cgroup tree, deepest first. Returns pids it moved. */
export function removeCgroup(dir: string, target: string): number[] {
  const moved = cgroupPids(dir);
  for (const pid of moved) {
    try {
      writeFileSync(join(target, 'cgroup.procs'), String(pid));
    } catch {
      // the process exited
    }
  }
  const remove = (d: string): void => {
    try {
      for (const entry of readdirSync(d, { withFileTypes: true })) if (entry.isDirectory()) remove(join(d, entry.name));
      rmdirSync(d);
    } catch {
      // best effort: a busy cgroup stays and is reported by the caller
    }
  };
  if (existsSync(dir)) remove(dir);
  return moved;
}

/**
 * Maps cgroup ids to paths by walking the hierarchy. Ids of cgroups created after the last walk are found by
 * walking again, at most once per `minRescanMs`, so an unknown id cannot make the agent walk on every event.
 */
export class CgroupIndex {
  readonly #root: string;
  readonly #minRescanMs: number;
  readonly #maxDepth: number;
  readonly #subtree: string;
  #paths = new Map<string, string>();
  #lastScan = 0;

  /** `subtree` limits the walk (e.g. `/katabot/trace-1-1` or `/kubepods.slice`); paths stay relative to root. */
  constructor(root: string, options: { subtree?: string; minRescanMs?: number; maxDepth?: number } = {}) {
    this.#root = root;
    this.#subtree = options.subtree ?? '/';
    this.#minRescanMs = options.minRescanMs ?? 1000;
    this.#maxDepth = options.maxDepth ?? 12;
  }

  get root(): string {
    return this.#root;
  }

  /** Path relative to the cgroup2 root (`/kubepods.slice/...`), or undefined if the cgroup is gone. */
  lookup(id: string): string | undefined {
    const known = this.#paths.get(id);
    if (known !== undefined) return known;
    const now = Date.now();
    if (now - this.#lastScan < this.#minRescanMs) return undefined;
    this.scan();
    return this.#paths.get(id);
  }

  scan(): void {
    this.#lastScan = Date.now();
    const start = join(this.#root, this.#subtree);
    const walk = (dir: string, depth: number): void => {
      let id: bigint;
      try {
        id = cgroupId(dir);
      } catch {
        return;
      }
      const rel = '/' + relative(this.#root, dir);
      this.#paths.set(id.toString(), rel === '/' ? '/' : rel);
      if (depth >= this.#maxDepth) return;
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) if (e.isDirectory()) walk(join(dir, e.name), depth + 1);
    };
    walk(start, 0);
  }

  /** All known paths, for finding pod cgroups. */
  entries(): Array<[id: string, path: string]> {
    return [...this.#paths.entries()];
  }
}
