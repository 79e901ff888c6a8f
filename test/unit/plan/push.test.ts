// planPush, one case per row: the central postsubmits Prow's trigger would start, plus the pushed commit's own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Postsubmit } from '../../../src/config/prow-types.ts';
import type { Facts } from '../../../src/plan/facts.ts';
import { planPush } from '../../../src/plan/push.ts';

const spec = { containers: [{ name: '', image: 'x' }] };
const central: Postsubmit[] = [
  { name: 'post-build', branches: ['^main$'], spec },
  { name: 'post-docs', run_if_changed: '^docs/', spec },
  { name: 'post-release', branches: ['^v\\d+\\.\\d+\\.\\d+$'], spec },
];
const inRepo: Postsubmit[] = [{ name: 'post-own', skip_if_only_changed: '\\.md$', spec }];
const SHA = 'a'.repeat(40);

describe('planPush', () => {
  const cases: Array<{ name: string; ref: string; files?: string[]; deleted?: boolean; inRepoConfig?: boolean; facts?: Facts; want: string[] | 'needs in-repo'; error?: boolean }> = [
    { name: 'main, code change', ref: 'refs/heads/main', files: ['a.go'], want: ['post-build'] },
    { name: 'main, docs change', ref: 'refs/heads/main', files: ['docs/x.md'], want: ['post-build', 'post-docs'] },
    { name: 'a tag matches branches by its name', ref: 'refs/tags/v3.2.0', files: [], want: ['post-release'] },
    { name: 'a deleted branch starts nothing', ref: 'refs/heads/main', files: ['a.go'], deleted: true, want: [] },
    { name: 'in-repo config asks for the pushed commit\'s jobs', ref: 'refs/heads/main', files: ['a.go'], inRepoConfig: true, want: 'needs in-repo' },
    { name: 'in-repo postsubmits join the central ones', ref: 'refs/heads/main', files: ['a.go'], inRepoConfig: true, facts: { inRepoConfig: { presubmits: [], postsubmits: inRepo } }, want: ['post-build', 'post-own'] },
    { name: 'in-repo rules apply to the push too', ref: 'refs/heads/main', files: ['README.md'], inRepoConfig: true, facts: { inRepoConfig: { presubmits: [], postsubmits: inRepo } }, want: ['post-build'] },
    { name: 'an unreadable .prow.yaml leaves the central jobs', ref: 'refs/heads/main', files: ['a.go'], inRepoConfig: true, facts: { inRepoConfig: { error: { file: '.prow.yaml', line: 3, message: 'bad' } } }, want: ['post-build'], error: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const push = { ref: c.ref, after: c.deleted ? '0'.repeat(40) : SHA, deleted: c.deleted ?? false, commits: [{ added: c.files ?? [], modified: [], removed: [] }] };
      const s = planPush({ push, postsubmits: central, inRepoConfig: c.inRepoConfig ?? false }, c.facts ?? {});
      if (c.want === 'needs in-repo') return assert.deepEqual(s, { need: { fact: 'inRepoConfig' } });
      assert.ok('plan' in s);
      assert.deepEqual(s.plan.jobs.map((j) => j.name), c.want);
      assert.equal(s.plan.inRepoError !== undefined, c.error ?? false);
    });
  }
});
