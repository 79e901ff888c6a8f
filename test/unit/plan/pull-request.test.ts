import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJobConfig } from '../../../src/config/prow-config.ts';
import type { Facts, PullFacts } from '../../../src/plan/facts.ts';
import { planPullRequest, planPullRequestEvent, type PullRequestEventInput, type PullRequestInput, type PullRequestPlan } from '../../../src/plan/pull-request.ts';
import { JOBS_YAML } from '../../fixtures/config.ts';
import { policy } from '../policy/fixtures.ts';

type Want = Partial<Omit<PullRequestPlan, 'reason'>>;

interface Case {
  name: string;
  action: string;
  author?: 'trusted' | 'untrusted';
  draft?: boolean;
  labels?: string[];
  labelAdded?: string;
  sender?: string;
  baseChanged?: boolean;
  mergeable?: boolean | null;
  ignoreOkToTest?: boolean;
  sticky?: boolean;
  want: Want;
}

const BUILD: Want = { build: 'all' };

// Prow's TestHandlePullRequest cases first (ShouldBuild / ShouldComment / labels added), then katabot's.
const cases: Case[] = [
  { name: 'trusted user open PR should build', action: 'opened', want: BUILD },
  { name: 'trusted user open draft PR should not build and should comment', action: 'opened', draft: true, want: { draftNotice: true } },
  {
    name: 'untrusted user open PR with ok-to-test should not add needs-ok-to-test',
    action: 'opened',
    author: 'untrusted',
    labels: ['ok-to-test'],
    want: { welcome: true },
  },
  { name: 'untrusted user open PR without ok-to-test should add needs-ok-to-test', action: 'opened', author: 'untrusted', want: { welcome: true, addLabels: ['needs-ok-to-test'] } },
  { name: 'untrusted user open draft PR should not build and should comment', action: 'opened', author: 'untrusted', draft: true, want: { welcome: true, addLabels: ['needs-ok-to-test'] } },
  { name: 'untrusted user open PR with ignore_ok_to_test adds no label', action: 'opened', author: 'untrusted', ignoreOkToTest: true, want: { welcome: true } },
  { name: 'untrusted user open PR already labelled needs-ok-to-test', action: 'opened', author: 'untrusted', labels: ['needs-ok-to-test'], want: { welcome: true } },
  { name: 'trusted user open PR drops a stale needs-ok-to-test', action: 'opened', labels: ['needs-ok-to-test'], want: { build: 'all', removeLabels: ['needs-ok-to-test'] } },
  { name: 'trusted user open PR that is not mergeable', action: 'opened', mergeable: false, want: {} },
  { name: 'trusted user open PR while mergeable is unknown', action: 'opened', mergeable: null, want: BUILD },
  { name: 'trusted user reopen PR should build', action: 'reopened', want: BUILD },
  { name: 'trusted user reopen draft PR should not build', action: 'reopened', draft: true, want: {} },
  { name: 'trusted user switch PR from draft to normal should build', action: 'ready_for_review', want: BUILD },
  { name: 'untrusted user switch PR from draft to normal should not build', action: 'ready_for_review', author: 'untrusted', want: {} },
  { name: 'untrusted user switch PR from draft to normal with ok-to-test should build', action: 'ready_for_review', author: 'untrusted', labels: ['ok-to-test'], want: BUILD },
  { name: 'untrusted user reopen PR with ok-to-test should build', action: 'reopened', author: 'untrusted', labels: ['ok-to-test'], want: BUILD },
  { name: 'untrusted user reopen PR without ok-to-test should not build', action: 'reopened', author: 'untrusted', want: {} },
  { name: 'untrusted user reopen draft PR should not build', action: 'reopened', author: 'untrusted', draft: true, want: {} },
  { name: 'trusted user edit PR with changes should build', action: 'edited', baseChanged: true, want: BUILD },
  { name: 'trusted user edit draft PR with changes should not build', action: 'edited', baseChanged: true, draft: true, want: {} },
  { name: 'trusted user edit PR without changes should not build', action: 'edited', want: {} },
  { name: 'untrusted user edit PR without changes and without ok-to-test should not build', action: 'edited', author: 'untrusted', want: {} },
  { name: 'untrusted user edit PR with changes and without ok-to-test should not build', action: 'edited', author: 'untrusted', baseChanged: true, want: {} },
  { name: 'untrusted user edit PR without changes and with ok-to-test should not build', action: 'edited', author: 'untrusted', labels: ['ok-to-test'], want: {} },
  { name: 'untrusted user edit PR with changes and with ok-to-test should build', action: 'edited', author: 'untrusted', labels: ['ok-to-test'], baseChanged: true, want: BUILD },
  { name: 'trusted user sync PR should build', action: 'synchronize', want: { abort: true, build: 'all' } },
  { name: 'untrusted user sync PR without ok-to-test should not build', action: 'synchronize', author: 'untrusted', want: { abort: true } },
  { name: 'untrusted user sync PR with ok-to-test should build', action: 'synchronize', author: 'untrusted', labels: ['ok-to-test'], want: { abort: true, build: 'all' } },
  { name: 'trusted user labeled PR with lgtm should not build', action: 'labeled', labelAdded: 'lgtm', labels: ['lgtm'], want: {} },
  { name: 'untrusted user labeled PR with lgtm should build', action: 'labeled', author: 'untrusted', labelAdded: 'lgtm', labels: ['lgtm'], want: BUILD },
  { name: 'untrusted draft PR labeled lgtm should not build', action: 'labeled', author: 'untrusted', draft: true, labelAdded: 'lgtm', labels: ['lgtm'], want: {} },
  { name: 'untrusted PR with ok-to-test labeled lgtm should not build', action: 'labeled', author: 'untrusted', labelAdded: 'lgtm', labels: ['lgtm', 'ok-to-test'], want: {} },
  { name: 'untrusted user labeled PR without lgtm should not build', action: 'labeled', author: 'untrusted', labelAdded: 'test', labels: ['test'], want: {} },
  { name: 'trusted user closed PR should not build', action: 'closed', want: { abort: true } },
  { name: 'trusted user labeled PR with ok-to-test should build', action: 'labeled', labelAdded: 'ok-to-test', sender: 'not-katabot', labels: ['ok-to-test'], want: BUILD },
  { name: 'untrusted user labeled PR with ok-to-test should build', action: 'labeled', author: 'untrusted', labelAdded: 'ok-to-test', sender: 'not-katabot', labels: ['ok-to-test'], want: BUILD },
  {
    name: 'ok-to-test by hand drops needs-ok-to-test',
    action: 'labeled',
    author: 'untrusted',
    labelAdded: 'ok-to-test',
    sender: 'maintainer',
    labels: ['ok-to-test', 'needs-ok-to-test'],
    want: { build: 'all', removeLabels: ['needs-ok-to-test'] },
  },
  { name: 'label added by the bot: build should not be triggered', action: 'labeled', author: 'untrusted', labelAdded: 'ok-to-test', sender: 'katabot[bot]', labels: ['ok-to-test'], want: {} },
  { name: 'lgtm added by the bot does nothing', action: 'labeled', author: 'untrusted', labelAdded: 'lgtm', sender: 'katabot[bot]', labels: ['lgtm'], want: {} },
  { name: 'ok-to-test by a user named like the App builds', action: 'labeled', author: 'untrusted', labelAdded: 'ok-to-test', sender: 'katabot', labels: ['ok-to-test'], want: BUILD },
  { name: 'abort jobs if PR is closed', action: 'closed', labels: ['ok-to-test'], want: { abort: true } },
  { name: 'abort jobs if PR is changed to draft', action: 'converted_to_draft', labels: ['ok-to-test'], want: { abort: true } },
  { name: 'abort old jobs and build on push', action: 'synchronize', labels: ['ok-to-test'], want: { abort: true, build: 'all' } },
  { name: 'push to a draft aborts and does not build', action: 'synchronize', draft: true, want: { abort: true } },
  { name: 'push to an unmergeable PR aborts and does not build', action: 'synchronize', mergeable: false, want: { abort: true } },
  { name: 'push keeps ok-to-test', action: 'synchronize', author: 'untrusted', labels: ['ok-to-test'], want: { abort: true, build: 'all' } },
  { name: 'push to a trusted PR drops needs-ok-to-test', action: 'synchronize', labels: ['needs-ok-to-test'], want: { abort: true, build: 'all', removeLabels: ['needs-ok-to-test'] } },
  { name: 'push to a trusted draft still drops needs-ok-to-test (Prow)', action: 'synchronize', draft: true, labels: ['needs-ok-to-test'], want: { abort: true, removeLabels: ['needs-ok-to-test'] } },
  // TDX.
  { name: 'push removes a non-sticky TDX label', action: 'synchronize', labels: ['ok-to-test-tdx'], want: { abort: true, build: 'all', removeLabels: ['ok-to-test-tdx'] } },
  { name: 'push keeps a sticky TDX label', action: 'synchronize', sticky: true, labels: ['ok-to-test-tdx'], want: { abort: true, build: 'all' } },
  { name: 'push without the TDX label removes nothing', action: 'synchronize', want: { abort: true, build: 'all' } },
  { name: 'push to an untrusted PR still removes the TDX label', action: 'synchronize', author: 'untrusted', labels: ['ok-to-test-tdx'], want: { abort: true, removeLabels: ['ok-to-test-tdx'] } },
  {
    name: 'push removes TDX and needs-ok-to-test',
    action: 'synchronize',
    labels: ['ok-to-test-tdx', 'needs-ok-to-test'],
    want: { abort: true, build: 'all', removeLabels: ['ok-to-test-tdx', 'needs-ok-to-test'] },
  },
  { name: 'TDX label by an approver stays', action: 'labeled', labelAdded: 'ok-to-test-tdx', sender: 'alice', labels: ['ok-to-test-tdx'], want: {} },
  { name: 'TDX label by a non-approver is removed', action: 'labeled', labelAdded: 'ok-to-test-tdx', sender: 'mallory', labels: ['ok-to-test-tdx'], want: { removeLabels: ['ok-to-test-tdx'] } },
  { name: 'TDX label by the bot does nothing', action: 'labeled', labelAdded: 'ok-to-test-tdx', sender: 'katabot[bot]', labels: ['ok-to-test-tdx'], want: {} },
  { name: 'reopen does not touch the TDX label', action: 'reopened', labels: ['ok-to-test-tdx'], want: BUILD },
  // Other actions.
  { name: 'unlabeled does nothing', action: 'unlabeled', labelAdded: undefined, want: {} },
  { name: 'assigned does nothing', action: 'assigned', want: {} },
];

