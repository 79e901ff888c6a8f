// The functional core stays pure: parsing, policy, job building, rendering and trace analysis import no
// I/O modules and no adapters, so they can be tested with plain data and reasoned about locally.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;
const PURE = ['src/commands', 'src/policy', 'src/jobs', 'src/report', 'src/plan', 'src/trace', 'src/bpf', 'src/dashboard'];
const FORBIDDEN = [
  /^node:(fs|fs\/promises|net|http|https|child_process|dgram|dns|tls|worker_threads|cluster)$/,
  /^(fs|net|http|https|child_process)$/,
  /^ioredis$/,
  /^bullmq$/,
  /^@kubernetes\/client-node$/,
  /^probot$/,
  /^express$/,
  /\/adapters\//,
  /\/handlers\//,
  /\/server\//,
  /\/tracer\//,
];

function files(dir: string): string[] {
  let out: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('architecture: pure core', () => {
  for (const dir of PURE) {
    it(`${dir} imports no I/O`, () => {
      for (const file of files(join(root, dir))) {
        const src = readFileSync(file, 'utf8');
        // Type-only imports erase at runtime, so they may name client types (e.g. V1PodSpec).
        for (const m of src.matchAll(/^\s*import\s+(?!type\b)[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
          const spec = m[1]!;
          const bad = FORBIDDEN.find((re) => re.test(spec));
          assert.equal(bad, undefined, `${relative(root, file)} imports ${spec}`);
        }
        assert.doesNotMatch(src, /\bprocess\.env\b/, `${relative(root, file)} reads the environment`);
      }
    });
  }
});
