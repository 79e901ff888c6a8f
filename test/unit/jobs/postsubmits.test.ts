// Postsubmits on push, as Prow's trigger picks them (push.go handlePE, Postsubmit.ShouldRun). Jobs: gardener's real
// post-ci-infra-copy-images (test/fixtures/prow-real) and the Kata fixture; pushes: @octokit/webhooks-examples.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { loadConfigSnapshot } from '../../../src/config/load.ts';
import { isDeletedRef, postsubmitShouldRun, postsubmitsForPush, pushBaseRef, pushChangedFiles, selectPostsubmits, type PushFacts } from '../../../src/jobs/postsubmits.ts';
import type { Postsubmit } from '../../../src/config/prow-types.ts';

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: PushFacts[] }>;
const pushes = examples.find((e) => e.name === 'push')?.examples ?? [];

const spec = { containers: [{ image: 'x' }] } as Postsubmit['spec'];
const job = (name: string, extra: Partial<Postsubmit> = {}): Postsubmit => ({ name, spec, ...extra });

describe('postsubmitShouldRun', () => {
  const cases: Array<{ name: string; job: Postsubmit; ref: string; files: string[]; want: boolean }> = [
    { name: 'no rules: every push', job: job('a'), ref: 'main', files: [], want: true },
    { name: 'always_run: false and no change rule: never', job: job('a', { always_run: false }), ref: 'main', files: ['x'], want: false },
    { name: 'always_run: true', job: job('a', { always_run: true }), ref: 'main', files: [], want: true },
    { name: 'branches: matching branch', job: job('a', { branches: ['^main$'] }), ref: 'main', files: [], want: true },
    { name: 'branches: other branch', job: job('a', { branches: ['^main$'] }), ref: 'stable-3.2', files: [], want: false },
    { name: 'branches match tags by name (release jobs)', job: job('a', { branches: ['^v\\d+\\.\\d+\\.\\d+$'] }), ref: 'v3.2.0', files: [], want: true },
    { name: 'skip_branches wins', job: job('a', { branches: ['.*'], skip_branches: ['^stable-'] }), ref: 'stable-3.2', files: [], want: false },
    { name: 'run_if_changed: a matching file', job: job('a', { run_if_changed: '^docs/' }), ref: 'main', files: ['src/a.go', 'docs/x.md'], want: true },
    { name: 'run_if_changed: no matching file', job: job('a', { run_if_changed: '^docs/' }), ref: 'main', files: ['src/a.go'], want: false },
    { name: 'run_if_changed decides even with always_run: false', job: job('a', { run_if_changed: '^docs/', always_run: false }), ref: 'main', files: ['docs/x.md'], want: true },
    { name: 'skip_if_only_changed: only docs changed', job: job('a', { skip_if_only_changed: '^docs/' }), ref: 'main', files: ['docs/x.md'], want: false },
    { name: 'skip_if_only_changed: code changed too', job: job('a', { skip_if_only_changed: '^docs/' }), ref: 'main', files: ['docs/x.md', 'src/a.go'], want: true },
    { name: 'a change rule with no changed files: no run', job: job('a', { run_if_changed: '.*' }), ref: 'main', files: [], want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(postsubmitShouldRun(c.job, c.ref, c.files), c.want));
});

describe('push facts', () => {
  it('refs: branches and tags lose their prefix', () => {
    assert.equal(pushBaseRef('refs/heads/main'), 'main');
    assert.equal(pushBaseRef('refs/heads/release/1.2'), 'release/1.2');
    assert.equal(pushBaseRef('refs/tags/simple-tag'), 'simple-tag');
  });
  it('the octokit examples: deleted tags start nothing; a branch push lists its files', () => {
    assert.ok(pushes.length >= 5);
    for (const p of pushes) assert.equal(isDeletedRef(p), p.deleted === true || /^0+$/.test(p.after), p.ref);
    const branchPush = pushes.find((p) => p.ref === 'refs/heads/master' && !p.deleted);
    assert.ok(branchPush);
    assert.deepEqual(pushChangedFiles(branchPush), ['README.md']);
    const deleted = pushes.find((p) => p.deleted);
    assert.ok(deleted);
    assert.deepEqual(postsubmitsForPush([job('every-push')], deleted).jobs, [], 'a deleted ref starts nothing');
  });
  it('changed files: added, removed and modified, once each', () => {
    assert.deepEqual(pushChangedFiles({ commits: [{ added: ['a'], modified: ['b'] }, { removed: ['a'], modified: ['c', 'b'] }] }), ['a', 'b', 'c']);
  });
});

describe('real postsubmits', () => {
  it("gardener's post-ci-infra-copy-images: master only, and only when config/images changed", async () => {
    const s = await loadConfigSnapshot({ PROW_CONFIG: new URL('../../fixtures/prow-real/gardener-ci-infra/config/prow/config.yaml', import.meta.url).pathname, JOB_CONFIG: new URL('../../fixtures/prow-real/gardener-ci-infra/config/jobs', import.meta.url).pathname });
    const posts = s.jobs.postsubmits['gardener/ci-infra'] ?? [];
    const names = (ref: string, files: string[]): string[] => postsubmitsForPush(posts, { ref, after: 'a'.repeat(40), commits: [{ modified: files }] }).jobs.map((j) => j.name);
    assert.deepEqual(names('refs/heads/master', ['config/images/images.yaml']), ['post-ci-infra-copy-images']);
    assert.deepEqual(names('refs/heads/master', ['README.md']), []);
    assert.deepEqual(names('refs/heads/feature', ['config/images/images.yaml']), []);
    assert.deepEqual(names('refs/heads/master', []), []);
  });
  it('Kata fixture: selectPostsubmits keeps config order', async () => {
    const s = await loadConfigSnapshot({ JOB_CONFIG: new URL('../../fixtures/jobs/job-config', import.meta.url).pathname });
    const posts = s.jobs.postsubmits['kata-containers/kata-containers'] ?? [];
    assert.deepEqual(selectPostsubmits(posts, 'main', ['docs/install.md']).map((p) => p.name), ['post-kata-static-tarball-amd64', 'post-kata-docs-publish']);
    assert.deepEqual(selectPostsubmits(posts, 'main', ['src/runtime/main.go']).map((p) => p.name), ['post-kata-static-tarball-amd64']);
    assert.deepEqual(selectPostsubmits(posts, 'stable-3.2', ['docs/install.md']), [], 'the fixture postsubmits run on main only');
  });
});
