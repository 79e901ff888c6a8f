// The node collector (src/tracer/collector.ts) on this host:
// - the host side with real bpftrace: a runc-like pod and a Kata-shaped sandbox in a kubepods tree of cgroups made
//   here, names from the Kubernetes API (the API-server double), the sandbox's pod listed as a guest not traced,
//   with the webhook's reason when its annotation gives one;
// - the guest stream protocol over real TCP, from scripted guest streams: clock offsets removed, events merged in
//   time order, guests that cannot be traced, streams cut short, malformed lines, `katabot collect --finish`.
// The real guest tracer in a real guest kernel is test/integration/guest-vm.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { finishCollector } from '../../src/cli/collect.ts';
import { GUEST_TRACER_ANNOTATION } from '../../src/jobs/inject.ts';
import { parseTrace, type Trace, type TraceEvent } from '../../src/trace/format.ts';
import { cgroup2Root, removeCgroup } from '../../src/tracer/cgroup-fs.ts';
import { Collector, kubernetesPodDirectory } from '../../src/tracer/collector.ts';
import { CollectorLink, readLines } from '../../src/tracer/guest/link.ts';
import { preflight } from '../../src/tracer/preflight.ts';
import { EbpfUnavailableError } from '../../src/tracer/errors.ts';
import { startKubeApiServer, type KubeApiDouble } from '../fixtures/kube-apiserver.ts';

async function ebpfUnavailable(): Promise<string | undefined> {
  try {
    await preflight();
    return undefined;
  } catch (err) {
    if (err instanceof EbpfUnavailableError) return err.message;
    throw err;
  }
}
const NO_EBPF = await ebpfUnavailable();
if (NO_EBPF) console.log(`# skipping the collector's host side: ${NO_EBPF}`);

/** A scripted guest stream: what a guest tracer sends, with a guest clock `offsetNs` ahead of the host's. */
class ScriptedGuest {
  readonly socket: Socket;
  readonly offsetNs: bigint;
  #rest = '';

  private constructor(socket: Socket, offsetNs: bigint) {
    this.socket = socket;
    this.offsetNs = offsetNs;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#rest += chunk;
      let nl: number;
      while ((nl = this.#rest.indexOf('\n')) >= 0) {
        const m = JSON.parse(this.#rest.slice(0, nl)) as { type: string; id: number; host_ns: string };
        this.#rest = this.#rest.slice(nl + 1);
        // answer clock probes as the guest would: its own clock, read on arrival
        if (m.type === 'clock') this.send({ ...m, guest_ns: (process.hrtime.bigint() + this.offsetNs).toString() });
      }
    });
  }

  static async connect(port: number, offsetNs: bigint): Promise<ScriptedGuest> {
    const s = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => { s.once('connect', () => resolve()); s.once('error', reject); });
    return new ScriptedGuest(s, offsetNs);
  }

  /** The guest's clock now. */
  now(): bigint {
    return process.hrtime.bigint() + this.offsetNs;
  }

  send(v: unknown): void {
    this.socket.write(`${typeof v === 'string' ? v : JSON.stringify(v)}\n`);
  }

  /** Ends the stream; resolves once closed (at once if the collector closed it already). */
  end(): Promise<void> {
    if (this.socket.closed) return Promise.resolve();
    return new Promise((resolve) => { this.socket.once('close', () => resolve()); this.socket.end(); });
  }
}

const footer = (lost = 0) => ({
  type: 'footer', counts: { exec: 1, exit: 0, open: 0, connect: 0, accept: 0, listen: 0, dns: 0 },
  lost: { reported: lost, gap: 0, incomplete: 0, total: lost }, malformed: 0, truncated: 0, duration_ms: 1, end: '', exit_code: null,
});

