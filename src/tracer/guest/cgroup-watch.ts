// Names of cgroups created while the guest tracer runs, from the kernel: `cgroup:cgroup_mkdir` carries a new
// cgroup's id and its path from the hierarchy's root. A tracer whose container has its own cgroup namespace
// (runtime-rs keeps the pod's cgroupns; runtime-go drops it) sees only its own subtree under /sys/fs/cgroup and
// cannot map the other containers' cgroup ids to paths by walking it; this small second bpftrace can. It runs
// only then, and the tracer starts before the pod's containers (a native sidecar), so their cgroups are all seen.
import { failureReason } from '../bpftrace.ts';
import { BpftraceProcess } from '../bpftrace-process.ts';
import { EbpfUnavailableError } from '../errors.ts';
import type { Preflight } from '../preflight.ts';

const READY = 'katabot-cgroup-watch-ready';

/** The program: hierarchy 0 is cgroup v2. A path is at most BPFTRACE_STRLEN-1 bytes (kubepods paths are ~150). */
const CGROUP_WATCH_PROGRAM = `BEGIN { printf("${READY}\\n"); }
tracepoint:cgroup:cgroup_mkdir /args->root == 0/ { printf("%llu %s\\n", args->id, str(args->path)); }
`;

/** `id path` lines of the program's printf records; undefined for anything else. */
function parseCgroupWatchLine(text: string): { id: string; path: string } | undefined {
  const m = /^([0-9]+) (\/.*)\n?$/.exec(text);
  return m ? { id: m[1]!, path: m[2]! } : undefined;
}

export class CgroupWatch {
  readonly #paths = new Map<string, string>();
  #process: BpftraceProcess | undefined;

  static async start(pre: Preflight, attachTimeoutMs = 120_000): Promise<CgroupWatch> {
    const w = new CgroupWatch();
    w.#process = await BpftraceProcess.start({
      bin: pre.bin,
      program: CGROUP_WATCH_PROGRAM,
      file: 'cgroup-watch.bt',
      what: 'cgroup watch bpftrace',
      env: { strlen: 200, perfPages: 16 },
      attachTimeoutMs,
      startError: (stderr, _file, code) => new EbpfUnavailableError(`cgroup watch: ${failureReason(stderr, code)}`),
      sink: {
        push: (r, attached) => {
          if (r.type !== 'printf') return;
          if (r.text.startsWith(READY)) return attached();
          const p = parseCgroupWatchLine(r.text);
          if (p) w.#paths.set(p.id, p.path);
        },
        malformed: () => {},
      },
    });
    return w;
  }

  /** Path (from the hierarchy's root) of a cgroup created since the watch started. */
  lookup(id: string): string | undefined {
    return this.#paths.get(id);
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  async stop(): Promise<void> {
    await this.#process?.stop();
  }
}