function input(c: Case): PullRequestEventInput {
  return {
    action: c.action,
    draft: c.draft ?? false,
    authorTrusted: (c.author ?? 'trusted') === 'trusted',
    labels: c.labels ?? [],
    ...(c.labelAdded !== undefined ? { labelAdded: c.labelAdded } : {}),
    sender: c.sender ?? 'author',
    botLogin: 'katabot[bot]',
    baseChanged: c.baseChanged ?? false,
    mergeable: c.mergeable === undefined ? true : c.mergeable,
    policy: policy({ ignore_ok_to_test: c.ignoreOkToTest ?? false }, { sticky: c.sticky ?? false }),
  };
}

describe('planPullRequestEvent', () => {
  for (const c of cases) {
    it(c.name, () => {
      const { reason, ...got } = planPullRequestEvent(input(c));
      assert.ok(reason.length > 0);
      assert.deepEqual(got, { abort: false, build: 'none', welcome: false, draftNotice: false, addLabels: [], removeLabels: [], ...c.want });
    });
  }
});

describe('planPullRequest: jobs, the TDX approval, and the facts asked for', () => {
  const presubmits = parseJobConfig([{ path: 'jobs.yaml', text: JOBS_YAML }]).presubmits['kata-containers/kata-containers']!;
  const head = 'a'.repeat(40);
  const pr = (over: Partial<PullFacts> = {}): PullFacts => ({
    number: 7, state: 'open', draft: false, merged: false, mergeable: true, title: 't', author: 'alice', authorLink: '', link: 'https://github.com/o/r/pull/7',
    headSha: head, headRef: 'topic', baseRef: 'main', baseSha: 'b'.repeat(40), repoLink: 'https://github.com/o/r', labels: [], ...over,
  });
  const cases: Array<{
    name: string;
    action: string;
    pr?: Partial<PullFacts>;
    sender?: string;
    labelAdded?: string;
    body?: string;
    trusted?: boolean;
    approval?: string | null;
    presubmits?: typeof presubmits;
    want: { jobs: string[]; approval?: 'record' | 'clear' | 'keep'; abort?: boolean; labels?: { add: string[]; remove: string[] }; welcome?: boolean; body?: boolean };
    asked: string[];
  }> = [
    { name: 'trusted author opens: the /test all set', action: 'opened', want: { jobs: ['e2e-kata-clh', 'e2e-kata-qemu', 'metrics-silent'] }, asked: ['member:alice', 'changedFiles'] },
    { name: 'untrusted author opens: welcome and the label, no job', action: 'opened', trusted: false, want: { jobs: [], welcome: true, labels: { add: ['needs-ok-to-test'], remove: [] } }, asked: ['member:alice', 'collaborator:alice'] },
    { name: 'closing aborts and asks nothing', action: 'closed', want: { jobs: [], abort: true }, asked: [] },
    { name: 'a repository without presubmits: nothing at all', action: 'opened', presubmits: [], want: { jobs: [] }, asked: [] },
    {
      name: 'push: abort, drop the approval and the label, rebuild without the TDX job',
      action: 'synchronize',
      pr: { labels: ['ok-to-test-tdx'] },
      want: { jobs: ['e2e-kata-clh', 'e2e-kata-qemu', 'metrics-silent'], abort: true, approval: 'clear', labels: { add: [], remove: ['ok-to-test-tdx'] } },
      asked: ['member:alice', 'changedFiles'],
    },
    {
      name: "an approver's TDX label approves this head at once",
      action: 'labeled',
      labelAdded: 'ok-to-test-tdx',
      sender: 'alice',
      pr: { labels: ['ok-to-test-tdx'] },
      want: { jobs: [], approval: 'record' },
      asked: [],
    },
    {
      name: 'ok-to-test by hand on a TDX-approved head runs the TDX job too (recorded approval read)',
      action: 'labeled',
      labelAdded: 'ok-to-test',
      sender: 'maintainer',
      trusted: false,
      approval: head,
      pr: { labels: ['ok-to-test', 'ok-to-test-tdx'] },
      want: { jobs: ['e2e-kata-clh', 'e2e-kata-qemu', 'e2e-kata-qemu-tdx', 'metrics-silent'] },
      asked: ['changedFiles', 'tdxApproval'],
    },
    { name: 'commands in the body of a new PR are read next', action: 'opened', body: '/test docs-lint', want: { jobs: ['e2e-kata-clh', 'e2e-kata-qemu', 'metrics-silent'], body: true }, asked: ['member:alice', 'changedFiles'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const asked: string[] = [];
      let facts: Facts = {};
      const p = pr(c.pr);
      const inputs: PullRequestInput = {
        owner: 'kata-containers', repo: 'kata-containers', action: c.action, policy: policy(), botLogin: 'katabot[bot]', pr: p, sender: c.sender ?? 'alice',
        ...(c.labelAdded ? { labelAdded: c.labelAdded } : {}), baseChanged: false, body: c.body ?? '', presubmits: c.presubmits ?? presubmits, inRepoConfig: false,
      };
      for (;;) {
        const s = planPullRequest(inputs, facts);
        if ('plan' in s) {
          const got = s.plan;
          assert.deepEqual(got.runs.map((r) => r.job).sort(), c.want.jobs);
          assert.equal(got.approval, c.want.approval ?? 'keep');
          assert.equal(Boolean(got.abort), c.want.abort ?? false);
          assert.deepEqual(got.labels, c.want.labels ?? { add: [], remove: [] });
          assert.equal(Boolean(got.welcome), c.want.welcome ?? false);
          assert.equal(Boolean(got.bodyCommands), c.want.body ?? false);
          assert.deepEqual(asked, c.asked);
          return;
        }
        const n = s.need;
        asked.push(n.fact === 'member' || n.fact === 'collaborator' ? `${n.fact}:${n.login}` : n.fact);
        if (n.fact === 'member') facts = { ...facts, member: { [n.login]: c.trusted ?? true } };
        else if (n.fact === 'collaborator') facts = { ...facts, collaborator: { [n.login]: false } };
        else if (n.fact === 'changedFiles') facts = { ...facts, changedFiles: ['src/runtime/x.go'] };
        else if (n.fact === 'tdxApproval') facts = { ...facts, tdxApproval: c.approval ?? null };
        else throw new Error(`unexpected fact ${n.fact}`);
      }
    });
  }
});