describe('the collector merging guest streams', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'katabot-collector-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('puts guest events on its own time line, merges them in order, and lists every guest', async () => {
    const out = join(dir, 'merged.jsonl');
    const collector = await Collector.start({ out, port: 0, listenHost: '127.0.0.1', traceHost: false, drainMs: 50, clockProbeMs: 100 });
    const hostStart = process.hrtime.bigint();
    // guest A: its clock 5 s ahead of the host's; guest B: 3 s behind
    const a = await ScriptedGuest.connect(collector.port, 5_000_000_000n);
    const b = await ScriptedGuest.connect(collector.port, -3_000_000_000n);
    const startA = a.now();
    const startB = b.now();
    a.send({ type: 'hello', protocol: 1, namespace: 'ns', pod: 'pod-a', uid: 'uid-a', kernel: '6.1.0', bpftrace: 'v0.17.0', status: 'traced', start_ns: startA.toString() });
    b.send({ type: 'hello', protocol: 1, namespace: 'ns', pod: 'pod-b', uid: 'uid-b', kernel: '6.1.0', status: 'traced', start_ns: startB.toString() });
    a.send({ type: 'ready', startup_ms: 1234 });
    // events 100 ms apart, alternating between the guests in real time
    const ev = (g: ScriptedGuest, start: bigint, comm: string): TraceEvent => ({ type: 'event', ts: Number(g.now() - start), kind: 'exec', pid: 7, exe: `/bin/${comm}`, comm, argv: [comm], result: 0, container_id: 'c'.repeat(64) });
    for (let i = 0; i < 3; i++) {
      b.send(ev(b, startB, `b${i}`));
      await delay(100);
      a.send(ev(a, startA, `a${i}`));
      await delay(100);
    }
    a.send({ type: 'tick', ts: Number(a.now() - startA) });
    b.send({ type: 'tick', ts: Number(b.now() - startB) });
    a.send({ type: 'stats', memory_kib: 150_000, dropped: 0 });
    a.send(footer());
    await a.end();
    // guest B ends without its footer: cut short
    await b.end();
    // guest C cannot be traced; a stranger sends garbage
    const c = await ScriptedGuest.connect(collector.port, 0n);
    c.send({ type: 'hello', protocol: 1, namespace: 'ns', pod: 'pod-c', uid: 'uid-c', kernel: '6.1.0', status: 'not traced', reason: 'no BTF' });
    const d = await ScriptedGuest.connect(collector.port, 0n);
    d.send('{"type":');
    d.send({ type: 'event', ts: 1, kind: 'exec', pid: 1 });
    await delay(300);
    const r = await finishCollector(collector.port, 20_000);
    assert.equal(r.out, out);
    await c.end();
    await d.end();

    const t: Trace = parseTrace(readFileSync(out, 'utf8'));
    assert.equal(t.header.version, '1.2');
    assert.equal(t.header.target.mode, 'node');
    assert.deepEqual(t.events.map((e) => e.comm), ['b0', 'a0', 'b1', 'a1', 'b2', 'a2']);
    for (const e of t.events) {
      assert.equal(e.kernel, 'guest');
      assert.equal(e.pod, e.comm!.startsWith('a') ? 'pod-a' : 'pod-b');
      assert.equal(e.container, 'c'.repeat(64), 'without the API, the container keeps its id');
      // on the host's time line: within the run, whatever the guest's clock said
      assert.ok(e.ts >= 0 && e.ts < Number(process.hrtime.bigint() - hostStart) + 1e9, `${e.comm} at ${e.ts}`);
    }
    const guests = t.footer.guests!;
    assert.deepEqual(guests.map((g) => [g.pod, g.status, g.reason, g.complete]), [
      ['pod-a', 'traced', undefined, true], ['pod-b', 'traced', undefined, false], ['pod-c', 'not traced', 'no BTF', undefined],
    ]);
    const ga = guests[0]!;
    assert.ok(Math.abs(ga.clock_offset_ns! - 5e9) < 50e6, `offset ${ga.clock_offset_ns}`);
    assert.ok(Math.abs(guests[1]!.clock_offset_ns! + 3e9) < 50e6, `offset ${guests[1]!.clock_offset_ns}`);
    assert.deepEqual([ga.startup_ms, ga.memory_kib, ga.events, ga.lost, ga.kernel, ga.bpftrace], [1234, 150_000, 3, 0, '6.1.0', 'v0.17.0']);
    assert.equal(t.footer.lost.incomplete, 1, 'the stream cut short');
    assert.equal(t.footer.lost.total, 1);
    assert.equal(t.footer.malformed, 1, 'the garbage line (the event before a hello is ignored, not malformed)');
    assert.equal(t.footer.counts.exec, 6);
  });

  it('a collector with no guest ends with an empty guest list; a second finish returns the same trace', async () => {
    const out = join(dir, 'again.jsonl');
    const collector = await Collector.start({ out, port: 0, listenHost: '127.0.0.1', traceHost: false });
    const first = await finishCollector(collector.port, 10_000).catch((err: Error) => err);
    assert.ok(!(first instanceof Error), String(first));
    const again = await collector.finish();
    assert.equal(again, await collector.finish());
    assert.equal(again.footer.type, 'footer');
    assert.deepEqual(parseTrace(readFileSync(out, 'utf8')).footer.guests, []);
  });
});

