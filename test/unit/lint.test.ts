// The layer rules (.dependency-cruiser.cjs) and knip, which `npm run lint` runs on the source in `npm test`: here
// each is shown failing on a small tree with one deliberate violation, so a rule that stopped firing would be
// noticed. Plus what neither tool checks: pure folders never read the environment.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, describe, it } from 'node:test';

const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = join(ROOT, 'node_modules/.bin');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A throwaway tree of `files` (path → text), with the project's configs. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'katabot-lint-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries({ 'tsconfig.json': '{"compilerOptions":{"allowImportingTsExtensions":true,"noEmit":true}}', ...files })) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function depcruise(dir: string): { code: number; out: string } {
  const r = spawnSync(join(BIN, 'depcruise'), ['src', '--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'err'], { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

describe('the layer rules fire', () => {
  const cases: Array<{ name: string; files: Record<string, string>; rule: string }> = [
    {
      name: 'a folder importing one above it, by a type import',
      files: { 'src/jobs/select.ts': "import type { HandlerDeps } from '../handlers/deps.ts';\nexport type X = HandlerDeps;\n", 'src/handlers/deps.ts': 'export interface HandlerDeps { a: 1 }\n' },
      rule: 'jobs-imports-above',
    },
    {
      name: 'a pure folder doing I/O',
      files: { 'src/plan/comment.ts': "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n" },
      rule: 'pure-folder-does-io',
    },
    {
      name: 'a cycle inside one folder',
      files: { 'src/trace/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n", 'src/trace/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n" },
      rule: 'no-circular',
    },
    {
      name: 'the browser bundle importing server code',
      files: { 'web/src/main.tsx': "import { planComment } from '../../src/plan/comment.ts';\nexport const p = planComment;\n", 'src/plan/comment.ts': 'export const planComment = 1;\n' },
      rule: 'browser-imports-server-code',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const dir = tree(c.files);
      const src = c.files['web/src/main.tsx'] ? ['src', 'web/src'] : ['src'];
      const r = spawnSync(join(BIN, 'depcruise'), [...src, '--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'err'], { cwd: dir, encoding: 'utf8' });
      assert.notEqual(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, new RegExp(`error ${c.rule}:`));
    });
  }

  it('and a tree without violations passes', () => {
    const dir = tree({ 'src/handlers/deps.ts': "import type { Job } from '../jobs/select.ts';\nexport type X = Job;\n", 'src/jobs/select.ts': 'export interface Job { name: string }\n' });
    const r = depcruise(dir);
    assert.equal(r.code, 0, r.out);
  });
});

describe('knip fires', () => {
  it('on an export nothing uses', () => {
    const dir = tree({
      'package.json': '{"name":"t","type":"module","version":"0.0.0"}',
      'knip.json': '{"entry":["src/main.ts"],"project":["src/**/*.ts"]}',
      'src/main.ts': "import { used } from './lib.ts';\nconsole.log(used);\n",
      'src/lib.ts': 'export const used = 1;\nexport const unused = 2;\n',
    });
    const r = spawnSync(join(BIN, 'knip'), ['--no-progress'], { cwd: dir, encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /Unused exports[\s\S]*unused\s+src\/lib\.ts/);
  });
});

describe('pure folders read no environment', () => {
  const PURE = ['config', 'commands', 'trace', 'bpf', 'policy', 'jobs', 'render', 'dashboard', 'plan'];
  const walk = (d: string): string[] => readdirSync(d).flatMap((e) => (statSync(join(d, e)).isDirectory() ? walk(join(d, e)) : e.endsWith('.ts') ? [join(d, e)] : []));
  for (const folder of PURE) {
    it(`src/${folder}`, () => {
      for (const f of walk(join(ROOT, 'src', folder))) {
        if (/\/config\/load[^/]*\.ts$/.test(f)) continue; // the loaders are the shell
        assert.doesNotMatch(readFileSync(f, 'utf8'), /\bprocess\.env\b/, `${relative(ROOT, f)} reads the environment`);
      }
    });
  }
});
