// The tracer against the real kernel: real bpftrace, real cgroup v2, real processes. Asserts the exact execs, opens,
// connects, accepts, listens and DNS queries a small workload performed, with parentage, and nothing from outside
// its cgroup. Skipped, with the reason printed, where eBPF cannot run (not root, no bpftrace, probes do not attach).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { parseTrace, type Trace, type TraceEvent } from '../../src/trace/format.ts';
import { profileTrace, type BehaviorProfile } from '../../src/trace/profile.ts';
import { traceCommand } from '../../src/tracer/command.ts';
import { preflight } from '../../src/tracer/preflight.ts';
import { EbpfUnavailableError } from '../../src/tracer/errors.ts';
import { kubernetesPodSource, tracePods } from '../../src/tracer/pods.ts';
import { startKubeApiServer, type KubeApiDouble } from '../fixtures/kube-apiserver.ts';

const CLI = new URL('../../bin/katabot.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'katabot-tracer-it-'));
let skipReason: string | undefined;
let cgroupRoot = '';

before(async () => {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    skipReason = 'not root: eBPF tracing needs root';
    return;
  }
  try {
    cgroupRoot = (await preflight()).cgroupRoot;
  } catch (err) {
    if (!(err instanceof EbpfUnavailableError)) throw err;
    skipReason = err.message;
  }
  if (skipReason) console.log(`# skipping real-eBPF tests: ${skipReason}`);
});

after(() => rmSync(work, { recursive: true, force: true }));

/** Runs a traced block; an eBPF failure at attach time turns into a skip with its reason. */
async function orSkip<T>(t: { skip: (reason: string) => void }, fn: () => Promise<T>): Promise<T | undefined> {
  if (skipReason) { t.skip(skipReason); return undefined; }
  try {
    return await fn();
  } catch (err) {
    if (err instanceof EbpfUnavailableError) { t.skip(err.message); return undefined; }
    throw err;
  }
}

// the dynamic loader, libc locale data and kernel pseudo-files: present in every process, different per distro
const LIBRARY_PATH = /^(\/etc\/ld\.so\.cache|\/(usr\/)?lib(32|64|x32)?\/|\/usr\/lib\/locale\/|\/usr\/share\/locale\/|\/proc\/|\/sys\/|\/dev\/)/;