describe('the guest tracer\'s link to the collector', () => {
  /** A server collecting the lines of each connection. */
  async function lineServer(port = 0): Promise<{ server: Server; port: number; connections: string[][]; sockets: Socket[] }> {
    const connections: string[][] = [];
    const sockets: Socket[] = [];
    const server = createServer((s) => {
      const lines: string[] = [];
      connections.push(lines);
      sockets.push(s);
      readLines(s, (l) => { lines.push(l); });
    });
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', () => resolve()); });
    return { server, port: (server.address() as { port: number }).port, connections, sockets };
  }
  const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
    for (const end = Date.now() + ms; !cond() && Date.now() < end;) await delay(20);
  };

  it('cuts off a peer that sends a line longer than the limit, after the lines before it', async () => {
    const lines: string[] = [];
    let closed = false;
    const server = createServer((s) => {
      readLines(s, (l) => { lines.push(l); }, 1000);
      s.on('close', () => { closed = true; });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const client = connect((server.address() as { port: number }).port, '127.0.0.1');
    client.on('error', () => {});
    try {
      client.write('ok\n' + 'x'.repeat(600));
      client.write('x'.repeat(600));
      await until(() => closed);
      assert.ok(closed, 'the connection was closed');
      assert.deepEqual(lines, ['ok']);
    } finally {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('waits for a collector that is not there yet, sends its hello first on every connection, and buffers meanwhile', async () => {
    const probe = await lineServer();
    const port = probe.port;
    await new Promise<void>((resolve) => probe.server.close(() => resolve()));
    const link = new CollectorLink({ host: '127.0.0.1', port, onLine: () => {}, maxBackoffMs: 100 });
    try {
      const connected = link.start();
      link.setHello('hello');
      link.send('e1');
      await delay(300);
      const first = await lineServer(port);
      await connected;
      link.send('e2');
      await until(() => first.connections[0]?.length === 3);
      assert.deepEqual(first.connections, [['hello', 'e1', 'e2']]);
      // the collector restarts: the link comes back and says hello again before anything else
      for (const sock of first.sockets) sock.destroy();
      await new Promise<void>((resolve) => first.server.close(() => resolve()));
      await until(() => link.reconnects === 1 || link.dropped > 0, 2000);
      link.send('e3');
      const second = await lineServer(port);
      await until(() => second.connections[0]?.length === 2);
      assert.deepEqual(second.connections, [['hello', 'e3']]);
      assert.equal(link.reconnects, 1);
      assert.equal(link.dropped, 0);
      second.server.close();
    } finally {
      await link.close();
    }
  });

  it('drops and counts what does not fit while the collector is away', async () => {
    const link = new CollectorLink({ host: '127.0.0.1', port: 1, onLine: () => {}, maxBufferedBytes: 10, maxBackoffMs: 100 });
    void link.start();
    for (let i = 0; i < 5; i++) link.send('0123');
    assert.equal(link.dropped, 3, 'two lines of 5 bytes fit in 10');
    await link.close();
  });
});

describe('the collector\'s host side', { skip: NO_EBPF }, () => {
  let api: KubeApiDouble;
  let base: string;
  let dir: string;
  before(async () => {
    api = await startKubeApiServer();
    base = join(cgroup2Root(), `katabot-collector-test-${process.pid}`);
    dir = mkdtempSync(join(tmpdir(), 'katabot-collector-host-'));
  });
  after(async () => {
    removeCgroup(base, cgroup2Root());
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('traces a runc pod created after it started and a Kata sandbox in the kubepods tree, names them, and lists the guest not traced', async () => {
    const core = api.kubeConfig.makeApiClient(CoreV1Api);
    const cid = randomBytes(32).toString('hex');
    const sandbox = randomBytes(32).toString('hex');
    const runc = api.seed({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-7d9c8b6f5d-x2x7q', namespace: 'default' }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } });
    await core.replaceNamespacedPodStatus({ name: runc.metadata.name, namespace: 'default', body: { ...runc, status: { containerStatuses: [{ name: 'nginx', containerID: `containerd://${cid}`, image: 'nginx', imageID: '', ready: true, restartCount: 0 }] } } });
    const tdx = api.seed({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tdx-pod', namespace: 'kata-containers-k8s-tests', annotations: { [GUEST_TRACER_ANNOTATION]: 'not traced: confidential' } },
      spec: { runtimeClassName: 'kata-qemu-tdx', containers: [{ name: 'c', image: 'busybox' }] },
    });
    const containerDir = join(base, 'kubepods', 'besteffort', `pod${runc.metadata.uid}`, cid);
    const kataDir = join(base, 'kubepods', 'besteffort', `pod${tdx.metadata.uid}`, `kata_${sandbox}`);
    mkdirSync(kataDir, { recursive: true });
    const out = join(dir, 'node.jsonl');
    const collector = await Collector.start({
      out, port: 0, listenHost: '127.0.0.1', hostCgroups: [`${base.slice(cgroup2Root().length)}/kubepods`],
      pods: await kubernetesPodDirectory(undefined, () => {}, api.kubeConfig),
    });
    const runIn = (cg: string, script: string): Promise<void> => new Promise((resolve, reject) => {
      const p = spawn('/bin/sh', ['-c', `echo $$ > "$0/cgroup.procs" && exec /bin/sh -c "$1"`, cg, script], { stdio: 'ignore' });
      p.once('error', reject);
      p.once('close', () => resolve());
    });
    // a pod created after the collector started: below the kubepods tree, so in the filter compiled at start
    mkdirSync(containerDir, { recursive: true });
    await runIn(containerDir, 'cat /etc/hostname > /dev/null');
    // the Kata side: a shim-like process in the sandbox cgroup
    await runIn(kataDir, 'head -c 1 /etc/os-release > /dev/null');
    // outside the kubepods tree: not traced
    await new Promise<void>((resolve) => spawn('/bin/cat', ['/etc/hostname'], { stdio: 'ignore' }).once('close', () => resolve()));
    await delay(500);
    await collector.finish();
    const t = parseTrace(readFileSync(out, 'utf8'));
    const cat = t.events.find((e) => e.kind === 'exec' && e.exe === '/usr/bin/cat' || e.kind === 'exec' && e.exe === '/bin/cat');
    assert.ok(cat, JSON.stringify(t.events.slice(0, 5)));
    assert.deepEqual([cat.kernel, cat.pod, cat.namespace, cat.container, cat.container_id, cat.sandbox], ['host', 'web-7d9c8b6f5d-x2x7q', 'default', 'nginx', cid, undefined]);
    const head = t.events.find((e) => e.kind === 'exec' && e.comm === 'head');
    assert.ok(head);
    assert.deepEqual([head.kernel, head.pod, head.namespace, head.container, head.sandbox], ['host', 'tdx-pod', 'kata-containers-k8s-tests', undefined, sandbox]);
    assert.equal(t.events.filter((e) => e.kind === 'exec' && e.exe?.endsWith('cat')).length, 1, 'the cat outside the kubepods tree is not traced');
    assert.deepEqual(t.footer.guests!.map((g) => [g.namespace, g.pod, g.sandbox, g.status, g.reason, g.runtime_class]), [
      ['kata-containers-k8s-tests', 'tdx-pod', sandbox, 'not traced', 'confidential', 'kata-qemu-tdx'],
    ]);
    assert.equal(t.footer.lost.total, 0);
  });
});
