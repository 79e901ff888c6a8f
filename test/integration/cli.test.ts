// `katabot serve` as users start it: with nothing configured it runs in development mode; with a broken
// config file it refuses to start with one line naming the file and key, and no stack trace.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../fixtures/redis.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'katabot-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string>, until?: RegExp, timeoutMs = 20_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; kill: () => void }>((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/katabot.js'), ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, ...env },
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const check = () => {
      if (until && until.test(stdout + stderr)) resolve({ code: null, stdout, stderr, kill: () => child.kill('SIGTERM') });
    };
    child.stdout.on('data', (d) => ((stdout += d), check()));
    child.stderr.on('data', (d) => ((stderr += d), check()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, kill: () => undefined });
    });
  });
}

describe('katabot serve', () => {
  it('starts with nothing configured: dev secret, in-memory store, dry-run GitHub, ProwJobs as files', async () => {
    const port = await freePort();
    const r = await run(['serve'], { PORT: String(port), HOST: '127.0.0.1' }, /katabot listening/);
    try {
      assert.equal(r.code, null, r.stderr);
      const out = r.stdout + r.stderr;
      assert.match(out, /WEBHOOK_SECRET is unset/);
      assert.match(out, /REDIS_URL is unset/);
      assert.match(out, /dry-run GitHub/);
      assert.match(out, /KUBECONFIG is unset/);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(health.status, 200);
    } finally {
      r.kill();
    }
  });

  it('refuses to start on a malformed config with one line naming the file and key', async () => {
    const bad = join(dir, 'katabot.yaml');
    writeFileSync(bad, 'orgs: [kata-containers]\ntdx:\n  approvers: alice\n');
    const r = await run(['serve'], { PORT: '0', KATABOT_CONFIG: bad });
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('katabot:'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /katabot\.yaml/);
    assert.match(lines[0]!, /tdx\.approvers/);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  });

  it('lists its verbs', async () => {
    const r = await run(['--help'], {});
    assert.equal(r.code, 0);
    assert.match(r.stdout, /serve/);
    assert.match(r.stdout, /trace/);
  });
});

describe('katabot import', () => {
  const FIXTURES = join(ROOT, 'test/fixtures/importers');

  it('converts real Tetragon output into a trace that katabot profile reads', async () => {
    const out = join(dir, 'tetragon.trace.jsonl');
    const r = await run(['import', '--from', 'tetragon', join(FIXTURES, 'tetragon-lifecycle.jsonl'), '--out', out], {});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, 'katabot import: 4 events from tetragon (2 exec, 2 exit)\n');
    const p = await run(['profile', out], {});
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /\/usr\/bin\/nc/);
  });

  it('skips and counts a malformed line; --strict fails on it with one line', async () => {
    const broken = join(dir, 'broken.jsonl');
    writeFileSync(broken, '{"process_exec": \n' + readFileSync(join(FIXTURES, 'tetragon-events.jsonl'), 'utf8'));
    const lenient = await run(['import', '--from', 'tetragon', broken], {});
    assert.equal(lenient.code, 0, lenient.stderr);
    assert.match(lenient.stderr, /3 events from tetragon \(3 exec\); 1 malformed line skipped/);
    assert.equal(lenient.stdout.trim().split('\n').length, 5, 'header, 3 events, footer');
    const strict = await run(['import', '--from', 'tetragon', '--strict', broken], {});
    assert.equal(strict.code, 1);
    assert.equal(strict.stdout, '');
    assert.match(strict.stderr, /^katabot import: .*broken\.jsonl: line 1: not JSON/);
    assert.equal(strict.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
  });

  it('names the tools it knows when --from is wrong', async () => {
    const r = await run(['import', '--from', 'falco', join(FIXTURES, 'tetragon-events.jsonl')], {});
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'katabot import: --from wants tetragon, inspektor-gadget, kubearmor, got "falco"\n');
  });
});
