// Names of cgroups created while the guest tracer runs, from the kernel: `cgroup:cgroup_mkdir` carries a new
// cgroup's id and its path from the hierarchy's root. A tracer whose container has its own cgroup namespace
// (runtime-rs keeps the pod's cgroupns; runtime-go drops it) sees only its own subtree under /sys/fs/cgroup and
// cannot map the other containers' cgroup ids to paths by walking it; this small second bpftrace can. It runs
// only then, and the tracer starts before the pod's containers (a native sidecar), so their cgroups are all seen.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpftraceJsonStream } from '../../trace/bpftrace-stream.ts';
import { awaitAttached, failureReason, interruptBpftrace, startBpftrace, stderrTail, type BpftraceChild } from '../bpftrace.ts';
import type { Preflight } from '../engine.ts';
import { EbpfUnavailableError } from '../errors.ts';

const READY = 'katabot-cgroup-watch-ready';

/** The program: hierarchy 0 is cgroup v2. A path is at most BPFTRACE_STRLEN-1 bytes (kubepods paths are ~150). */
export const CGROUP_WATCH_PROGRAM = `BEGIN { printf("${READY}\\n"); }
tracepoint:cgroup:cgroup_mkdir /args->root == 0/ { printf("%llu %s\\n", args->id, str(args->path)); }
`;

/** `id path` lines of the program's printf records; undefined for anything else. */
export function parseCgroupWatchLine(text: string): { id: string; path: string } | undefined {
  const m = /^([0-9]+) (\/.*)\n?$/.exec(text);
  return m ? { id: m[1]!, path: m[2]! } : undefined;
}

export class CgroupWatch {
  readonly #child: BpftraceChild;
  readonly #dir: string;
  readonly #exited: Promise<number | null>;
  readonly #paths = new Map<string, string>();
  #attached!: Promise<void>;

  private constructor(pre: Preflight) {
    this.#dir = mkdtempSync(join(tmpdir(), 'katabot-cgwatch-'));
    const file = join(this.#dir, 'cgroup-watch.bt');
    writeFileSync(file, CGROUP_WATCH_PROGRAM);
    const stream = new BpftraceJsonStream({ onError: () => {} });
    let onAttached!: () => void;
    let onEarlyExit!: (err: Error) => void;
    this.#attached = new Promise<void>((resolve, reject) => { onAttached = resolve; onEarlyExit = reject; });
    this.#child = startBpftrace(pre.bin, file, { strlen: 200, perfPages: 16 });
    const handle = (records: ReturnType<BpftraceJsonStream['push']>): void => {
      for (const r of records) {
        if (r.type !== 'printf') continue;
        if (r.text.startsWith(READY)) { onAttached(); continue; }
        const p = parseCgroupWatchLine(r.text);
        if (p) this.#paths.set(p.id, p.path);
      }
    };
    this.#child.stdout.setEncoding('utf8');
    this.#child.stdout.on('data', (chunk: string) => handle(stream.push(chunk)));
    const stderr = stderrTail(this.#child.stderr);
    this.#exited = new Promise((resolve) => {
      this.#child.on('error', (err) => { onEarlyExit(new EbpfUnavailableError(`cannot start bpftrace: ${err.message}`)); resolve(null); });
      this.#child.on('close', (code) => {
        handle(stream.end());
        onEarlyExit(new EbpfUnavailableError(`cgroup watch: ${failureReason(stderr(), code)}`));
        resolve(code);
      });
    });
  }

  static async start(pre: Preflight, attachTimeoutMs = 120_000): Promise<CgroupWatch> {
    const w = new CgroupWatch(pre);
    await awaitAttached(w.#attached, attachTimeoutMs, 'cgroup watch bpftrace', () => w.stop());
    return w;
  }

  /** Path (from the hierarchy's root) of a cgroup created since the watch started. */
  lookup(id: string): string | undefined {
    return this.#paths.get(id);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) await interruptBpftrace(this.#child, this.#exited);
    else await this.#exited;
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
