// The tracer inside a Kata guest (`katabot guest`): a native sidecar of a Kata pod, injected by `katabot inject`.
// The guest runs only this pod, so it traces the whole guest except itself (scope `all-but-self`, in the kernel),
// attributes events to containers by their guest cgroup path and to the pod by the UID the downward API gave it,
// and streams them as JSON lines to the node collector (src/tracer/collector.ts) with its hello, ticks, stats and
// clock answers (src/trace/guest.ts). A guest it cannot trace (confidential, no BTF, no eBPF) is reported to the
// collector as such, and the tracer then idles: a sidecar that exits is restarted by the kubelet.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseCgroupPath } from '../../trace/cgroup-path.ts';
import { serializeRecord, type TraceEvent, type TraceFooter } from '../../trace/format.ts';
import { GUEST_PROTOCOL, detectUntraceable, parseGuestLine, type GuestFacts, type GuestHello } from '../../trace/guest.ts';
import type { Attribution } from '../../trace/enrich.ts';
import { MARKER_BASE } from '../../bpf/builtin.ts';
import { CgroupIndex, cgroup2Root } from '../cgroup-fs.ts';
import { EbpfUnavailableError } from '../errors.ts';
import { preflight, type Preflight } from '../preflight.ts';
import { markReady } from '../ready-file.ts';
import { TraceSession } from '../session.ts';
import { CgroupWatch } from './cgroup-watch.ts';
import { CollectorLink } from './link.ts';

interface GuestPod {
  namespace: string;
  name: string;
  uid: string;
}

export interface GuestTracerOptions {
  collector: { host: string; port: number };
  pod: GuestPod;
  /** Created once the tracer is done starting, traced or not (the sidecar's startup probe waits for it). */
  readyFile?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** How often the tracer tells the collector how far its stream has got. */
  tickMs?: number;
  statsMs?: number;
  /** Called once the probes are attached. */
  onReady?: (startupMs: number) => void;
}

export interface GuestTracerResult {
  status: 'traced' | 'not traced';
  reason?: string;
  /** From the tracer's process start to its probes attached. */
  startupMs?: number;
  /** Peak resident memory of the agent and its bpftrace processes, KiB. */
  memoryKib?: number;
  footer?: TraceFooter;
  /** Lines the collector never got. */
  dropped: number;
}

/** What the guest says about itself: BTF, and the marks of a confidential VM. */
function readGuestFacts(): GuestFacts {
  let cpuFlags: string[] = [];
  try {
    const m = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    cpuFlags = m ? m[1]!.trim().split(/\s+/) : [];
  } catch {
    // no cpuinfo: no flags
  }
  return {
    btf: existsSync('/sys/kernel/btf/vmlinux'),
    cpuFlags,
    confidentialDevices: ['/dev/tdx_guest', '/dev/sev-guest'].filter((p) => existsSync(p)),
  };
}

