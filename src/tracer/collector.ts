// The node collector (`katabot collect`): one per node (a DaemonSet), writing one merged trace of the node.
// - It traces the host side itself: the kubepods tree (runc pods; the Kata shim, VMM and virtiofsd in a pod's
//   `kata_<sandbox>` cgroup; pods created later are below it too) and `/kata_overhead` (Kata's legacy placement).
// - It receives the guest streams of the Kata guests' tracers (src/tracer/guest/agent.ts) over TCP, measures each
//   guest's clock offset with probes, and puts guest events on its own time line.
// - It merges both in time order (src/trace/merge.ts) and writes one trace (format 1.2) in which every event says
//   which kernel saw it and which sandbox, pod and container it belongs to, and whose footer lists the node's Kata
//   guests: traced, or not and why (a confidential guest the webhook left out, a guest that reported no BTF, a
//   sandbox from which no stream came).
// A loopback client's `{"type":"finish"}` line ends the trace (`katabot collect --finish`); the collector then
// idles, so the DaemonSet does not restart it before the trace is copied out.
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { hostname, release } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PROGRAM_OPTIONS, MARKER_BASE } from '../bpf/builtin.ts';
import { GUEST_TRACER_ANNOTATION, annotationReason } from '../jobs/inject.ts';
import { parseCgroupPath, type CgroupAttribution } from '../trace/cgroup-path.ts';
import {
  TRACE_FORMAT, TRACE_FORMAT_VERSION_GUESTS, emptyCounts, type GuestSummary, type KindCounts, type TraceEvent,
  type TraceFooter, type TraceHeader,
} from '../trace/format.ts';
import {
  estimateClock, guestToMergedTs, parseGuestLine, type ClockEstimate, type ClockSample, type GuestHello,
} from '../trace/guest.ts';
import { MergeQueue } from '../trace/merge.ts';
import { readLines } from './guest/link.ts';
import { CgroupIndex, cgroup2Dir, cgroupId } from './cgroup-fs.ts';
import { preflight } from './preflight.ts';
import { TraceSession, type SessionResult } from './session.ts';
import { EbpfUnavailableError, TraceUsageError } from './errors.ts';
import type { PodInfo } from './pods.ts';
import { katabotVersion } from './version.ts';
import { TraceWriter } from './writer.ts';

/** Pods of the node by UID, for pod and container names (the API server's view, cached). */
export interface PodDirectory {
  /** What is known now. */
  get(uid: string): PodInfo | undefined;
  /** Asks for a pod not known yet; it may become known later. */
  want(uid: string): void;
}

/** A PodDirectory backed by the API server: pods on this node (all namespaces), listed again at most every 2 s when
 * a wanted UID is missing. */
export async function kubernetesPodDirectory(
  nodeName: string | undefined, log: (line: string) => void, kubeConfig?: import('@kubernetes/client-node').KubeConfig,
): Promise<PodDirectory> {
  const k8s = await import('@kubernetes/client-node');
  const { podInfoFromObject } = await import('./pods.ts');
  let kc = kubeConfig;
  if (!kc) {
    kc = new k8s.KubeConfig();
    kc.loadFromDefault();
  }
  const api = kc.makeApiClient(k8s.CoreV1Api);
  const pods = new Map<string, PodInfo>();
  let last = 0;
  let busy = false;
  let warned = false;
  const refresh = async (): Promise<void> => {
    if (busy || Date.now() - last < 2000) return;
    busy = true;
    last = Date.now();
    try {
      const list = await api.listPodForAllNamespaces(nodeName ? { fieldSelector: `spec.nodeName=${nodeName}` } : {});
      for (const p of list.items) {
        const info = podInfoFromObject(p);
        if (info.uid) pods.set(info.uid, info);
      }
    } catch (err) {
      if (!warned) log(`cannot list pods from the API server (${(err as Error).message.split('\n')[0]}); names come from the guests only`);
      warned = true;
    } finally {
      busy = false;
    }
  };
  return {
    get: (uid) => pods.get(uid),
    want: (uid) => { if (!pods.has(uid)) void refresh(); },
  };
}

