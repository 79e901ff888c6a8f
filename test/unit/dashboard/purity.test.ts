// src/dashboard is pure (no I/O, no adapters), and the modules the browser bundle shares with the server import
// nothing else, so the front end stays small and cannot pull server code in.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const dir = new URL('../../../src/dashboard/', import.meta.url).pathname;
const web = new URL('../../../web/src/', import.meta.url).pathname;
const imports = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^\s*import\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => ({ type: !!m[1], spec: m[2]! }));

describe('src/dashboard', () => {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
    it(`${f} imports no I/O and reads no environment`, () => {
      for (const { type, spec } of imports(join(dir, f))) {
        if (type) continue;
        assert.doesNotMatch(spec, /^node:|^(fs|net|http|https|child_process|ioredis|express|probot)$|\/(adapters|handlers|server|tracer|behavior)\//, `${f} imports ${spec}`);
      }
      assert.doesNotMatch(readFileSync(join(dir, f), 'utf8'), /\bprocess\.env\b/);
    });
  }

  it('the browser bundle shares only the dependency-free modules', () => {
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
    const shared = new Set<string>();
    for (const f of walk(web).filter((x) => /\.tsx?$/.test(x))) {
      for (const { type, spec } of imports(f)) if (!type && spec.includes('/src/dashboard/')) shared.add(spec.replace(/^.*\/src\/dashboard\//, ''));
    }
    assert.deepEqual([...shared].sort(), ['query.ts', 'required-text.ts', 'sunburst.ts', 'weather.ts']);
    for (const f of shared) {
      for (const { type, spec } of imports(join(dir, f))) if (!type) assert.match(spec, /^\.\/(weather|query|required-text|sunburst)\.ts$/, `${f} imports ${spec}`);
    }
  });
});
