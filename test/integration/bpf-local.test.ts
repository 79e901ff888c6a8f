// eBPF packages on this machine, with the real bpftrace: validate (a compile against this kernel, a syntax error
// named by its line), `katabot bpf run PKG -- CMD` (a package counting system calls by process, parameters, a
// package mapped to the trace format's open events, a built-in package). Skipped, with the reason printed, where
// eBPF cannot run (not root, no bpftrace).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { loadPackageDir } from '../../src/adapters/bpf-packages.ts';
import { PACKAGES_ENV, bundlePackages, parsePackageYaml, resolveParams } from '../../src/bpf/package.ts';
import { parseTrace, type CustomTraceEvent } from '../../src/trace/format.ts';
import { validatePackage } from '../../src/tracer/bpf-check.ts';
import { traceCommand } from '../../src/tracer/command.ts';
import { preflight } from '../../src/tracer/preflight.ts';
import { EbpfUnavailableError } from '../../src/tracer/errors.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/katabot.js');
const PROBES = join(ROOT, 'test/fixtures/bpf/probes');
const work = mkdtempSync(join(tmpdir(), 'katabot-bpf-local-'));
let skipReason: string | undefined;
let cgroupRoot = '';

before(async () => {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) skipReason = 'not root: eBPF needs root';
  else {
    try {
      cgroupRoot = (await preflight()).cgroupRoot;
    } catch (err) {
      if (!(err instanceof EbpfUnavailableError)) throw err;
      skipReason = err.message;
    }
  }
  if (skipReason) console.log(`# skipping real-eBPF package tests: ${skipReason}`);
});
after(() => rmSync(work, { recursive: true, force: true }));

function katabot(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: work, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const WORKLOAD = ['/bin/sh', '-c', 'cat /etc/hostname >/dev/null; ls / >/dev/null; echo x > created.txt'];
/** The same without writing a file: traceCommand runs it in this process's working directory. */
const READ_ONLY_WORKLOAD = ['/bin/sh', '-c', 'cat /etc/hostname >/dev/null; ls / >/dev/null'];

describe('katabot bpf validate (real bpftrace)', () => {
  it('a valid package compiles against this kernel', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const report = await validatePackage(loadPackageDir(join(PROBES, 'syscount')));
    assert.deepEqual(report.problems, []);
    assert.ok(report.steps.some((s) => s.step.startsWith('compile') && s.ok), JSON.stringify(report.steps));
  });

  it('a syntax error is a clear validation error naming its line, and the command fails', (t) => {
    if (skipReason) return t.skip(skipReason);
    const r = katabot(['bpf', 'validate', join(PROBES, 'syscount-v3-broken')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /syscount-v3-broken\/program\.bt:3:21: error: syntax error, unexpected ;/);
    assert.match(r.stderr, /FAIL {2}compile/);
    assert.match(r.stderr, /syscount@3\.0\.0: invalid/);
  });

  it('a probe this kernel lacks is named with its line', (t) => {
    if (skipReason) return t.skip(skipReason);
    writeFileSync(join(work, 'missing.bt'), '// no such tracepoint\n\ntracepoint:nope:nothere /${in_scope}/ { @n = count(); }\n');
    const r = katabot(['bpf', 'validate', './missing.bt']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /missing\.bt:3: error: probe does not exist on this kernel: tracepoint not found: nope:nothere/);
  });
});

describe('katabot bpf run PKG -- CMD (real bpftrace)', () => {
  it('counts system calls by process and maps a package\'s printf events to open events, all in one trace', (t) => {
    if (skipReason) return t.skip(skipReason);
    const r = katabot(['bpf', 'run', `${join(PROBES, 'syscount')},${join(PROBES, 'opens')}`, '--out', 'run.jsonl', '--', ...WORKLOAD]);
    assert.equal(r.code, 0, r.stderr);
    const trace = parseTrace(readFileSync(join(work, 'run.jsonl'), 'utf8'));
    assert.equal(trace.header.version, '1.1');
    assert.deepEqual(trace.header.packages?.map((p) => `${p.name}@${p.version}`), ['syscount@1.0.0', 'opens@1.0.0']);
    // the syscalls map, printed when bpftrace got SIGINT: one event per process name of the workload
    const byComm = new Map((trace.custom ?? []).filter((e) => e.name === 'syscalls').map((e) => [e.comm, e.fields['count'] as number]));
    for (const comm of ['sh', 'cat', 'ls']) assert.ok((byComm.get(comm) ?? 0) > 5, `${comm}: ${JSON.stringify([...byComm])}`);
    assert.deepEqual([...byComm.keys()].filter((c) => !['sh', 'cat', 'ls'].includes(c!)), [], 'nothing outside the command\'s cgroup');
    // opens' create event is the trace format's open, with flags decoded
    const created = trace.events.filter((e) => e.kind === 'open' && e.path !== '/dev/null');
    assert.equal(created.length, 1, JSON.stringify(created));
    assert.equal(created[0]!.path, 'created.txt');
    assert.deepEqual(created[0]!.flags, ['write', 'create', 'truncate']);
    assert.equal(trace.footer.counts.open, trace.events.filter((e) => e.kind === 'open').length, 'mapped events count in the footer');
    assert.deepEqual(trace.footer.custom?.counts, { 'syscount/syscalls': byComm.size });
    assert.match(r.stderr, /custom events: syscount\/syscalls \d+/);
  });

  it('parameters reach the program: skip_comm leaves a process out', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const pkg = loadPackageDir(join(PROBES, 'syscount'));
    const out = join(work, 'param.jsonl');
    const res = await traceCommand({ argv: READ_ONLY_WORKLOAD, out, stdio: 'ignore', builtins: [], packages: [{ pkg, params: resolveParams(pkg.meta, { skip_comm: 'cat' }) }] });
    assert.equal(res.exitCode, 0);
    const comms = (parseTrace(readFileSync(out, 'utf8')).custom ?? []).map((e: CustomTraceEvent) => e.comm);
    assert.ok(comms.includes('ls') && comms.includes('sh'), comms.join(','));
    assert.ok(!comms.includes('cat'), comms.join(','));
  });

  it('a built-in package is the tracer with just its kinds', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const out = join(work, 'exec.jsonl');
    const res = await traceCommand({ argv: ['/bin/sh', '-c', '/bin/true; cat /etc/hostname >/dev/null'], out, stdio: 'ignore', builtins: ['exec'], packages: [] });
    assert.equal(res.exitCode, 0);
    const trace = parseTrace(readFileSync(out, 'utf8'));
    assert.deepEqual([...new Set(trace.events.map((e) => e.kind))].sort(), ['exec', 'exit']);
    const execs = trace.events.filter((e) => e.kind === 'exec').map((e) => e.argv?.[0]);
    assert.ok(execs.includes('/bin/true') && execs.includes('cat'), execs.join(' '));
    assert.deepEqual(trace.header.packages, [{ name: 'exec', version: '1.0.0', origin: 'builtin', events: [{ name: 'exec', kind: 'exec' }, { name: 'exit', kind: 'exit' }] }]);
  });
});

