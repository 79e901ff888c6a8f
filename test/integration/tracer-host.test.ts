// Host mode against the real kernel (`katabot trace --host`, what the katabot action runs on a runner): a workload
// started outside the tracer, after it attached, is in the trace; the tracer's own agent and bpftrace are not. With
// `--cgroup`, only the subtree is traced: the same workload outside it is not. Skipped, with the reason printed,
// where eBPF cannot run.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { parseTrace } from '../../src/trace/format.ts';
import { preflight } from '../../src/tracer/preflight.ts';
import { EbpfUnavailableError } from '../../src/tracer/errors.ts';

const CLI = new URL('../../bin/katabot.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'katabot-host-it-'));
let skipReason: string | undefined;
let cgroupRoot = '';

before(async () => {
  try {
    cgroupRoot = (await preflight()).cgroupRoot;
  } catch (err) {
    if (!(err instanceof EbpfUnavailableError)) throw err;
    skipReason = err.message;
  }
  if (skipReason) console.log(`# skipping host-mode tracer tests: ${skipReason}`);
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Starts `katabot trace --host` and waits until its probes are attached (or it says why not). */
async function startHost(name: string, extra: string[] = []): Promise<{ child: ChildProcess; out: string; stop: string; stderr: () => string }> {
  const out = join(work, `${name}.jsonl`);
  const ready = join(work, `${name}.ready`);
  const stop = join(work, `${name}.stop`);
  const child = spawn(process.execPath, [CLI, 'trace', '--host', '--no-summary', '--out', out, '--ready-file', ready, '--until-file', stop, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  for (let i = 0; i < 1200 && !existsSync(ready) && !existsSync(`${ready}.failed`) && child.exitCode === null; i++) await delay(50);
  if (!existsSync(ready)) {
    child.kill('SIGKILL');
    // the .failed file already says `eBPF unavailable: …`
    throw new EbpfUnavailableError((existsSync(`${ready}.failed`) ? readFileSync(`${ready}.failed`, 'utf8').trim() : `tracer did not attach: ${stderr}`).replace(/^eBPF unavailable: /, ''));
  }
  return { child, out, stop, stderr: () => stderr };
}

async function stopHost(h: { child: ChildProcess; stop: string; stderr: () => string }): Promise<void> {
  writeFileSync(h.stop, '');
  const code = h.child.exitCode ?? await new Promise<number | null>((resolve) => h.child.once('exit', resolve));
  assert.equal(code, 0, h.stderr());
}

describe('katabot trace --host (real bpftrace)', () => {
  it('traces a process started outside it, and not itself', async (t) => {
    if (skipReason) return t.skip(skipReason);
    let h;
    try {
      h = await startHost('whole');
    } catch (err) {
      if (err instanceof EbpfUnavailableError) return t.skip(err.message);
      throw err;
    }
    const marker = join(work, `host-marker-${process.pid}.txt`);
    const r = spawnSync('/bin/sh', ['-c', `echo hi > ${marker}; /bin/cat ${marker}`]);
    assert.equal(r.status, 0);
    await stopHost(h);
    const trace = parseTrace(readFileSync(h.out, 'utf8'));
    assert.deepEqual(trace.header.target, { mode: 'host', cgroup: '/' });
    const cat = trace.events.find((e) => e.kind === 'exec' && e.argv?.[0] === '/bin/cat' && e.argv[1] === marker);
    assert.ok(cat, 'the cat started outside the tracer is traced');
    // its parent is the shell traced before it (by pid: the parent's executable needs its exec seen, which a busy
    // machine's whole-host trace may not keep for every pid)
    const sh = trace.events.find((e) => e.kind === 'exec' && e.exe === '/bin/sh' && e.argv?.some((a) => a.includes(marker)));
    if (sh) assert.equal(cat.ppid, sh.pid);
    assert.ok(trace.events.some((e) => e.kind === 'open' && e.path === marker && e.flags?.includes('write')), 'the shell writing the marker');
    // the agent and its bpftrace run in the tracer's own cgroup, which the filter leaves out
    assert.equal(trace.events.filter((e) => e.pid === h.child.pid).length, 0, 'no event of the agent');
    assert.equal(trace.events.filter((e) => e.comm === 'bpftrace').length, 0, 'no event of bpftrace');
    assert.ok(!trace.events.some((e) => e.kind === 'open' && e.path === h.out), 'the trace file is not in the trace');
    // the agent went back where it came from: no katabot trace cgroup of it is left
    assert.equal(existsSync(join(cgroupRoot, 'katabot', `trace-${h.child.pid}-1`)), false);
  });

  it('--cgroup: only the subtree, created under /katabot/', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const sub = `/katabot/host-it-${process.pid}`;
    let h;
    try {
      h = await startHost('subtree', ['--cgroup', sub]);
    } catch (err) {
      if (err instanceof EbpfUnavailableError) return t.skip(err.message);
      throw err;
    }
    const dir = join(cgroupRoot, sub);
    assert.ok(existsSync(join(dir, 'cgroup.procs')), 'the subtree was created');
    const inside = join(work, 'inside.txt');
    const outside = join(work, 'outside.txt');
    assert.equal(spawnSync('/bin/sh', ['-c', `echo 0 > ${dir}/cgroup.procs && echo in > ${inside}`]).status, 0);
    assert.equal(spawnSync('/bin/sh', ['-c', `echo out > ${outside}`]).status, 0);
    await stopHost(h);
    const trace = parseTrace(readFileSync(h.out, 'utf8'));
    assert.deepEqual(trace.header.target, { mode: 'host', cgroup: sub });
    assert.ok(trace.events.some((e) => e.kind === 'open' && e.path === inside), 'the write inside the subtree');
    assert.ok(!trace.events.some((e) => e.kind === 'open' && e.path === outside), 'nothing outside it');
    assert.ok(trace.events.filter((e) => e.kind === 'open' && e.path === inside).every((e) => e.cgroup === sub));
    spawnSync('rmdir', [dir]);
  });

  it('--cgroup outside /katabot/ must exist', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const r = spawnSync(process.execPath, [CLI, 'trace', '--host', '--cgroup', '/no-such-slice.slice', '--out', join(work, 'x.jsonl')], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--cgroup \/no-such-slice\.slice: no such cgroup under/);
  });
});