describe('katabot trace -- CMD (real bpftrace)', () => {
  let server: Server;
  let port = 0;
  const accepted: string[] = [];

  before(async () => {
    server = createServer((sock) => {
      accepted.push(`${sock.remoteAddress}:${sock.remotePort}`);
      sock.resume();
      sock.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('records the exact execs, opens, TCP and DNS of a workload, with parentage, and exits with its code', async (t) => {
    const child = join(work, 'child.mjs');
    writeFileSync(child, `
import net from 'node:net';
import dgram from 'node:dgram';
const srv = net.createServer((s) => { s.end(); srv.close(); });
srv.listen(0, '127.0.0.1', () => {
  const { port } = srv.address();
  const c = net.connect(port, '127.0.0.1', () => c.end());
  c.on('close', () => {
    // a DNS query for katabot-test.example (A), as a resolver sends it
    const name = Buffer.concat(['katabot-test', 'example'].map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])));
    const q = Buffer.concat([Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), name, Buffer.from([0, 0, 1, 0, 1])]);
    const u = dgram.createSocket('udp4');
    u.send(q, 53, '127.0.0.1', () => { u.close(); process.stdout.write(String(port)); });
  });
});
`);
    const out = join(work, 'command.jsonl');
    const script = [
      '/usr/bin/cat /etc/hostname > /dev/null',
      '/usr/bin/cat /nonexistent-katabot-file 2> /dev/null',
      '/bin/true one two',
      '/nonexistent-katabot-binary 2> /dev/null',
      `echo hello > ${work}/out.txt`,
      `exec 3<>/dev/tcp/127.0.0.1/${port}; echo ping >&3; exec 3>&-`,
      `${process.execPath} ${child} > ${work}/child-port.txt`,
      'exit 7',
    ].join('\n');
    const scriptPath = join(work, 'workload.sh');
    writeFileSync(scriptPath, script);
    const started = Date.now();
    const r = await orSkip(t, () => traceCommand({ argv: ['/bin/bash', scriptPath], out, stdio: 'ignore', lingerMs: 2000 }));
    if (!r) return;
    assert.ok(Date.now() - started < 30_000);
    assert.equal(r.exitCode, 7);

    const trace: Trace = parseTrace(readFileSync(out, 'utf8'));
    assert.equal(trace.footer.exit_code, 7);
    assert.deepEqual(trace.footer.lost, { reported: 0, gap: 0, incomplete: 0, total: 0 });
    assert.equal(trace.header.bpftrace, r.header.bpftrace);
    assert.deepEqual(trace.header.target.argv, ['/bin/bash', scriptPath]);

    // execs, in order, with their parent
    const execs = trace.events.filter((e) => e.kind === 'exec');
    const bash = execs[0]!;
    assert.deepEqual(execs.map((e) => [e.exe, e.argv, e.result, e.error]), [
      ['/bin/bash', ['/bin/bash', scriptPath], 0, undefined],
      ['/usr/bin/cat', ['/usr/bin/cat', '/etc/hostname'], 0, undefined],
      ['/usr/bin/cat', ['/usr/bin/cat', '/nonexistent-katabot-file'], 0, undefined],
      ['/bin/true', ['/bin/true', 'one', 'two'], 0, undefined],
      ['/nonexistent-katabot-binary', ['/nonexistent-katabot-binary'], -2, 'ENOENT'],
      [process.execPath, [process.execPath, child], 0, undefined],
    ]);
    assert.equal(bash.ppid, process.pid, 'the command is a child of the agent');
    for (const e of execs.slice(1)) {
      assert.equal(e.ppid, bash.pid, `${e.exe} is a child of bash`);
      assert.equal(e.parent_exe, '/bin/bash');
    }
    const [, cat1, cat2, , missing, node] = execs as [TraceEvent, TraceEvent, TraceEvent, TraceEvent, TraceEvent, TraceEvent];

    // every event belongs to bash or one of its children: nothing from outside the cgroup. An aggregated record
    // (pid 0, repeats counted in the kernel) stands for runs of one of their programs.
    const pids = new Set(execs.map((e) => e.pid));
    const exes = new Set(execs.map((e) => e.exe));
    for (const e of trace.events) {
      if (e.pid === 0 && e.count !== undefined) assert.ok(exes.has(e.exe) && e.cgroup === undefined, `unexpected aggregated ${e.kind} by ${e.exe} in ${e.cgroup}`);
      else assert.ok(pids.has(e.pid), `unexpected ${e.kind} by pid ${e.pid} (${e.comm})`);
    }

    // opens outside the loader's and the kernel's own files, exactly
    const opensOf = (pid: number): Array<[string | undefined, unknown, number | undefined]> => trace.events
      .filter((e) => e.kind === 'open' && e.pid === pid && !LIBRARY_PATH.test(e.path ?? ''))
      .map((e) => [e.path, e.flags, e.result === undefined ? undefined : Math.sign(e.result)]);
    assert.deepEqual(opensOf(cat1.pid), [['/etc/hostname', ['read'], 1]]);
    assert.deepEqual(opensOf(cat2.pid), [['/nonexistent-katabot-file', ['read'], -1]]);
    assert.ok(trace.events.some((e) => e.kind === 'open' && e.pid === bash.pid && e.path === `${work}/out.txt`
      && JSON.stringify(e.flags) === '["write","create","truncate"]' && (e.result ?? -1) >= 0));

    // TCP: bash's /dev/tcp connect to the test's server (whose accept is outside the trace)
    const connects = trace.events.filter((e) => e.kind === 'connect');
    const bashConnect = connects.find((e) => e.pid === bash.pid);
    assert.deepEqual(bashConnect && [bashConnect.daddr, bashConnect.dport, bashConnect.result, bashConnect.proto], ['127.0.0.1', port, 0, 'tcp']);
    assert.ok(accepted.includes(`127.0.0.1:${bashConnect!.sport}`), 'the recorded source port is the one the server saw');

    // node child: listen, connect to itself, accept that connection, send one DNS query
    const childPort = Number(readFileSync(join(work, 'child-port.txt'), 'utf8'));
    const nodeEvents = trace.events.filter((e) => e.pid === node.pid);
    const listen = nodeEvents.filter((e) => e.kind === 'listen');
    assert.deepEqual(listen.map((e) => [e.saddr, e.sport]), [['127.0.0.1', childPort]]);
    const nodeConnect = nodeEvents.filter((e) => e.kind === 'connect');
    assert.deepEqual(nodeConnect.map((e) => [e.daddr, e.dport, e.result]), [['127.0.0.1', childPort, 0]]);
    const accept = nodeEvents.filter((e) => e.kind === 'accept');
    assert.deepEqual(accept.map((e) => [e.saddr, e.sport, e.daddr, e.dport]), [['127.0.0.1', childPort, '127.0.0.1', nodeConnect[0]!.sport]]);
    const dns = trace.events.filter((e) => e.kind === 'dns');
    assert.deepEqual(dns.map((e) => [e.pid, e.query, e.qtype, e.daddr, e.dport, e.proto]), [[node.pid, 'katabot-test.example', 'A', '127.0.0.1', 53, 'udp']]);
    assert.equal(connects.length, 2);

    // exits: every process, with its status
    const exits = new Map(trace.events.filter((e) => e.kind === 'exit').map((e) => [e.pid, e.result]));
    assert.equal(exits.get(bash.pid), 7);
    assert.equal(exits.get(cat1.pid), 0);
    assert.equal(exits.get(cat2.pid), 1);
    assert.equal(exits.get(missing.pid), 127);
    assert.equal(exits.get(node.pid), 0);

    // kernel time order, and the summary saw the same events
    for (let i = 1; i < trace.events.length; i++) assert.ok(trace.events[i]!.ts >= trace.events[i - 1]!.ts);
    assert.deepEqual(r.summary.counts, trace.footer.counts);
    assert.equal(r.summary.failedExecs, 1);
    assert.ok(!existsSync(join(cgroupRoot, r.header.target.cgroup ?? '/nonexistent')), 'the trace cgroup is removed');
  });

  it('marks argv and paths cut by bpftrace string limits', async (t) => {
    const out = join(work, 'limits.jsonl');
    const longArg = 'a'.repeat(300);
    const manyArgs = Array.from({ length: 40 }, (_, i) => `arg${i}`);
    const r = await orSkip(t, () => traceCommand({ argv: ['/bin/true', longArg, ...manyArgs], out, stdio: 'ignore' }));
    if (!r) return;
    const trace = parseTrace(readFileSync(out, 'utf8'));
    const exec = trace.events.find((e) => e.kind === 'exec')!;
    assert.equal(exec.truncated, true);
    assert.equal(exec.argv!.length, 32);
    assert.equal(exec.argv![1], 'a'.repeat(199));
    assert.ok(trace.footer.truncated >= 1);
  });
});

describe('katabot trace counts repeats in the kernel (real bpftrace)', () => {
  let server: Server;
  let port = 0;

  before(async () => {
    server = createServer((sock) => { sock.resume(); sock.on('error', () => {}); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** The opens of `files` in the trace, `count` included, by path. */
  const opensOf = (trace: Trace, files: string[]): Record<string, number> => {
    const out: Record<string, number> = Object.fromEntries(files.map((f) => [f, 0]));
    for (const e of trace.events) if (e.kind === 'open' && e.path !== undefined && e.path in out && (e.result ?? -1) >= 0) out[e.path]! += e.count ?? 1;
    return out;
  };
  const withoutCounts = (p: BehaviorProfile): unknown => ({ ...p, traces: p.traces.map((t) => ({ ...t, start: '', events: 0 })), events: 0 });

  it('gives the same profile, counts included, as printing every event: N opens of one file are one item of count N', async (t) => {
    const dir = mkdtempSync(join(work, 'repeats-'));
    const target = join(dir, 'target');
    const others = [0, 1, 2].map((i) => join(dir, `other-${i}`));
    for (const f of [target, ...others]) writeFileSync(f, 'x');
    const child = join(dir, 'child.mjs');
    writeFileSync(child, `
import fs from 'node:fs';
import net from 'node:net';
for (let i = 0; i < 2000; i++) fs.closeSync(fs.openSync(${JSON.stringify(target)}, 'r'));
for (let i = 0; i < 600; i++) fs.closeSync(fs.openSync(${JSON.stringify(others)}[i % 3], 'r'));
for (let i = 0; i < 30; i++) await new Promise((resolve) => { const c = net.connect(${port}, '127.0.0.1', () => c.end()); c.on('close', resolve); });
`);
    // twenty runs of one program open the same files: one key, whichever process
    const script = join(dir, 'workload.sh');
    writeFileSync(script, `for i in $(seq 20); do /usr/bin/cat ${target} > /dev/null; done\n${process.execPath} ${child}\n`);
    const traces: Trace[] = [];
    for (const aggregate of [true, false]) {
      const out = join(dir, `${aggregate}.jsonl`);
      const r = await orSkip(t, () => traceCommand({ argv: ['/bin/bash', script], out, stdio: 'ignore', aggregate }));
      if (!r) return;
      assert.equal(r.exitCode, 0);
      traces.push(parseTrace(readFileSync(out, 'utf8')));
    }
    const [counted, printed] = traces as [Trace, Trace];
    assert.deepEqual(counted.footer.lost, { reported: 0, gap: 0, incomplete: 0, total: 0 });
    assert.deepEqual(printed.footer.lost, { reported: 0, gap: 0, incomplete: 0, total: 0 });
    assert.deepEqual(opensOf(counted, [target, ...others]), { [target]: 2020, [others[0]!]: 200, [others[1]!]: 200, [others[2]!]: 200 });
    assert.deepEqual(opensOf(printed, [target, ...others]), opensOf(counted, [target, ...others]));
    assert.ok(counted.events.length < printed.events.length / 5, `${counted.events.length} events written, ${printed.events.length} without aggregation`);
    // the profile the diff compares: every item and its count, the `by` executables, the connects by destination
    const p1 = profileTrace(counted);
    const p2 = profileTrace(printed);
    assert.deepEqual(withoutCounts(p1), withoutCounts(p2));
    const item = p1.files.find((f) => f.path.endsWith('/target'));
    assert.deepEqual(item && [item.count, item.by], [2020, ['/usr/bin/cat', process.execPath].sort()], JSON.stringify(item));
    assert.deepEqual(p1.network.filter((n) => n.port === '<ephemeral>' || n.peer === 'loopback').map((n) => [n.key, n.count]), [['tcp → loopback:<ephemeral>', 30]]);
    assert.equal(counted.events.filter((e) => e.kind === 'connect').reduce((n, e) => n + (e.count ?? 1), 0), 30);
    assert.equal(counted.events.filter((e) => e.kind === 'connect' && e.result === 0).reduce((n, e) => n + (e.count ?? 1), 0), 30, 'every connect established');
  });

  it('loses nothing in a burst of 100k opens of 4 files while 20 programs start', async (t) => {
    const dir = mkdtempSync(join(work, 'burst-'));
    const files = [0, 1, 2, 3].map((i) => join(dir, `f${i}`));
    for (const f of files) writeFileSync(f, 'x');
    const gen = join(dir, 'gen.mjs');
    writeFileSync(gen, `import fs from 'node:fs';\nconst f = ${JSON.stringify(files)};\nfor (let i = 0; i < 100000; i++) fs.closeSync(fs.openSync(f[i % 4], 'r'));\n`);
    const script = join(dir, 'burst.sh');
    writeFileSync(script, `${process.execPath} ${gen} &\nfor i in $(seq 20); do /bin/true burst-$i; sleep 0.015; done\nwait\n`);
    const out = join(dir, 'burst.jsonl');
    const r = await orSkip(t, () => traceCommand({ argv: ['/bin/bash', script], out, stdio: 'ignore' }));
    if (!r) return;
    const trace = parseTrace(readFileSync(out, 'utf8'));
    assert.deepEqual(trace.footer.lost, { reported: 0, gap: 0, incomplete: 0, total: 0 });
    assert.deepEqual(Object.values(opensOf(trace, files)), [25000, 25000, 25000, 25000]);
    const execs = trace.events.filter((e) => e.kind === 'exec' && e.argv?.[1]?.startsWith('burst-')).map((e) => e.argv![1]);
    assert.deepEqual(execs.sort(), Array.from({ length: 20 }, (_, i) => `burst-${i + 1}`).sort());
  });

  it('keeps the lost-event footer exact when records are lost: nothing counted twice, nothing gone unreported', async (t) => {
    const dir = mkdtempSync(join(work, 'lossy-'));
    const files = [0, 1, 2, 3].map((i) => join(dir, `f${i}`));
    for (const f of files) writeFileSync(f, 'x');
    // 4000 distinct files too, each opened once: printed records that overflow a one-page ring
    const gen = join(dir, 'gen.mjs');
    writeFileSync(gen, `import fs from 'node:fs';
const f = ${JSON.stringify(files)};
for (let i = 0; i < 4000; i++) { const p = ${JSON.stringify(dir)} + '/d' + i; fs.writeFileSync(p, 'x'); }
for (let i = 0; i < 20000; i++) fs.closeSync(fs.openSync(f[i % 4], 'r'));
`);
    const out = join(dir, 'lossy.jsonl');
    const r = await orSkip(t, () => traceCommand({ argv: [process.execPath, gen], out, stdio: 'ignore', perfPages: 1 }));
    if (!r) return;
    const trace = parseTrace(readFileSync(out, 'utf8'));
    const lost = trace.footer.lost;
    assert.ok(lost.reported > 0, `a one-page ring loses records: ${JSON.stringify(lost)}`);
    assert.equal(lost.total, Math.max(lost.reported, lost.gap) + lost.incomplete);
    const creates = trace.events.filter((e) => e.kind === 'open' && e.path?.startsWith(`${dir}/d`)).length;
    assert.ok(creates <= 4000 && creates + lost.total >= 4000, `${creates} of 4000 creates written, ${lost.total} lost`);
    const opens = Object.values(opensOf(trace, files)).reduce((a, b) => a + b, 0);
    assert.ok(opens <= 20000 && opens + lost.total >= 20000, `${opens} of 20000 repeated opens counted, ${lost.total} lost`);
  });
});

describe('katabot trace CLI', () => {
  it('fails with one line "eBPF unavailable: <reason>" and no stack trace when bpftrace is missing', () => {
    const r = spawnSync(process.execPath, [CLI, 'trace', '--out', join(work, 'never.jsonl'), '--', 'true'], {
      encoding: 'utf8', env: { ...process.env, KATABOT_BPFTRACE: '/nonexistent/bpftrace' },
    });
    assert.equal(r.status, 125);
    assert.match(r.stderr, /^eBPF unavailable: .+\n$/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.ok(!existsSync(join(work, 'never.jsonl')));
  });

  it('traces a command, prints the one-screen summary and exits with its code', async (t) => {
    if (skipReason) { t.skip(skipReason); return; }
    const out = join(work, 'cli.jsonl');
    const r = spawnSync(process.execPath, [CLI, 'trace', '--out', out, '--', 'sh', '-c', 'cat /etc/hostname >/dev/null; exit 3'], { encoding: 'utf8' });
    if (r.status === 125 && /^eBPF unavailable/.test(r.stderr)) { t.skip(r.stderr.trim()); return; }
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /^katabot trace: \d+ events in [\d.]+ s, exit code 3 — sh -c/m);
    assert.match(r.stderr, /top executables: .*\/usr\/bin\/cat/);
    assert.match(r.stderr, /lost events: +0/);
    const trace = parseTrace(readFileSync(out, 'utf8'));
    assert.deepEqual(trace.events.filter((e) => e.kind === 'exec').map((e) => e.argv?.[0]), [spawnSync('sh', ['-c', 'command -v sh'], { encoding: 'utf8' }).stdout.trim(), 'cat']);
  });
});

/** A cgroup tree for pod-mode tests, removed afterwards. */
function makeCgroups(paths: string[]): { dir: (p: string) => string; cleanup: () => void } {
  const base = join(cgroupRoot, `katabot-it-${process.pid}`);
  for (const p of paths) mkdirSync(join(base, p), { recursive: true });
  return {
    dir: (p) => join(base, p),
    cleanup: () => {
      const all = [...paths.flatMap((p) => p.split('/').map((_, i, a) => a.slice(0, i + 1).join('/')))].sort((a, b) => b.length - a.length);
      for (const p of new Set(all)) try { rmdirSync(join(base, p)); } catch { /* busy or gone */ }
      try { rmdirSync(base); } catch { /* busy */ }
    },
  };
}

/** Runs a command inside a cgroup and waits for it. */
function runIn(cgroupDir: string, argv: string[]): Promise<number> {
  const p = spawn('/bin/sh', ['-c', 'echo 0 > "$0/cgroup.procs" && exec "$@"', cgroupDir, ...argv], { stdio: 'ignore' });
  return new Promise((resolve) => p.on('exit', (code) => resolve(code ?? -1)));
}

describe('katabot trace, pod mode (real bpftrace, real cgroups)', () => {
  it('--sidecar traces the tracer\'s own pod cgroup, not itself and not other pods, until the marker file appears', async (t) => {
    if (skipReason) { t.skip(skipReason); return; }
    const cg = makeCgroups(['pod/tracer', 'pod/test', 'other-pod/test']);
    try {
      const out = join(work, 'sidecar.jsonl');
      const ready = join(work, 'ready');
      const marker = join(work, 'test-marker.txt');
      const tracer = spawn('/bin/sh', ['-c', 'echo 0 > "$0/cgroup.procs" && exec "$@"', cg.dir('pod/tracer'),
        process.execPath, CLI, 'trace', '--sidecar', '--out', out, '--ready-file', ready, '--until-file', marker], {
        stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, POD_NAME: 'job-1', POD_NAMESPACE: 'test-pods', KUBECONFIG: join(work, 'none'), KATABOT_TRACE_RUNTIME: 'runc' },
      });
      let stderr = '';
      tracer.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const exited = new Promise<number>((resolve) => tracer.on('exit', (code) => resolve(code ?? -1)));
      const deadline = Date.now() + 25_000;
      while (!existsSync(ready) && !existsSync(`${ready}.failed`) && Date.now() < deadline) await delay(50);
      if (existsSync(`${ready}.failed`)) { t.skip(readFileSync(`${ready}.failed`, 'utf8').trim()); return; }
      assert.ok(existsSync(ready), `tracer not ready: ${stderr}`);

      assert.equal(await runIn(cg.dir('pod/test'), ['/usr/bin/cat', '/etc/hostname']), 0);
      assert.equal(await runIn(cg.dir('other-pod/test'), ['/usr/bin/head', '-c1', '/etc/hostname']), 0);
      writeFileSync(marker, '0');
      assert.equal(await exited, 0, stderr);

      const trace = parseTrace(readFileSync(out, 'utf8'));
      assert.deepEqual(trace.header.target, { mode: 'pod', pods: [{ namespace: 'test-pods', name: 'job-1' }], runtime: 'runc' });
      const execs = trace.events.filter((e) => e.kind === 'exec');
      assert.deepEqual(execs.map((e) => [e.exe, e.argv, e.pod, e.namespace]), [['/usr/bin/cat', ['/usr/bin/cat', '/etc/hostname'], 'job-1', 'test-pods']]);
      const cat = execs[0]!;
      for (const e of trace.events) assert.equal(e.pid, cat.pid, `unexpected ${e.kind} by ${e.comm} (${e.pid}): the tracer must not trace itself or other pods`);
      assert.ok(trace.events.some((e) => e.kind === 'open' && e.path === '/etc/hostname'));
      assert.equal(trace.footer.lost.total, 0);
    } finally {
      cg.cleanup();
    }
  });

  describe('--pod on the node (API server double, kubepods-shaped cgroups)', () => {
    let api: KubeApiDouble;
    before(async () => { api = await startKubeApiServer(); });
    after(async () => { await api?.close(); });

    it('maps cgroup id → path → container id → pod and container names', async (t) => {
      if (skipReason) { t.skip(skipReason); return; }
      const pod = api.seed({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'job-1', namespace: 'test-pods' }, spec: { containers: [{ name: 'test', image: 'busybox' }] } });
      const uid: string = pod.metadata.uid;
      const cid = 'c0ffee'.padEnd(64, '0');
      // what the kubelet reports once the container runs
      await api.kubeConfig.makeApiClient(CoreV1Api).replaceNamespacedPodStatus({
        name: 'job-1', namespace: 'test-pods',
        body: { ...pod, status: { phase: 'Running', containerStatuses: [{ name: 'test', containerID: `containerd://${cid}`, image: 'busybox', imageID: '', ready: true, restartCount: 0 }] } },
      });
      const containerPath = `kubepods/besteffort/pod${uid}/${cid}`;
      const otherPath = `kubepods/besteffort/pod11111111-1111-1111-1111-111111111111/${'d'.repeat(64)}`;
      const cg = makeCgroups([containerPath, otherPath]);
      try {
        const stop = new AbortController();
        const out = join(work, 'pod.jsonl');
        let workload: Promise<number[]> | undefined;
        const pods = await kubernetesPodSource(api.kubeConfig);
        const r = await orSkip(t, () => tracePods({
          out, pod: 'job-1', namespace: 'test-pods', pods, signal: stop.signal,
          onReady: () => {
            workload = Promise.all([
              runIn(cg.dir(containerPath), ['/usr/bin/cat', '/etc/hostname']),
              runIn(cg.dir(otherPath), ['/usr/bin/head', '-c1', '/etc/hostname']),
            ]).then(async (codes) => { await delay(200); stop.abort(); return codes; });
          },
        }));
        if (!r) return;
        assert.deepEqual(await workload, [0, 0]);
        const trace = parseTrace(readFileSync(out, 'utf8'));
        assert.deepEqual(trace.header.target, { mode: 'pod', pods: [{ namespace: 'test-pods', name: 'job-1', uid }], namespace: 'test-pods' });
        const execs = trace.events.filter((e) => e.kind === 'exec');
        assert.deepEqual(execs.map((e) => [e.exe, e.pod, e.namespace, e.container, e.container_id, e.cgroup]), [
          ['/usr/bin/cat', 'job-1', 'test-pods', 'test', cid, `/katabot-it-${process.pid}/${containerPath}`],
        ]);
        for (const e of trace.events) assert.equal(e.pid, execs[0]!.pid, `unexpected ${e.kind} by ${e.comm}: only job-1 is traced`);
        assert.equal(trace.footer.lost.total, 0);
      } finally {
        cg.cleanup();
      }
    });
  });
});