/** Cgroups standing for pods (as in test/integration/tracer.test.ts). */
function makeCgroups(paths: string[]): { dir: (p: string) => string; cleanup: () => void } {
  const base = join(cgroupRoot, `katabot-bpf-it-${process.pid}`);
  for (const p of paths) mkdirSync(join(base, p), { recursive: true });
  return {
    dir: (p) => join(base, p),
    cleanup: () => {
      const all = paths.flatMap((p) => p.split('/').map((_, i, a) => a.slice(0, i + 1).join('/'))).sort((a, b) => b.length - a.length);
      for (const p of new Set(all)) try { rmdirSync(join(base, p)); } catch { /* busy or gone */ }
      try { rmdirSync(base); } catch { /* busy */ }
    },
  };
}

function runIn(cgroupDir: string, argv: string[]): Promise<number> {
  const p = spawn('/bin/sh', ['-c', 'echo 0 > "$0/cgroup.procs" && exec "$@"', cgroupDir, ...argv], { stdio: 'ignore' });
  return new Promise((resolve) => p.on('exit', (code) => resolve(code ?? -1)));
}

describe('a traced job\'s sidecar with /trace --probe (real bpftrace, real cgroups)', () => {
  it('runs the packages injectTracer passes, scoped to its own pod; a package that does not compile is left out', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const cg = makeCgroups(['pod/tracer', 'pod/test', 'other-pod/test']);
    try {
      const syscount = loadPackageDir(join(PROBES, 'syscount'));
      const broken = { meta: parsePackageYaml('name: broken\nversion: 1.0.0\n', 'b'), source: 'tracepoint:raw_syscalls:sys_enter /${in_scope}/ { @n = count( }\n', origin: { kind: 'repo' as const, path: 'b' } };
      const out = join(work, 'sidecar.jsonl');
      const ready = join(work, 'sidecar-ready');
      const marker = join(work, 'test-marker.txt');
      // the tracer container's command and environment, as src/jobs/trace.ts builds them for /trace --probe
      const tracer = spawn('/bin/sh', ['-c', 'echo 0 > "$0/cgroup.procs" && exec "$@"', cg.dir('pod/tracer'), process.execPath, CLI,
        'trace', '--sidecar', '--out', out, '--ready-file', ready, '--probe', 'dns,syscount,broken', '--until-file', marker], {
        cwd: work, stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, POD_NAME: 'job-1', POD_NAMESPACE: 'test-pods', KUBECONFIG: join(work, 'none'), KATABOT_TRACE_RUNTIME: 'runc', [PACKAGES_ENV]: bundlePackages([syscount, broken]) },
      });
      let stderr = '';
      tracer.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const exited = new Promise<number>((resolve) => tracer.on('exit', (code) => resolve(code ?? -1)));
      const deadline = Date.now() + 25_000;
      while (!existsSync(ready) && !existsSync(`${ready}.failed`) && Date.now() < deadline) await delay(50);
      assert.ok(existsSync(ready), `tracer not ready: ${stderr}`);
      assert.equal(await runIn(cg.dir('pod/test'), ['/usr/bin/cat', '/etc/hostname']), 0);
      assert.equal(await runIn(cg.dir('other-pod/test'), ['/usr/bin/head', '-c1', '/etc/hostname']), 0);
      writeFileSync(marker, '0');
      assert.equal(await exited, 0, stderr);
      const trace = parseTrace(readFileSync(out, 'utf8'));
      assert.deepEqual(trace.header.packages?.map((p) => p.name), ['dns', 'syscount', 'broken']);
      const comms = (trace.custom ?? []).filter((e) => e.name === 'syscalls').map((e) => e.comm);
      assert.ok(comms.includes('cat'), comms.join(','));
      assert.ok(!comms.includes('head'), `another pod: ${comms.join(',')}`);
      assert.ok(!comms.includes('node') && !comms.includes('bpftrace'), `the tracer itself: ${comms.join(',')}`);
      assert.equal(trace.footer.custom?.failed?.length, 1);
      assert.match(trace.footer.custom!.failed![0]!, /^broken@1\.0\.0: program\.bt:1:\d+: error: syntax error/);
      assert.match(stderr, /package did not start, tracing without it: broken@1\.0\.0/);
    } finally {
      cg.cleanup();
    }
  });
});
