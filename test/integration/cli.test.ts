// `katabot serve` as users start it: with nothing configured it runs in development mode; with a broken
// config file it refuses to start with one line naming the file and key, and no stack trace.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
