// The behavior diff's two promises, against the real kernel: `katabot trace` runs a workload that uses random temp
// names, ephemeral ports and new pids every time; two runs must diff to nothing (stability), and the same workload
// plus one new exec, one new file write and one new connection must diff to exactly those three items
// (sensitivity). Skipped, with the reason printed, where eBPF cannot run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { preflight } from '../../src/tracer/preflight.ts';
import { EbpfUnavailableError } from '../../src/tracer/errors.ts';
import type { DiffJson } from '../../src/trace/diff.ts';
import { NET, WORKLOAD, fixedPortListener } from '../fixtures/workload.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/katabot.js');
const work = mkdtempSync(join(tmpdir(), 'katabot-behavior-ebpf-'));
let skipReason: string | undefined;

before(async () => {
  try {
    await preflight();
  } catch (err) {
    if (!(err instanceof EbpfUnavailableError)) throw err;
    skipReason = err.message;
  }
  if (skipReason) console.log(`# skipping the real-eBPF behavior tests: ${skipReason}`);
});
after(() => rmSync(work, { recursive: true, force: true }));

function katabot(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: work, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('behavior diff of real traces (katabot trace, real bpftrace)', () => {
  const traces: string[] = [];
  let extraPort = 0;

  async function traceRun(name: string, env: Record<string, string>, t: { skip: (r: string) => void }): Promise<string | undefined> {
    const out = join(work, `${name}.jsonl`);
    const r = await katabot(['trace', '--no-summary', '--out', out, '--', 'sh', join(work, 'workload.sh')], { NODE: process.execPath, ...env });
    if (r.code === 125 && /eBPF unavailable/i.test(r.stderr)) { t.skip(r.stderr.trim()); return undefined; }
    assert.equal(r.code, 0, r.stderr);
    return out;
  }

  before(() => {
    writeFileSync(join(work, 'net.mjs'), NET);
    writeFileSync(join(work, 'workload.sh'), WORKLOAD);
  });

  it('stability: the same workload traced twice diffs to nothing', async (t) => {
    if (skipReason) return t.skip(skipReason);
    for (const name of ['base', 'rerun']) {
      const out = await traceRun(name, {}, t);
      if (!out) return;
      traces.push(out);
    }
    const r = await katabot(['diff', traces[0]!, traces[1]!, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as DiffJson;
    const empty = { added: [], removed: [], flaky: [] };
    assert.deepEqual(d, { processes: empty, files: empty, network: empty, k8sApi: empty, custom: empty, summary: { added: 0, removed: 0, lostEvents: d.summary.lostEvents } });
    // the runs really differed in what the profile normalises away
    const profile = JSON.parse((await katabot(['profile', traces[0]!, '--format', 'json'])).stdout) as { processes: Array<{ key: string }>; network: Array<{ key: string }>; files: Array<{ key: string }> };
    assert.ok(profile.files.some((f) => /\/tmp\/tmp\.<tmp>\/state-<n>\.txt$/.test(f.key)), 'random temp dir and pid file name');
    assert.ok(profile.network.some((n) => n.key === 'tcp → loopback:<ephemeral>'), 'ephemeral port');
    assert.ok(profile.network.some((n) => n.key === 'listen tcp loopback:<ephemeral>'));
  });

  it('sensitivity: one new exec, one new file write and one new connection are exactly what is reported', async (t) => {
    if (skipReason) return t.skip(skipReason);
    if (traces.length < 1) return t.skip('the stability test did not produce a base trace');
    const { server, port } = await fixedPortListener();
    extraPort = port;
    try {
      const out = await traceRun('extra', { EXTRA_PORT: String(port) }, t);
      if (!out) return;
      const r = await katabot(['diff', traces[0]!, out, '--format', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const d = JSON.parse(r.stdout) as DiffJson;
      assert.deepEqual(d.processes, { added: [{ key: '/usr/bin/sh → /usr/bin/true', count: 1, risk: [] }], removed: [], flaky: [] });
      assert.deepEqual(d.files.added.map((i) => i.key), ['write /tmp/tmp.<tmp>/extra-output.txt']);
      assert.deepEqual(d.network.added.map((i) => i.key), [`tcp → loopback:${extraPort}`]);
      assert.deepEqual([d.files.removed, d.network.removed, d.k8sApi.added], [[], [], []]);
      assert.equal(d.summary.added, 3);
      assert.equal(d.summary.removed, 0);
      // with both base runs as baselines, nothing of the three is flaky
      const r2 = await katabot(['diff', traces[0]!, out, '--baseline', traces[1]!, '--format', 'json']);
      const d2 = JSON.parse(r2.stdout) as DiffJson;
      assert.equal(d2.summary.added, 3);
      assert.deepEqual([d2.processes.flaky, d2.files.flaky, d2.network.flaky], [[], [], []]);
    } finally {
      server.close();
    }
  });
});
