// `npm run build` output runs with plain `node`, laid out as the Dockerfile's bot image lays it out (bin/, data/,
// dist/, package.json, node_modules; no src/), because no Docker engine is available to build the image itself.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');

describe('the built JavaScript (the image layout, without Docker)', () => {
  let app: string;
  before(async () => {
    app = mkdtempSync(join(tmpdir(), 'katabot-image-'));
    // What `npm run build` does (tsc -p tsconfig.build.json), into the copy instead of the work tree's dist/.
    await execFileAsync(TSC, ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(app, 'dist')], { cwd: ROOT, timeout: 120_000 });
    cpSync(join(ROOT, 'bin'), join(app, 'bin'), { recursive: true });
    cpSync(join(ROOT, 'data'), join(app, 'data'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(app, 'package.json'));
    cpSync(join(ROOT, 'app.yml'), join(app, 'app.yml'));
    symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'), 'dir');
  });
  after(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('has no src/ and no TypeScript, so bin/katabot.js runs dist/cli/main.js', () => {
    assert.ok(!existsSync(join(app, 'src')));
    assert.ok(existsSync(join(app, 'dist', 'cli', 'main.js')));
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
    const files = walk(join(app, 'dist'));
    assert.deepEqual(files.filter((f) => f.endsWith('.ts')), []);
    for (const f of files.filter((x) => x.endsWith('.js'))) assert.doesNotMatch(readFileSync(f, 'utf8'), /from '\.{1,2}\/[^']*\.ts'/, `${f} imports a .ts file`);
  });

  it('imports only Node built-ins and production dependencies (what `npm ci --omit=dev` installs)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules]);
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.js') ? [join(d, e.name)] : []));
    const bad: string[] = [];
    for (const f of walk(join(app, 'dist'))) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const spec = (m[1] ?? m[2])!;
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!allowed.has(name)) bad.push(`${f.slice(app.length + 1)}: ${spec}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('`katabot guest` (inside every traced Kata guest) runs its own small entry, without the bot\'s modules', async () => {
    assert.ok(existsSync(join(app, 'dist', 'cli', 'guest-main.js')));
    const { stdout } = await execFileAsync(process.execPath, [join(app, 'bin', 'katabot.js'), 'guest', '--help'], { cwd: app, timeout: 30_000 });
    assert.match(stdout, /--collector <host:port>/);
    // the entry's import graph stays the tracer's: no bot, no Kubernetes client at load time
    const seen = new Set<string>();
    const visit = (f: string): void => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const m of readFileSync(f, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.[^'"]+)['"]/g)) visit(join(f, '..', m[1]!));
    };
    visit(join(app, 'dist', 'cli', 'guest-main.js'));
    const loaded = [...seen].map((f) => f.slice(join(app, 'dist').length + 1)).sort();
    assert.deepEqual(loaded.filter((f) => /^(server|handlers|reporter|adapters|behavior|dashboard)\//.test(f)), [], loaded.join(', '));
  });

  it('`node bin/katabot.js --help` lists the verbs', async () => {
    const { stdout } = await execFileAsync(process.execPath, [join(app, 'bin', 'katabot.js'), '--help'], { cwd: app, timeout: 30_000 });
    assert.match(stdout, /\bserve\b/);
    assert.match(stdout, /\btrace\b/);
  });

  const SPEC = join(ROOT, '..', 'shared', 'kubernetes', 'openapi-v2-swagger.json.gz');
  it('`katabot apis` reads its data (Kubernetes\' ineligible endpoints) beside dist/', { skip: existsSync(SPEC) ? false : `no spec at ${SPEC}` }, async () => {
    const log = join(app, 'audit.log');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(log, JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: 'a', stage: 'ResponseComplete', verb: 'get', requestURI: '/api/v1/nodes/n/proxy' }) + '\n');
    const { stdout } = await execFileAsync(process.execPath, [join(app, 'bin', 'katabot.js'), 'apis', log, '--openapi', SPEC], { cwd: app, timeout: 60_000 });
    const u = JSON.parse(stdout) as { endpoints: Array<{ endpoint: string; ineligibleReason?: string }>; ineligible: unknown[] };
    assert.equal(u.endpoints[0]!.ineligibleReason, 'Unable to be tested, and likely soon deprecated');
    assert.ok(u.ineligible.length > 80);
  });

  it('`node bin/katabot.js serve` answers /healthz and /readyz, and stops on SIGTERM', async () => {
    const child: ChildProcess = spawn(process.execPath, [join(app, 'bin', 'katabot.js'), 'serve', '--port', '0', '--host', '127.0.0.1'], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', WEBHOOK_SECRET: 'build-output-test', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let url: string | undefined;
      for (let i = 0; i < 150 && !url; i++) {
        await new Promise((r) => setTimeout(r, 100));
        for (const line of out.split('\n')) {
          if (!line.includes('katabot listening')) continue;
          url = (JSON.parse(line) as { url: string }).url;
        }
        if (child.exitCode !== null) break;
      }
      assert.ok(url, `katabot did not start:\n${out}\n${err}`);
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(await health.text(), 'ok\n');
      const ready = await fetch(`${url}/readyz`);
      assert.equal(ready.status, 200, await ready.clone().text());
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, `exit status after SIGTERM\n${err}`);
  });
});
