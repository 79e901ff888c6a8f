// The guest tracer in a real guest kernel (issue 16's "Verify it" test). A small VM boots as Kata boots one
// (test/fixtures/guest-vm.ts): 1 vCPU, 2 GiB, Debian's kernel, a read-only root. Inside, test/fixtures/guest/
// driver.sh plays the kata-agent: the pod's cgroups, katabot's guest tracer in its container's cgroup, streaming
// over the guest network to the node collector on the host, then a known workload (execs, file writes, a burst of
// opens, one outbound connection) in the workload container's cgroup. The collector traces the host side itself:
// the QEMU process sits in a Kata-shaped host cgroup (…/kubepods/besteffort/pod<uid>/kata_<sandbox>), and pod and
// container names come from the Kubernetes API (the API-server double). Three runs side by side, one boot each, each
// running the workload untraced first (the overhead): the base, the same again (the tracer in its own cgroup
// namespace, as under runtime-rs), and a variant with one more exec, file and connection. Checks: guest events say `kernel: guest` with the pod's
// identity; the host side sees QEMU, never the guest's processes; the same code traced twice diffs empty; the
// variant shows exactly its additions. Leaves test-artifacts/guest/{trace.jsonl,diff.json,measurements.json}
// (`npm run e2e:guest` runs this file).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { diffProfiles, diffToJson, hasChanges, type BehaviorDiff } from '../../src/trace/diff.ts';
import { parseTrace, type Trace, type TraceEvent } from '../../src/trace/format.ts';
import { profileTrace } from '../../src/trace/profile.ts';
import { cgroup2Root, removeCgroup } from '../../src/tracer/cgroup-fs.ts';
import { Collector, kubernetesPodDirectory } from '../../src/tracer/collector.ts';
import { preflight } from '../../src/tracer/preflight.ts';
import { EbpfUnavailableError } from '../../src/tracer/errors.ts';
import { GUEST_TRACER_CONTAINER } from '../../src/jobs/inject.ts';
import { buildInitramfs, chooseAccel, findGuestKernel, guestVmUnavailable, QEMU, runVm, type Accel, type GuestKernel } from '../fixtures/guest-vm.ts';
import { startKubeApiServer } from '../fixtures/kube-apiserver.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts', 'guest');
const NS = 'kata-containers-k8s-tests';
const POD = 'guest-e2e';
/** opens of the workload's burst: the event rate the guest tracer keeps up with */
const BURST = 3000;

async function unavailable(): Promise<string | undefined> {
  const vm = guestVmUnavailable();
  if (vm) return vm;
  try {
    await preflight();
  } catch (err) {
    if (err instanceof EbpfUnavailableError) return err.message;
    throw err;
  }
  return undefined;
}
const SKIP = await unavailable();
if (SKIP) console.log(`# skipping the guest-kernel test: ${SKIP}`);

const log = (line: string): void => { if (process.env['KATABOT_GUEST_VERBOSE']) process.stderr.write(`${line}\n`); };