/** Peak resident set (VmHWM) of a process, KiB; 0 when it is gone. */
function peakRssKib(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /^VmHWM:\s*([0-9]+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function waitForAbort(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise(() => {});
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Runs the guest tracer until the signal aborts. */
export async function runGuestTracer(o: GuestTracerOptions): Promise<GuestTracerResult> {
  const log = o.log ?? (() => {});
  const hello: GuestHello = {
    type: 'hello', protocol: GUEST_PROTOCOL, namespace: o.pod.namespace, pod: o.pod.name, uid: o.pod.uid, kernel: release(), status: 'traced',
  };
  let watch: CgroupWatch | undefined;
  let session: TraceSession | undefined;
  const link = new CollectorLink({
    host: o.collector.host,
    port: o.collector.port,
    log,
    onLine: (line) => {
      const m = parseGuestLine(line);
      // clock probes are answered at once: the collector keeps the quickest round trip
      if (typeof m === 'object' && m.type === 'clock') link.send(JSON.stringify({ ...m, guest_ns: process.hrtime.bigint().toString() }));
    },
  });
  void link.start();

  const notTraced = async (reason: string): Promise<GuestTracerResult> => {
    log(`guest not traced: ${reason}`);
    link.setHello(JSON.stringify({ ...hello, status: 'not traced', reason }));
    markReady(o.readyFile);
    // a native sidecar that exits is restarted: stay, idle, until the pod ends
    await waitForAbort(o.signal);
    await link.close();
    return { status: 'not traced', reason, dropped: link.dropped };
  };

  const reason = detectUntraceable(readGuestFacts());
  if (reason) return notTraced(reason);
  let pre: Preflight;
  try {
    pre = await preflight();
  } catch (err) {
    if (err instanceof EbpfUnavailableError) return notTraced(err.reason);
    throw err;
  }
  hello.bpftrace = pre.version.raw;
  log(`bpftrace ${pre.version.raw} usable (${Math.round(performance.now())} ms after start)`);

  // A cgroup namespace shows only the tracer's own subtree: learn the others' paths from the kernel instead.
  const root = cgroup2Root();
  // the guest's tree is a handful of cgroups: an unknown id (a container just started) is looked for at once
  const index = new CgroupIndex(root, { minRescanMs: 0 });
  const namespaced = statSync(root, { bigint: true }).ino !== 1n;
  try {
    if (namespaced) {
      watch = await CgroupWatch.start(pre);
      log('this container has its own cgroup namespace: container cgroups are learned from cgroup_mkdir');
    }
  } catch (err) {
    if (!(err instanceof EbpfUnavailableError)) throw err;
    log(`${err.message}; containers stay unattributed`);
  }
  const cache = new Map<string, Attribution>();
  const attribute = (id: string): Attribution => {
    const known = cache.get(id);
    if (known) return known;
    const who: Attribution = { pod: o.pod.name, namespace: o.pod.namespace };
    // the root cgroup's id is 1 in every cgroup namespace
    const path = id === '1' ? '/' : watch?.lookup(id) ?? (namespaced ? undefined : index.lookup(id));
    who.cgroup = path ?? `id:${id}`;
    const a = path === undefined ? undefined : parseCgroupPath(path);
    if (a?.kind === 'container' && a.containerId) who.container_id = a.containerId;
    if (path !== undefined) cache.set(id, who);
    return who;
  };

  // events wait until the hello (it carries the start they count from) is out
  let held: TraceEvent[] | undefined = [];
  let events = 0;
  try {
    session = await TraceSession.start({
      preflight: pre,
      scope: { kind: 'all-but-self' },
      target: { mode: 'pod', pods: [{ namespace: o.pod.namespace, name: o.pod.name, uid: o.pod.uid }], runtime: 'kata' },
      // the collector writes the trace; the guest keeps none (its root is read-only, its memory the pod's)
      out: null,
      attribute,
      onEvent: (e) => {
        // a container's first events can come before its cgroup's name did (the cgroup watch is another bpftrace):
        // by now, a reorder window later, it has
        if (e.cgroup?.startsWith('id:')) Object.assign(e, attribute(e.cgroup.slice(3)));
        events++;
        if (held) held.push(e);
        else link.send(serializeRecord(e));
      },
      log,
    });
  } catch (err) {
    await watch?.stop();
    if (err instanceof EbpfUnavailableError) return notTraced(err.reason);
    throw err;
  }
  const startupMs = Math.round(performance.now());
  link.setHello(JSON.stringify({ ...hello, start_ns: session.startNs.toString() }));
  for (const e of held) link.send(serializeRecord(e));
  held = undefined;
  link.send(JSON.stringify({ type: 'ready', startup_ms: startupMs }));
  markReady(o.readyFile);
  o.onReady?.(startupMs);
  log(`tracing the guest for ${o.pod.namespace}/${o.pod.name} (started in ${startupMs} ms), streaming to ${o.collector.host}:${o.collector.port}`);

  const e = session;
  const memory = (): number => Math.max(0, process.resourceUsage().maxRSS) + peakRssKib(e.bpftracePid) + peakRssKib(watch?.pid);
  let peak = memory();
  const tick = setInterval(() => {
    // the flush marker makes the tracer hand over what its reorder window holds, even when the guest is idle
    try { process.kill(MARKER_BASE, 0); } catch { /* ESRCH: the probe fired anyway */ }
    const now = Number(process.hrtime.bigint() - e.startNs);
    link.send(JSON.stringify({ type: 'tick', ts: Math.max(0, now - 2_000_000_000) }));
  }, o.tickMs ?? 500);
  const stats = setInterval(() => {
    peak = Math.max(peak, memory());
    link.send(JSON.stringify({ type: 'stats', memory_kib: peak, dropped: link.dropped }));
  }, o.statsMs ?? 5000);
  await waitForAbort(o.signal);
  clearInterval(tick);
  clearInterval(stats);
  peak = Math.max(peak, memory());
  const result = await e.stop(null);
  await watch?.stop();
  link.send(JSON.stringify({ type: 'stats', memory_kib: peak, dropped: link.dropped }));
  link.send(serializeRecord(result.footer));
  await link.close();
  log(`guest trace done: ${events} events, ${result.footer.lost.total} lost, ${link.dropped} not sent`);
  return { status: 'traced', startupMs, memoryKib: peak, footer: result.footer, dropped: link.dropped };
}