export interface CollectorOptions {
  /** The merged trace. */
  out: string;
  /** TCP port for guest streams (0: any free port, see onListening). */
  port: number;
  listenHost?: string;
  /** The host's cgroup2 hierarchy (e.g. /host/sys/fs/cgroup in the DaemonSet). */
  cgroupRoot?: string;
  /** Host cgroups to trace, relative to the root; default: the kubepods tree found, and /kata_overhead. */
  hostCgroups?: string[];
  /** false: merge guest streams only (no host tracer). */
  traceHost?: boolean;
  pods?: PodDirectory;
  signal?: AbortSignal;
  log?: (line: string) => void;
  onListening?: (port: number) => void;
  /** Every merged event as it is written. */
  onEvent?: (event: TraceEvent) => void;
  clockProbeMs?: number;
  drainMs?: number;
}

export interface CollectorResult {
  header: TraceHeader;
  footer: TraceFooter;
  /** Events written after a later one (a stalled guest caught up). */
  late: number;
  host?: SessionResult;
}

const KUBEPODS_CANDIDATES = ['/kubepods.slice', '/kubepods', '/kubelet.slice/kubelet-kubepods.slice', '/kubelet/kubepods'];
const KATA_OVERHEAD = '/kata_overhead';

/** The host cgroups a collector traces: the kubepods trees that exist, and Kata's overhead cgroup. */
function defaultHostCgroups(root: string): string[] {
  const found = KUBEPODS_CANDIDATES.filter((p) => existsSync(join(root, p)));
  return [...found, KATA_OVERHEAD];
}

interface GuestStream {
  uid: string;
  hello: GuestHello;
  startNs?: bigint;
  samples: ClockSample[];
  clock?: ClockEstimate;
  /** events and the last tick that came before the first clock estimate */
  waiting: TraceEvent[];
  waitingTick?: number;
  sent: Map<number, bigint>;
  socket?: Socket;
  startupMs?: number;
  memoryKib?: number;
  dropped: number;
  footer?: TraceFooter;
  events: number;
  malformed: number;
}

function guestSource(uid: string): string {
  return `guest:${uid}`;
}

function isFinishRequest(line: string): boolean {
  try {
    return (JSON.parse(line) as { type?: unknown }).type === 'finish';
  } catch {
    return false;
  }
}

const isLoopback = (addr: string | undefined): boolean => addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1';

export class Collector {
  readonly #o: CollectorOptions;
  readonly #log: (line: string) => void;
  readonly #writer: TraceWriter;
  readonly #queue: MergeQueue;
  readonly #index: CgroupIndex | undefined;
  readonly #guests = new Map<string, GuestStream>();
  readonly #parsed = new Map<string, CgroupAttribution | null>();
  /** Kata sandboxes seen on the host: sandbox id → pod UID, and back */
  readonly #sandboxUid = new Map<string, string>();
  readonly #uidSandbox = new Map<string, string>();
  readonly #counts: KindCounts = emptyCounts();
  #truncated = 0;
  #server!: Server;
  #engine: TraceSession | undefined;
  #startNs!: bigint;
  #startWall!: number;
  #header!: TraceHeader;
  #timers: NodeJS.Timeout[] = [];
  #finished: Promise<CollectorResult> | undefined;
  #probeSeq = 0;
  #hostCgroups: string[] = [];
  #hostMalformed = 0;

  readonly #done: Promise<CollectorResult>;
  #onDone!: (r: CollectorResult) => void;
  #onFailed!: (err: unknown) => void;

  private constructor(o: CollectorOptions, index: CgroupIndex | undefined) {
    this.#done = new Promise((resolve, reject) => { this.#onDone = resolve; this.#onFailed = reject; });
    this.#o = o;
    this.#log = o.log ?? (() => {});
    this.#index = index;
    this.#writer = new TraceWriter(o.out);
    this.#queue = new MergeQueue({ emit: (e) => this.#write(e) });
  }