/** A TCP server that answers each line with `pong`, on a fixed port below the ephemeral range so that the same
 * destination has the same key in every run. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const server = createServer((s) => { s.on('data', () => s.write('pong\n')); s.on('error', () => {}); });
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) return { server, port };
  }
  throw new Error('no free port for the echo server');
}

interface Session {
  name: string;
  trace: Trace;
  text: string;
  uid: string;
  sandbox: string;
  result: Record<string, string>;
  console: string;
  tracerLog: string;
}

describe('the guest tracer in a real guest kernel', { skip: SKIP }, () => {
  let kernel: GuestKernel;
  let accel: Accel;
  let work: string;
  let initramfs: string;
  let echo: { server: Server; port: number };
  let echo2: { server: Server; port: number };
  const sessions = new Map<string, Session>();
  const cleanups: Array<() => Promise<void> | void> = [];

  /** One run: its own pod (a new UID, container ids and sandbox, as a rerun of a test gets), API server, host
   * cgroups, collector and VM, so that runs can go side by side. */
  async function session(name: string, env: { variant?: boolean; cgroupns?: boolean }): Promise<Session> {
    // /tmp/katabot-guest-<tmp>/share in every run: the VMM's command line (a host-side item) names it
    const dir = mkdtempSync(join(tmpdir(), 'katabot-guest-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const share = join(dir, 'share');
    mkdirSync(share);
    copyFileSync(join(ROOT, 'test/fixtures/guest/driver.sh'), join(share, 'driver.sh'));
    copyFileSync(join(ROOT, 'test/fixtures/guest/workload.sh'), join(share, 'workload.sh'));
    const api = await startKubeApiServer();
    cleanups.push(() => api.close());
    const core = api.kubeConfig.makeApiClient(CoreV1Api);
    const tracerCid = randomBytes(32).toString('hex');
    const workloadCid = randomBytes(32).toString('hex');
    const sandbox = randomBytes(32).toString('hex');
    const pod = api.seed({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: POD, namespace: NS },
      spec: { runtimeClassName: 'kata-qemu', containers: [{ name: 'workload', image: 'busybox' }], initContainers: [{ name: GUEST_TRACER_CONTAINER, image: 'katabot-tracer', restartPolicy: 'Always' }] },
    });
    const uid: string = pod.metadata.uid;
    // the kubelet reports the containers' ids in the status: the collector names containers from it
    const status = {
      initContainerStatuses: [{ name: GUEST_TRACER_CONTAINER, containerID: `containerd://${tracerCid}`, image: 'katabot-tracer', imageID: '', ready: true, restartCount: 0 }],
      containerStatuses: [{ name: 'workload', containerID: `containerd://${workloadCid}`, image: 'busybox', imageID: '', ready: true, restartCount: 0 }],
    };
    await core.replaceNamespacedPodStatus({ name: POD, namespace: NS, body: { ...pod, status } });
    // the host side as Kata's shim places the VMM (sandbox_cgroup_only): below the pod's cgroup
    const hostBase = join(cgroup2Root(), `katabot-guest-e2e-${process.pid}-${name}`);
    cleanups.push(() => { removeCgroup(hostBase, cgroup2Root()); });
    const kataDir = join(hostBase, 'kubepods', 'besteffort', `pod${uid}`, `kata_${sandbox}`);
    mkdirSync(kataDir, { recursive: true });
    const out = join(share, 'trace.jsonl');
    const collector = await Collector.start({
      out, port: 0, listenHost: '127.0.0.1', hostCgroups: [`${hostBase.slice(cgroup2Root().length)}/kubepods`],
      pods: await kubernetesPodDirectory(undefined, log, api.kubeConfig), log,
    });
    writeFileSync(join(share, 'session.env'), Object.entries({
      POD, NAMESPACE: NS, POD_UID: uid, TRACER_CID: tracerCid, WORKLOAD_CID: workloadCid, COLLECTOR_PORT: collector.port,
      ECHO_PORT: echo.port, ECHO_PORT2: echo2.port, BURST, VARIANT: env.variant ? 1 : 0,
      CGROUPNS: env.cgroupns ? 1 : 0, REPO: ROOT.replace(/\/$/, ''), NODE_BIN: dirname(process.execPath),
    }).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n');
    const vm = await runVm({ kernel, initramfs, share, accel, cgroup: kataDir, env: { KATABOT_REPO: ROOT.replace(/\/$/, '') }, timeoutMs: 900_000, onConsole: (l) => log(`[${name}] ${l}`) });
    const r = await collector.finish();
    // the sandbox is gone, as Kata's shim removes its cgroup
    rmdirSync(kataDir);
    rmdirSync(dirname(kataDir));
    log(`[${name}] VM ${vm.wallMs} ms; collector: ${JSON.stringify(r.footer.counts)}, late ${r.late}`);
    const readText = (f: string): string => { try { return readFileSync(join(share, f), 'utf8'); } catch { return ''; } };
    const result = Object.fromEntries(readText('result.env').split('\n').filter(Boolean).map((l) => l.split('=', 2) as [string, string]));
    const text = readFileSync(out, 'utf8');
    const s: Session = { name, trace: parseTrace(text), text, uid, sandbox, result, console: vm.console, tracerLog: readText('tracer.log') };
    log(`[${name}] result ${JSON.stringify(result)}; guests ${JSON.stringify(s.trace.footer.guests)}`);
    assert.ok(vm.poweredOff, `[${name}] the VM did not power off by itself:\n${vm.console.slice(-3000)}\ntracer:\n${s.tracerLog.slice(-2000)}`);
    assert.equal(result['tracer_exit'], '0', `[${name}] the guest tracer failed:\n${s.tracerLog.slice(-3000)}`);
    sessions.set(name, s);
    return s;
  }

  before(async () => {
    kernel = findGuestKernel()!;
    work = mkdtempSync(join(tmpdir(), 'katabot-guest-'));
    initramfs = buildInitramfs(kernel, join(work, 'initramfs.cpio'));
    const choice = await chooseAccel(kernel, initramfs, mkdtempSync(join(work, 'probe-')));
    accel = choice.accel;
    console.log(`# guest VM: kernel ${kernel.version}, accel ${accel} (${choice.why})`);
    echo = await echoServer();
    echo2 = await echoServer();
    // side by side: the runs are independent, and each boot spends most of its time on one emulated vCPU
    const runs = await Promise.allSettled([session('base', {}), session('again', { cgroupns: true }), session('variant', { variant: true })]);
    for (const r of runs) if (r.status === 'rejected') throw r.reason;
    // boots under emulation: minutes, more than `npm test`'s default per test (a hook's own timeout wins)
  }, { timeout: 1_500_000 });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
    echo?.server.close();
    echo2?.server.close();
    mkdirSync(ARTIFACTS, { recursive: true });
    const base = sessions.get('base');
    if (base) writeFileSync(join(ARTIFACTS, 'trace.jsonl'), base.text);
    for (const [name, s] of sessions) if (name !== 'base') writeFileSync(join(ARTIFACTS, `trace-${name}.jsonl`), s.text);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const guestEvents = (s: Session): TraceEvent[] => s.trace.events.filter((e) => e.kernel === 'guest');
  const hostEvents = (s: Session): TraceEvent[] => s.trace.events.filter((e) => e.kernel === 'host');
  const workload = (s: Session): TraceEvent[] => guestEvents(s).filter((e) => e.container === 'workload');
  const profile = (s: Session) => profileTrace(s.trace);
  const changes = (d: BehaviorDiff): string[] => (['processes', 'files', 'network', 'k8sApi'] as const)
    .flatMap((c) => [...d[c].added.map((e) => `+ ${e.item.key}`), ...d[c].removed.map((e) => `- ${e.item.key}`)]);

  it('the merged trace is a node trace (format 1.2) that lists the guest as traced, from its kernel', () => {
    const s = sessions.get('base')!;
    assert.equal(s.trace.header.version, '1.2');
    assert.equal(s.trace.header.target.mode, 'node');
    // only this node's sandboxes: the other runs' VMs, side by side on this host, are in cgroups it does not trace
    assert.equal(s.trace.footer.guests?.length, 1, JSON.stringify(s.trace.footer.guests));
    const g = s.trace.footer.guests.find((x) => x.uid === s.uid);
    assert.ok(g, JSON.stringify(s.trace.footer.guests));
    assert.deepEqual([g.status, g.namespace, g.pod, g.sandbox, g.kernel, g.complete], ['traced', NS, POD, s.sandbox, kernel.version, true]);
    assert.equal(g.lost, 0, `the guest lost events: ${JSON.stringify(g)}`);
    assert.equal(s.trace.footer.lost.total, 0);
    assert.ok((g.startup_ms ?? 0) > 0 && (g.memory_kib ?? 0) > 0);
    assert.equal(s.result['guest_kernel'], kernel.version);
  });

  it('has the guest workload\'s execs, files and connection, with kernel: guest and the pod\'s identity', () => {
    const s = sessions.get('base')!;
    const w = workload(s);
    for (const e of w) assert.deepEqual([e.kernel, e.pod, e.namespace, e.sandbox], ['guest', POD, NS, s.sandbox]);
    const execs = w.filter((e) => e.kind === 'exec' && e.result === 0).map((e) => e.exe);
    assert.ok(execs.includes('/bin/cat') && execs.includes('/usr/bin/sort'), execs.join(', '));
    const writes = w.filter((e) => e.kind === 'open' && e.flags?.includes('write')).map((e) => e.path);
    assert.ok(writes.includes('out.txt') && writes.includes('sorted.txt'), [...new Set(writes)].join(', '));
    // 16 files opened over and over: repeats are counted in the guest's kernel and arrive as aggregated records
    const burst = w.filter((e) => e.kind === 'open' && e.path?.startsWith('burst-'));
    assert.equal(burst.reduce((n, e) => n + (e.count ?? 1), 0), BURST);
    assert.ok(burst.length < BURST / 10, `${burst.length} records for ${BURST} opens: repeats were not aggregated`);
    const connects = w.filter((e) => e.kind === 'connect');
    assert.deepEqual(connects.map((e) => [e.daddr, e.dport, e.result]), [['10.0.2.2', echo.port, 0]]);
    // the guest's own activity outside containers (the kata-agent's part) is traced too, and the tracer is not
    assert.ok(guestEvents(s).some((e) => e.container === undefined));
    assert.ok(!guestEvents(s).some((e) => e.comm === 'bpftrace' || e.container === GUEST_TRACER_CONTAINER));
  });

  it('the host side sees QEMU in the Kata sandbox cgroup, and not one of the guest\'s processes', () => {
    const s = sessions.get('base')!;
    const host = hostEvents(s);
    assert.ok(host.length > 0, 'no host events');
    for (const e of host) assert.deepEqual([e.sandbox, e.pod, e.namespace], [s.sandbox, POD, NS], JSON.stringify(e));
    const exes = new Set(host.map((e) => e.exe));
    assert.deepEqual([...exes], [QEMU], `host executables: ${[...exes].join(', ')}`);
    assert.ok(host.some((e) => e.kind === 'exec' && e.exe === QEMU), 'the VMM\'s exec');
    // the guest's connection leaves the host through QEMU's user network
    assert.ok(host.some((e) => e.kind === 'connect' && e.daddr === '127.0.0.1' && e.dport === echo.port));
    const guestComms = new Set(['cat', 'sort', 'bash', 'node', 'bpftrace', 'md5sum']);
    assert.deepEqual(host.filter((e) => guestComms.has(e.comm ?? '')).map((e) => e.comm), []);
  });

  it('clocks are aligned: guest events fall inside the VM\'s lifetime on the host\'s time line', () => {
    const s = sessions.get('base')!;
    const vmStart = hostEvents(s).find((e) => e.kind === 'exec')!.ts;
    const w = workload(s);
    assert.ok(w[0]!.ts > vmStart, `first workload event ${w[0]!.ts} before QEMU started ${vmStart}`);
    const guestConnect = w.find((e) => e.kind === 'connect')!;
    // (the untraced run before it connected too: the nearest of QEMU's connects is this one's)
    const hostConnect = hostEvents(s).filter((e) => e.kind === 'connect' && e.dport === echo.port)
      .sort((a, b) => Math.abs(a.ts - guestConnect.ts) - Math.abs(b.ts - guestConnect.ts))[0]!;
    // the guest connects, then QEMU's user network connects on the host: within a second of each other
    assert.ok(Math.abs(hostConnect.ts - guestConnect.ts) < 1e9, `guest connect ${guestConnect.ts}, host connect ${hostConnect.ts}`);
    for (let i = 1; i < s.trace.events.length; i++) assert.ok(s.trace.events[i]!.ts >= s.trace.events[i - 1]!.ts, `event ${i} out of order`);
  });

  it('traced twice (the second time in its own cgroup namespace), the diff is empty', () => {
    assert.match(sessions.get('again')!.tracerLog, /own cgroup namespace: container cgroups are learned from cgroup_mkdir/);
    assert.doesNotMatch(sessions.get('base')!.tracerLog, /own cgroup namespace/);
    const d = diffProfiles([profile(sessions.get('base')!)], profile(sessions.get('again')!));
    assert.deepEqual(changes(d), []);
    assert.equal(hasChanges(d), false);
    assert.equal(sessions.get('again')!.trace.footer.lost.total, 0);
  });

  it('a variant workload shows exactly its added exec, file and connection (and QEMU serving them on the host)', () => {
    const d = diffProfiles([profile(sessions.get('base')!)], profile(sessions.get('variant')!));
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'diff.json'), `${JSON.stringify(diffToJson(d), null, 2)}\n`);
    const scope = `[${NS}/${POD}:workload]`;
    const guestSide = changes(d).filter((c) => c.includes(scope));
    assert.deepEqual(guestSide.sort(), [
      `+ ${scope} /bin/bash → /usr/bin/md5sum out.txt`,
      `+ ${scope} tcp → 10.0.0.0/8:${echo2.port}`,
      `+ ${scope} write out.md5`,
    ].sort());
    const rest = changes(d).filter((c) => !c.includes(scope));
    assert.deepEqual(rest.filter((c) => !c.startsWith(`+ [${NS}/${POD}:(sandbox)]`)), [], 'only QEMU\'s side of the additions besides them');
    assert.ok(rest.includes(`+ [${NS}/${POD}:(sandbox)] tcp → loopback:${echo2.port}`), rest.join('\n'));
  });

  it('reports the tracer\'s start-up time, memory, event rate with 0 lost events, and wall-time overhead', () => {
    const s = sessions.get('base')!;
    const g = s.trace.footer.guests!.find((x) => x.uid === s.uid)!;
    const traced = Number(s.result['traced_us']) / 1e3;
    const untraced = Number(s.result['untraced_us']) / 1e3;
    const w = workload(s);
    // aggregated records stand for many events and are written at the end: the span is that of the printed ones
    const printed = w.filter((e) => e.count === undefined);
    const span = (printed.at(-1)!.ts - printed[0]!.ts) / 1e9;
    const events = w.reduce((n, e) => n + (e.count ?? 1), 0);
    const m = {
      accel, kernel: kernel.version,
      tracer_startup_ms: g.startup_ms, tracer_memory_mib: Math.round((g.memory_kib ?? 0) / 1024),
      workload_records: w.length, workload_events: events, workload_span_s: Number(span.toFixed(3)), events_per_s: Math.round(events / span), lost: g.lost,
      workload_untraced_ms: Math.round(untraced), workload_traced_ms: Math.round(traced), overhead_pct: Math.round((traced / untraced - 1) * 100),
      clock_offset_ns: g.clock_offset_ns, clock_rtt_ns: g.clock_rtt_ns,
    };
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'measurements.json'), `${JSON.stringify(m, null, 2)}\n`);
    console.log(`# guest tracer: ${JSON.stringify(m)}`);
    assert.equal(g.lost, 0);
    assert.ok(untraced > 0 && traced > 0);
  });
});