  static async start(o: CollectorOptions): Promise<Collector> {
    const log = o.log ?? (() => {});
    let engine: TraceSession | undefined;
    let hostCgroups: string[] = [];
    let collector: Collector | undefined;
    if (o.traceHost !== false) {
      try {
        const pre = await preflight();
        const root = o.cgroupRoot !== undefined ? cgroup2Dir(o.cgroupRoot) : pre.cgroupRoot;
        const index = new CgroupIndex(root, { maxDepth: 12 });
        collector = new Collector(o, index);
        hostCgroups = o.hostCgroups ?? defaultHostCgroups(root);
        const targets: bigint[] = [];
        for (const p of hostCgroups) {
          const dir = join(root, p);
          if (!existsSync(dir) && p === KATA_OVERHEAD && hostCgroups.some((h) => h !== KATA_OVERHEAD && existsSync(join(root, h)))) {
            // Kata creates it with its first legacy-mode sandbox; made now, the filter compiled at start covers it
            try { mkdirSync(dir); log(`created ${p}: Kata VMMs placed there later are traced too`); } catch (err) { log(`cannot create ${p}: ${(err as Error).message}`); }
          }
          if (existsSync(dir)) targets.push(cgroupId(dir));
        }
        if (targets.length === 0) {
          log(`none of ${hostCgroups.join(', ')} exists under ${root}: the host side is not traced`);
          hostCgroups = [];
        } else {
          const c = collector;
          engine = await TraceSession.start({
            preflight: pre,
            scope: { kind: 'cgroups', targets },
            target: { mode: 'node', cgroups: hostCgroups },
            // the merged trace is written by the collector
            out: null,
            attribute: (id) => ({ cgroup: index.lookup(id) ?? `id:${id}` }),
            onEvent: (e) => c.#hostEvent(e),
            log,
          });
        }
      } catch (err) {
        if (!(err instanceof EbpfUnavailableError)) throw err;
        log(`host not traced: ${err.message}`);
        // still the place where this node's Kata sandboxes are looked for
        if (collector) collector.#hostCgroups = hostCgroups;
        hostCgroups = [];
      }
    }
    collector ??= new Collector(o, undefined);
    await collector.#begin(engine, hostCgroups);
    return collector;
  }

  get port(): number {
    const a = this.#server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  get header(): TraceHeader {
    return this.#header;
  }

  #now(): number {
    return Number(process.hrtime.bigint() - this.#startNs);
  }

  async #begin(engine: TraceSession | undefined, hostCgroups: string[]): Promise<void> {
    this.#engine = engine;
    if (hostCgroups.length > 0) this.#hostCgroups = hostCgroups;
    this.#startNs = engine?.startNs ?? process.hrtime.bigint();
    this.#startWall = Date.now() - Number(process.hrtime.bigint() - this.#startNs) / 1e6;
    const h = engine?.header;
    this.#header = {
      type: 'header', format: TRACE_FORMAT, version: TRACE_FORMAT_VERSION_GUESTS, katabot: katabotVersion(), source: 'bpftrace',
      bpftrace: h?.bpftrace ?? null, kernel: release(), host: hostname(), start: h?.start ?? new Date(this.#startWall).toISOString(),
      target: { mode: 'node', ...(hostCgroups.length > 0 ? { cgroups: hostCgroups } : {}) },
      limits: h?.limits ?? { strlen: DEFAULT_PROGRAM_OPTIONS.strlen, max_args: DEFAULT_PROGRAM_OPTIONS.maxArgs },
    };
    this.#writer.write(this.#header);
    if (engine) this.#queue.addSource('host', 0);
    this.#scanSandboxes();
    this.#server = createServer((s) => this.#connection(s));
    try {
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', reject);
        this.#server.listen(this.#o.port, this.#o.listenHost ?? '0.0.0.0', () => resolve());
      });
    } catch (err) {
      await this.#engine?.abort();
      await this.#writer.close();
      this.#writer.discard();
      throw new TraceUsageError(`cannot listen for guests on port ${this.#o.port}: ${(err as Error).message}`, 1);
    }
    this.#o.onListening?.(this.port);
    this.#timers.push(setInterval(() => this.#drain(), this.#o.drainMs ?? 250));
    this.#timers.push(setInterval(() => { for (const g of this.#guests.values()) this.#probe(g); }, this.#o.clockProbeMs ?? 2000));
    this.#timers.push(setInterval(() => this.#scanSandboxes(), 2000));
    this.#o.signal?.addEventListener('abort', () => void this.finish(), { once: true });
  }

  #drain(): void {
    const now = this.#now();
    if (this.#engine) {
      // the flush marker makes the host tracer hand over what its one-second reorder window holds
      try { process.kill(MARKER_BASE, 0); } catch { /* ESRCH: the probe fired anyway */ }
      this.#queue.advance('host', now - 2_000_000_000, now);
    }
    this.#queue.drain(now);
    this.#writer.flush();
  }

  /** Kata sandboxes on the host, in the traced cgroups: `kata_<id>` below a pod cgroup, `/kata_overhead/<id>`.
   * (A kind node sees the other nodes' cgroups too: they are not its sandboxes.) */
  #scanSandboxes(): void {
    if (!this.#index) return;
    this.#index.scan();
    const within = (path: string): boolean => this.#hostCgroups.some((h) => path === h || path.startsWith(`${h}/`));
    for (const [, path] of this.#index.entries()) {
      if (!within(path)) continue;
      const a = this.#attribution(path);
      if (a?.kind === 'kata-sandbox' && a.containerId && a.podUid) {
        if (!this.#sandboxUid.has(a.containerId)) this.#o.pods?.want(a.podUid);
        this.#sandboxUid.set(a.containerId, a.podUid);
        this.#uidSandbox.set(a.podUid, a.containerId);
      }
    }
  }

  #attribution(path: string | undefined): CgroupAttribution | undefined {
    if (path === undefined) return undefined;
    let a = this.#parsed.get(path);
    if (a === undefined) {
      a = parseCgroupPath(path) ?? null;
      if (this.#parsed.size > 100_000) this.#parsed.clear();
      this.#parsed.set(path, a);
    }
    return a ?? undefined;
  }

  #pod(uid: string | undefined): { namespace: string; name: string; containers: Map<string, string> } | undefined {
    if (!uid) return undefined;
    const known = this.#o.pods?.get(uid);
    if (known) return known;
    const g = this.#guests.get(uid);
    return g ? { namespace: g.hello.namespace, name: g.hello.pod, containers: new Map() } : undefined;
  }

  #hostEvent(e: TraceEvent): void {
    const a = this.#attribution(e.cgroup);
    const uid = a?.kind === 'kata-overhead' ? this.#sandboxUid.get(a.containerId ?? '') : a?.podUid;
    if (uid && !this.#o.pods?.get(uid)) this.#o.pods?.want(uid);
    this.#queue.push('host', e, this.#now());
  }

  /** Names are filled in as the event is written: by then the API server (or the guest's hello) has answered. */
  #enrichHost(e: TraceEvent): void {
    e.kernel = 'host';
    // a cgroup made just before the event (a container starting) may have been unknown then; it is known by now
    if (e.cgroup?.startsWith('id:')) e.cgroup = this.#index?.lookup(e.cgroup.slice(3)) ?? e.cgroup;
    const a = this.#attribution(e.cgroup);
    if (!a) return;
    let uid = a.podUid;
    if (a.kind === 'kata-sandbox' || a.kind === 'kata-overhead') {
      e.sandbox = a.containerId;
      uid ??= this.#sandboxUid.get(a.containerId ?? '');
    }
    const pod = this.#pod(uid);
    if (a.kind === 'container' && a.containerId) {
      e.container = pod?.containers.get(a.containerId) ?? a.containerId;
      e.container_id = a.containerId;
    }
    if (pod) {
      e.pod = pod.name;
      e.namespace = pod.namespace;
    }
  }

  #enrichGuest(g: GuestStream, e: TraceEvent): void {
    e.kernel = 'guest';
    const sandbox = this.#uidSandbox.get(g.uid);
    if (sandbox) e.sandbox = sandbox;
    const pod = this.#o.pods?.get(g.uid);
    e.pod = pod?.name ?? g.hello.pod;
    e.namespace = pod?.namespace ?? g.hello.namespace;
    if (e.container_id) e.container = pod?.containers.get(e.container_id) ?? e.container_id;
  }

  #write(e: TraceEvent): void {
    const uid = this.#guestOf.get(e);
    const g = uid !== undefined ? this.#guests.get(uid) : undefined;
    if (g) this.#enrichGuest(g, e);
    else this.#enrichHost(e);
    this.#counts[e.kind] += e.count ?? 1;
    if (e.truncated) this.#truncated++;
    this.#writer.write(e);
    this.#o.onEvent?.(e);
  }

  readonly #guestOf = new WeakMap<TraceEvent, string>();

  #connection(s: Socket): void {
    s.setNoDelay(true);
    let g: GuestStream | undefined;
    readLines(s, (line) => {
      if (!g && isLoopback(s.remoteAddress) && isFinishRequest(line)) {
        void this.finish().then((r) => {
          s.end(`${JSON.stringify({ type: 'finished', out: this.#o.out, events: Object.values(r.footer.counts).reduce((a, b) => a + b, 0), guests: r.footer.guests?.length ?? 0, lost: r.footer.lost.total })}\n`);
        });
        return false;
      }
      g = this.#line(s, g, line);
      return true;
    });
    s.on('error', () => { /* 'close' follows */ });
    s.on('close', () => {
      if (!g || g.socket !== s) return;
      g.socket = undefined;
      this.#queue.removeSource(guestSource(g.uid));
    });
  }

  #line(s: Socket, g: GuestStream | undefined, line: string): GuestStream | undefined {
    if (this.#finished) return g;
    const m = parseGuestLine(line);
    if (typeof m === 'string') {
      if (g) g.malformed++;
      else this.#hostMalformed++;
      this.#log(`guest ${g ? `${g.hello.namespace}/${g.hello.pod}` : s.remoteAddress}: ${m}`);
      return g;
    }
    if (m.type === 'hello') return this.#hello(s, m);
    if (!g) {
      this.#log(`${s.remoteAddress}: ${m.type} before hello, ignored`);
      return g;
    }
    const now = this.#now();
    switch (m.type) {
      case 'event':
        g.events++;
        if (!g.clock) { g.waiting.push(m); break; }
        this.#pushGuest(g, m, now);
        break;
      case 'tick':
        if (!g.clock) { g.waitingTick = m.ts; break; }
        this.#queue.advance(guestSource(g.uid), this.#mapTs(g, m.ts), now);
        break;
      case 'clock': {
        const sent = g.sent.get(m.id);
        if (sent === undefined || m.guest_ns === undefined) break;
        g.sent.delete(m.id);
        g.samples.push({ hostSent: sent, guest: BigInt(m.guest_ns), hostReceived: process.hrtime.bigint() });
        if (g.samples.length > 64) g.samples.splice(0, g.samples.length - 64);
        const first = !g.clock;
        g.clock = estimateClock(g.samples);
        if (first && g.clock) {
          for (const e of g.waiting) this.#pushGuest(g, e, now);
          g.waiting = [];
          if (g.waitingTick !== undefined) this.#queue.advance(guestSource(g.uid), this.#mapTs(g, g.waitingTick), now);
        }
        break;
      }
      case 'ready': g.startupMs = m.startup_ms; break;
      case 'stats': g.memoryKib = m.memory_kib; g.dropped = m.dropped ?? g.dropped; break;
      case 'footer': g.footer = m; break;
    }
    return g;
  }

  #mapTs(g: GuestStream, ts: number): number {
    return guestToMergedTs(ts, g.startNs ?? 0n, g.clock?.offsetNs ?? 0n, this.#startNs);
  }

  #pushGuest(g: GuestStream, e: TraceEvent, now: number): void {
    e.ts = this.#mapTs(g, e.ts);
    this.#guestOf.set(e, g.uid);
    this.#queue.push(guestSource(g.uid), e, now);
  }

  #hello(s: Socket, h: GuestHello): GuestStream {
    let g = this.#guests.get(h.uid);
    const startNs = h.start_ns !== undefined ? BigInt(h.start_ns) : undefined;
    if (!g || (startNs !== undefined && g.startNs !== undefined && startNs !== g.startNs)) {
      // a new guest, or the tracer of this pod restarted (its times count from a new start)
      g = { uid: h.uid, hello: h, samples: [], waiting: [], sent: new Map(), dropped: 0, events: g?.events ?? 0, malformed: g?.malformed ?? 0 };
      if (startNs !== undefined) g.startNs = startNs;
      this.#guests.set(h.uid, g);
      this.#log(`guest ${h.namespace}/${h.pod}: ${h.status === 'traced' ? `streaming (kernel ${h.kernel ?? '?'})` : `not traced (${h.reason ?? '?'})`}`);
    }
    g.hello = h;
    g.socket = s;
    this.#o.pods?.want(h.uid);
    if (h.status === 'traced') {
      this.#queue.addSource(guestSource(h.uid), this.#now());
      this.#probe(g);
    }
    return g;
  }

  #probe(g: GuestStream): void {
    if (!g.socket || g.hello.status !== 'traced') return;
    const id = ++this.#probeSeq;
    const hostNs = process.hrtime.bigint();
    g.sent.set(id, hostNs);
    if (g.sent.size > 64) g.sent.delete(g.sent.keys().next().value!);
    g.socket.write(`${JSON.stringify({ type: 'clock', id, host_ns: hostNs.toString() })}\n`);
  }

  /** The guests of the trace: those that streamed, and Kata sandboxes seen on the host that did not. */
  #guestSummaries(): GuestSummary[] {
    const out: GuestSummary[] = [];
    for (const g of this.#guests.values()) {
      const pod = this.#o.pods?.get(g.uid);
      const s: GuestSummary = { namespace: pod?.namespace ?? g.hello.namespace, pod: pod?.name ?? g.hello.pod, uid: g.uid, status: g.hello.status };
      const sandbox = this.#uidSandbox.get(g.uid);
      if (sandbox) s.sandbox = sandbox;
      if (pod?.runtimeClassName) s.runtime_class = pod.runtimeClassName;
      if (g.hello.reason) s.reason = g.hello.reason;
      if (g.hello.kernel) s.kernel = g.hello.kernel;
      if (g.hello.bpftrace) s.bpftrace = g.hello.bpftrace;
      if (g.clock) { s.clock_offset_ns = Number(g.clock.offsetNs); s.clock_rtt_ns = Number(g.clock.rttNs); }
      if (g.startupMs !== undefined) s.startup_ms = g.startupMs;
      if (g.memoryKib !== undefined) s.memory_kib = g.memoryKib;
      if (g.hello.status === 'traced') {
        s.events = g.events;
        s.lost = (g.footer?.lost.total ?? 0) + g.dropped;
        s.complete = g.footer !== undefined;
      }
      out.push(s);
    }
    for (const [sandbox, uid] of this.#sandboxUid) {
      if (this.#guests.has(uid)) continue;
      const pod = this.#o.pods?.get(uid);
      const reason = annotationReason(pod?.annotations?.[GUEST_TRACER_ANNOTATION]) ?? 'no tracer';
      const s: GuestSummary = { namespace: pod?.namespace ?? '', pod: pod?.name ?? `pod-${uid}`, uid, sandbox, status: 'not traced', reason };
      if (pod?.runtimeClassName) s.runtime_class = pod.runtimeClassName;
      out.push(s);
    }
    return out.sort((a, b) => `${a.namespace}/${a.pod}/${a.uid}`.localeCompare(`${b.namespace}/${b.pod}/${b.uid}`));
  }

  /** Ends the trace: stops the host tracer, writes what is held and the footer. Later calls return the same. */
  finish(): Promise<CollectorResult> {
    if (!this.#finished) {
      this.#finished = this.#finish();
      this.#finished.then(this.#onDone, this.#onFailed);
    }
    return this.#finished;
  }

  /** Resolves once the trace has ended (by finish(), the signal, or a `finish` request), without ending it. */
  done(): Promise<CollectorResult> {
    return this.#done;
  }

  async #finish(): Promise<CollectorResult> {
    for (const t of this.#timers) clearInterval(t);
    let host: SessionResult | undefined;
    if (this.#engine) host = await this.#engine.stop(null);
    this.#scanSandboxes();
    // guests whose clock never came (a stream of a few lines): their events still belong in the trace
    for (const g of this.#guests.values()) {
      for (const e of g.waiting) this.#pushGuest(g, e, this.#now());
      g.waiting = [];
    }
    this.#queue.finish();
    this.#server.close();
    for (const g of this.#guests.values()) g.socket?.destroy();
    const guests = this.#guestSummaries();
    const traced = [...this.#guests.values()].filter((g) => g.hello.status === 'traced');
    const lostOf = (f: TraceFooter | undefined): TraceFooter['lost'] => f?.lost ?? { reported: 0, gap: 0, incomplete: 0, total: 0 };
    const parts = [lostOf(host?.footer), ...traced.map((g) => lostOf(g.footer))];
    const sum = (k: keyof TraceFooter['lost']): number => parts.reduce((a, l) => a + Math.max(0, l[k]), 0);
    // a guest stream that ended without its footer was cut short; events it could not send are lost too
    const cut = traced.filter((g) => !g.footer).length;
    const dropped = traced.reduce((a, g) => a + g.dropped, 0);
    const total = sum('total') + cut + dropped;
    const footer: TraceFooter = {
      type: 'footer',
      counts: { ...this.#counts },
      lost: { reported: sum('reported'), gap: sum('gap'), incomplete: sum('incomplete') + cut, total },
      malformed: (host?.footer.malformed ?? 0) + this.#hostMalformed + traced.reduce((a, g) => a + g.malformed + (g.footer?.malformed ?? 0), 0),
      truncated: this.#truncated,
      duration_ms: Math.round(Date.now() - this.#startWall),
      end: new Date().toISOString(),
      exit_code: null,
      guests,
    };
    this.#writer.write(footer);
    await this.#writer.close();
    this.#log(`merged trace ${this.#o.out}: ${Object.values(footer.counts).reduce((a, b) => a + b, 0)} events, ${guests.length} guest(s), ${total} lost`);
    return { header: this.#header, footer, late: this.#queue.late, ...(host ? { host } : {}) };
  }
}
