// The comment and rerun planners, table-driven as Prow tests its trigger plugin: every case of the authorisation
// matrix (test/fixtures/authz-matrix.ts, written from the spec) through the pure planners, with facts answered by an
// oracle that also records which facts each case asked for; then katabot's own cases, one per row.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJobConfig } from '../../../src/config/prow-config.ts';
import { parseKatabotConfig } from '../../../src/config/katabot-config.ts';
import { parseProwConfig } from '../../../src/config/prow-config.ts';
import type { Presubmit } from '../../../src/config/prow-types.ts';
import { commentNeedsWork, planComment, type CommentInput, type CommentPlan } from '../../../src/plan/comment.ts';
import type { Facts, Need, PullFacts, Step } from '../../../src/plan/facts.ts';
import { planRerun } from '../../../src/plan/rerun.ts';
import { failedWorkflowRuns } from '../../../src/plan/head-results.ts';
import { parseRequiredTests } from '../../../src/dashboard/required.ts';
import { retestReply } from '../../../src/render/replies.ts';
import type { WorkflowJobObject, WorkflowRunObject } from '../../../src/jobs/actions.ts';
import { applyLabelChanges } from '../../../src/policy/labels.ts';
import { ACTIONS, ACTORS, AUTHORS, CASES, JOB, caseName, expect as expected, initialLabels, type Case, type JobKind } from '../../fixtures/authz-matrix.ts';
import { JOBS_YAML, KATABOT_YAML, PROW_YAML } from '../../fixtures/config.ts';

const OWNER = 'kata-containers';
const REPO = 'kata-containers';
const HEAD = 'a'.repeat(40);
const policy = parseKatabotConfig(KATABOT_YAML, 'katabot.yaml');
const prow = parseProwConfig(PROW_YAML, 'prow.yaml');
const presubmits: Presubmit[] = parseJobConfig([{ path: 'jobs.yaml', text: JOBS_YAML }]).presubmits[`${OWNER}/${REPO}`]!;

/** The world the harness's FakeGitHub sets up: members, collaborators, one PR touching src/runtime/. */
interface World {
  members: string[];
  collaborators: string[];
  changedFiles: string[];
  results: Map<string, 'success' | 'failure' | 'error' | 'pending'>;
  tdxApproval: string | null;
  /** GitHub Actions on the head commit: runs, and the jobs of each run's latest attempt. */
  runs: WorkflowRunObject[];
  jobs: WorkflowJobObject[];
  /** Branch protection's required checks on main. */
  protection: string[];
}

const world = (over: Partial<World> = {}): World => ({
  members: ['maintainer', 'tdx-approver'],
  collaborators: ['collaborator'],
  changedFiles: ['src/runtime/main.go'],
  results: new Map(),
  tdxApproval: null,
  runs: [],
  jobs: [],
  protection: [],
  ...over,
});

/** Answers the planner's questions from `w` until it plans; returns the plan and the facts it asked for. */
function resolve<P>(planner: (f: Facts) => Step<P>, w: World, seed: Facts = {}): { plan: P; asked: string[] } {
  let facts: Facts = seed;
  const asked: string[] = [];
  for (let i = 0; i < 16; i++) {
    const s = planner(facts);
    if ('plan' in s) return { plan: s.plan, asked };
    const n: Need = s.need;
    asked.push(n.fact === 'member' || n.fact === 'collaborator' ? `${n.fact}:${n.login}` : n.fact);
    assert.ok(!asked.slice(0, -1).includes(asked.at(-1)!), `asked twice for ${asked.at(-1)}`);
    switch (n.fact) {
      case 'member':
        facts = { ...facts, member: { ...facts.member, [n.login.toLowerCase()]: w.members.includes(n.login) } };
        break;
      case 'collaborator':
        facts = { ...facts, collaborator: { ...facts.collaborator, [n.login.toLowerCase()]: w.collaborators.includes(n.login) } };
        break;
      case 'changedFiles':
        facts = { ...facts, changedFiles: w.changedFiles };
        break;
      case 'results':
        facts = { ...facts, results: w.results };
        break;
      case 'tdxApproval':
        facts = { ...facts, tdxApproval: w.tdxApproval };
        break;
      case 'failedWorkflowRuns':
        facts = { ...facts, failedWorkflowRuns: { runs: failedWorkflowRuns(w.runs) } };
        break;
      case 'headRuns':
        facts = { ...facts, headRuns: { runs: w.runs } };
        break;
      case 'runJobs':
        facts = { ...facts, runJobs: { ...facts.runJobs, ...Object.fromEntries(n.runIds.map((id) => [id, w.jobs.filter((j) => j.run_id === id)])) } };
        break;
      case 'requiredChecks':
        facts = { ...facts, requiredChecks: { ...facts.requiredChecks, [n.branch]: w.protection } };
        break;
      case 'probeDirs':
        facts = { ...facts, probeDirs: [] };
        break;
      default:
        throw new Error(`the oracle has no ${n.fact}`);
    }
  }
  throw new Error('the planner never finished');
}

function pull(over: Partial<PullFacts> = {}): PullFacts {
  return {
    number: 1,
    state: 'open',
    draft: false,
    merged: false,
    mergeable: true,
    title: 'A change',
    author: 'maintainer',
    authorLink: 'https://github.com/maintainer',
    link: `https://github.com/${OWNER}/${REPO}/pull/1`,
    headSha: HEAD,
    headRef: 'topic',
    baseRef: 'main',
    baseSha: 'b'.repeat(40),
    repoLink: `https://github.com/${OWNER}/${REPO}`,
    labels: [],
    ...over,
  };
}

function input(pr: PullFacts, commenter: string, body: string, over: Partial<CommentInput> = {}): CommentInput {
  return { owner: OWNER, repo: REPO, policy, prow, botLogin: 'katabot[bot]', pr, commenter, body, source: 'comment', presubmits, inRepoConfig: false, ...over };
}

function jobsOf(plan: CommentPlan): string[] {
  return plan.runs.flatMap((r) => (r.backend === 'prow' ? [r.traced ? `${r.job}+trace` : r.job] : [])).sort();
}

describe('planComment and planRerun: the authorisation matrix', () => {
  for (const c of CASES) {
    it(caseName(c), () => {
      const labels = initialLabels(c.labels);
      const pr = pull({ author: AUTHORS[c.author], labels });
      const w = world({ tdxApproval: c.labels === 'ok-to-test-tdx' ? HEAD : c.labels === 'ok-to-test-tdx(stale)' ? 'f'.repeat(40) : null });
      const action = ACTIONS[c.action];
      const actor = ACTORS[c.actor];
      let got: { jobs: string[]; labels: string[]; replies: string[] };
      if (action.kind === 'comment') {
        const body = `Please:\n${action.body}\n`;
        const delivery = { action: 'created', onPullRequest: true, state: 'open', commenter: actor, body };
        if (!commentNeedsWork(delivery, { botLogin: 'katabot[bot]', presubmits, inRepoConfig: false })) {
          got = { jobs: [], labels: [...labels].sort(), replies: [] };
        } else {
          const { plan } = resolve((f) => planComment(input(pr, actor, body), f), w);
          const replies = [...plan.replies.map((r) => r.kind), ...(plan.retest ? ['retest'] : [])];
          got = { jobs: jobsOf(plan), labels: applyLabelChanges(labels, plan.labels.add, plan.labels.remove).sort(), replies: replies.sort() };
        }
      } else {
        const traced = action.kind === 'requested_action' && action.identifier === 'katabot-trace';
        const rerun = { owner: OWNER, repo: REPO, policy, botLogin: 'katabot[bot]', requester: actor, headSha: HEAD, traced, presubmits, inRepoConfig: false };
        const { plan } = resolve((f) => planRerun(rerun, f), w, { rerunJobs: [JOB[action.job as JobKind]], pull: pr });
        const jobs = 'runs' in plan ? plan.runs.map((r) => (r.traced ? `${r.job}+trace` : r.job)).sort() : [];
        got = { jobs, labels: [...labels].sort(), replies: [] };
      }
      assert.deepEqual(got, expected(c as Case));
    });
  }
});

describe('planComment: katabot cases', () => {
  const cases: Array<{
    name: string;
    body: string;
    commenter?: string;
    pr?: Partial<PullFacts>;
    world?: Partial<World>;
    inputs?: Partial<CommentInput>;
    jobs?: string[];
    replies?: string[];
    asked?: string[];
    reply?: RegExp;
  }> = [
    { name: '/help asks for no fact', body: '/help', commenter: 'contributor-x', replies: ['help'], asked: [] },
    { name: 'a named job needs no changed files', body: '/test e2e-kata-clh', jobs: ['e2e-kata-clh'], asked: ['member:maintainer'] },
    { name: '/test all reads the changed files once', body: '/test all\n/ok-to-test', jobs: ['e2e-kata-clh', 'e2e-kata-qemu', 'metrics-silent'], asked: ['member:maintainer', 'changedFiles'] },
    { name: '/test all on docs only skips the runtime job', body: '/test all', world: { changedFiles: ['docs/README.md'] }, jobs: ['docs-lint', 'e2e-kata-qemu', 'metrics-silent'] },
    {
      name: "unknown /test target: Prow's lists and the closest names",
      body: '/test e2e-kata-qemo',
      jobs: [],
      replies: ['unknown-targets'],
      reply: /did you mean `e2e-kata-qemu`[\s\S]*available to trigger required jobs:[\s\S]*\/test e2e-kata-clh[\s\S]*available to trigger optional jobs:[\s\S]*\/test docs-lint/,
    },
    { name: '/test-manual-required starts required jobs that run only on demand', body: '/test-manual-required', jobs: [] },
    {
      name: '/test-manual-required picks manual required jobs only',
      body: '/test-manual-required',
      inputs: { presubmits: [...presubmits, { name: 'manual-required', spec: { containers: [{ name: '', image: 'x' }] } }, { name: 'manual-optional', optional: true, spec: { containers: [{ name: '', image: 'x' }] } }] },
      jobs: ['manual-required'],
      asked: ['member:maintainer'],
    },
    {
      name: '/trace of an undecorated job says why and starts nothing',
      body: '/trace docs-lint',
      jobs: [],
      replies: ['untraceable'],
      reply: /`docs-lint`: it is not decorated/,
    },
    { name: 'an unmergeable PR starts nothing and says so', body: '/test e2e-kata-qemu', pr: { mergeable: false }, jobs: [], replies: ['unmergeable'] },
    { name: 'a closed PR: nothing, and no fact asked', body: '/test e2e-kata-qemu', pr: { state: 'closed' }, jobs: [], replies: [], asked: [] },
    {
      name: '/retest reruns failed jobs, keeps passed ones',
      body: '/retest',
      world: { results: new Map([['e2e-kata-qemu', 'failure'], ['e2e-kata-clh', 'success'], ['metrics-silent', 'pending']]) },
      jobs: ['e2e-kata-qemu'],
      replies: [],
    },
    {
      name: 'a custom trigger counts as /test',
      body: 'please run the nightly thing',
      inputs: { presubmits: [...presubmits, { name: 'custom', trigger: '(?m)^please run the nightly', spec: { containers: [{ name: '', image: 'x' }] } }] },
      jobs: ['custom'],
    },
    {
      name: 'a broken .prow.yaml is answered, and the central jobs still run',
      body: '/test e2e-kata-qemu',
      inputs: { inRepoConfig: true },
      jobs: ['e2e-kata-qemu'],
      replies: ['in-repo-config'],
      reply: /`\.prow\.yaml:3`/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const pr = pull(c.pr);
      const w = world(c.world);
      const seed: Facts = c.inputs?.inRepoConfig ? { inRepoConfig: { error: { file: '.prow.yaml', line: 3, message: 'presubmits[0].name is required' } } } : {};
      const { plan, asked } = resolve((f) => planComment(input(pr, c.commenter ?? 'maintainer', c.body, c.inputs), f), w, seed);
      if (c.jobs) assert.deepEqual(jobsOf(plan), c.jobs);
      if (c.replies) assert.deepEqual(plan.replies.map((r) => r.kind), c.replies);
      if (c.asked) assert.deepEqual(asked, c.asked);
      if (c.reply) assert.match(plan.replies.map((r) => r.text).join('\n'), c.reply);
    });
  }
});

describe('planComment: GitHub Actions jobs of the head commit', () => {
  const at = '2026-11-20T10:00:00Z';
  const CI = 'Kata Containers CI';
  const runOf = (id: number, name: string, path: string, event: string, conclusion: string): WorkflowRunObject => ({
    id, name, path, workflow_id: id, event, status: 'completed', conclusion, head_sha: HEAD, created_at: at, html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/${id}`,
  });
  const jobOf = (id: number, run: number, name: string, conclusion: string, workflow = CI): WorkflowJobObject => ({
    id, run_id: run, run_attempt: 1, name, workflow_name: workflow, head_sha: HEAD, status: 'completed', conclusion, html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/${run}/job/${id}`,
  });
  const NERDCTL = 'kata-containers-ci-on-push / run-basic-amd64-tests / run-nerdctl-tests (qemu)';
  const TEE = 'kata-containers-ci-on-push / run-kata-coco-tests / run-k8s-tests-on-tee (tdx, qemu-tdx)';
  const AKS = 'kata-containers-ci-on-push / run-k8s-tests-on-aks / run-k8s-tests (ubuntu, clh)';
  const ARM = 'kata-containers-ci-on-push / run-k8s-tests-on-arm64 / run-k8s-tests (ubuntu, clh)';
  const actions: Partial<World> = {
    runs: [runOf(100, CI, '.github/workflows/ci-on-push.yaml', 'pull_request_target', 'failure'), runOf(200, 'Commit Message Check', '.github/workflows/commit-message-check.yaml', 'pull_request', 'success')],
    jobs: [
      jobOf(1001, 100, NERDCTL, 'failure'),
      jobOf(1002, 100, TEE, 'failure'),
      jobOf(1003, 100, AKS, 'failure'),
      jobOf(1004, 100, 'kata-containers-ci-on-push / build-kata-static-tarball-amd64 / build-asset (qemu)', 'success'),
      jobOf(1005, 100, ARM, 'success'),
      jobOf(2001, 200, 'Commit Message Check', 'success', 'Commit Message Check'),
    ],
  };
  const approved = { labels: ['ok-to-test-tdx'] };
  const dispatchPolicy = parseKatabotConfig(
    `${KATABOT_YAML}\nactions:\n  dispatch:\n    tdx-subset:\n      workflow: .github/workflows/run-tdx.yaml\n      tdx: true\n      inputs:\n        commit-hash: "{sha}"\n        pr-number: "{pr}"\n`,
    'katabot.yaml',
  );
  const required = parseRequiredTests(`required_tests: []\nmapping:\n  test:\n    names:\n      - "${CI} / ${NERDCTL}"\n`, 'required-tests.yaml');
  const actionsOf = (plan: CommentPlan): string[] =>
    plan.runs.flatMap((r) => (r.backend !== 'actions' ? [] : r.kind === 'job' ? [`job:${r.jobId}`] : r.kind === 'dispatch' ? [`dispatch:${r.job}:${r.workflow}@${r.ref}:${JSON.stringify(r.inputs)}`] : [`rerun:${r.runId}`]));

  const cases: Array<{
    name: string;
    body: string;
    pr?: Partial<PullFacts>;
    world?: Partial<World>;
    inputs?: Partial<CommentInput>;
    runs: string[];
    prow?: string[];
    replies?: string[];
    reply?: RegExp;
  }> = [
    { name: '/test <typeable> re-runs that job of the head', body: '/test run-nerdctl-tests-qemu', runs: ['job:1001'], replies: [] },
    { name: 'the full typeable name works too, in any case', body: '/test CI-ON-PUSH.kata-containers-ci-on-push.run-basic-amd64-tests.run-nerdctl-tests-qemu', runs: ['job:1001'] },
    { name: 'Prow and Actions jobs in one /test', body: '/test e2e-kata-qemu run-nerdctl-tests-qemu', runs: ['job:1001'], prow: ['e2e-kata-qemu'] },
    { name: 'a TDX Actions job without the approval is blocked, as a Prow one', body: '/test run-k8s-tests-on-tee-tdx-qemu-tdx', runs: [], replies: ['tdx-blocked'], reply: /run-k8s-tests-on-tee \(tdx, qemu-tdx\)/ },
    { name: 'a TDX Actions job with the approval for the head runs', body: '/test run-k8s-tests-on-tee-tdx-qemu-tdx', pr: approved, world: { tdxApproval: HEAD }, runs: ['job:1002'] },
    { name: 'a name of two jobs is ambiguous: nothing runs', body: '/test run-k8s-tests-ubuntu-clh', runs: [], replies: ['ambiguous-targets'], reply: /run-k8s-tests-on-aks\.run-k8s-tests-ubuntu-clh/ },
    { name: 'an unknown name is unknown to both', body: '/test nerdctl', runs: [], replies: ['unknown-targets'] },
    {
      name: 'a dispatch name starts its workflow for the PR, with the head and number as inputs',
      body: '/test tdx-subset',
      pr: approved,
      world: { tdxApproval: HEAD },
      inputs: { policy: dispatchPolicy },
      runs: [`dispatch:tdx-subset:run-tdx.yaml@main:${JSON.stringify({ 'commit-hash': HEAD, 'pr-number': '1' })}`],
    },
    { name: 'a TDX dispatch without the approval is blocked', body: '/test tdx-subset', inputs: { policy: dispatchPolicy }, runs: [], replies: ['tdx-blocked'] },
    {
      name: '/test ? lists Prow jobs, Actions jobs by short name, and dispatch names',
      body: '/test ?',
      inputs: { policy: dispatchPolicy },
      runs: [],
      replies: ['test-help'],
      reply: /\/test e2e-kata-clh[\s\S]*re-run a GitHub Actions job[\s\S]*\/test run-k8s-tests-on-aks\.run-k8s-tests-ubuntu-clh[\s\S]*\/test run-nerdctl-tests-qemu[\s\S]*start a GitHub Actions workflow[\s\S]*\/test tdx-subset/,
    },
    { name: '/retest with TDX approval re-runs the failed run whole', body: '/retest', pr: approved, world: { tdxApproval: HEAD }, runs: ['rerun:100'] },
    {
      name: '/retest without TDX approval holds a run whose failed jobs include a TDX one',
      body: '/retest',
      runs: [],
      reply: /Not re-run in \[Kata Containers CI\][\s\S]*run-k8s-tests-on-tee \(tdx, qemu-tdx\)[\s\S]*run-nerdctl-tests \(qemu\)/,
    },
    { name: '/retest-required re-runs the failed job branch protection requires', body: '/retest-required', world: { protection: [NERDCTL] }, runs: ['job:1001'] },
    { name: '/retest-required re-runs the failed job required-tests.yaml requires', body: '/retest-required', inputs: { requiredTests: required }, runs: ['job:1001'] },
    { name: '/retest-required with nothing required re-runs nothing', body: '/retest-required', runs: [] },
    {
      name: '/retest-required of two required jobs re-runs the run, and says optional ones run too',
      body: '/retest-required',
      pr: approved,
      world: { tdxApproval: HEAD, protection: [NERDCTL, TEE] },
      runs: ['rerun:100'],
      reply: /optional jobs of \[Kata Containers CI\][\s\S]*run-k8s-tests \(ubuntu, clh\)/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const w = world({ ...actions, ...c.world });
      const { plan } = resolve((f) => planComment(input(pull(c.pr), 'maintainer', c.body, c.inputs), f), w);
      assert.deepEqual(actionsOf(plan), c.runs);
      if (c.prow) assert.deepEqual(jobsOf(plan), c.prow);
      if (c.replies) assert.deepEqual(plan.replies.map((r) => r.kind), c.replies);
      if (c.reply) {
        const texts = plan.replies.map((r) => r.text);
        if (plan.retest) texts.push(retestReply({ sha: HEAD, prow: [], actions: [], ...(plan.retest.actionsHeld ? { actionsHeld: plan.retest.actionsHeld } : {}), ...(plan.retest.actionsAlsoOptional ? { actionsAlsoOptional: plan.retest.actionsAlsoOptional } : {}) }));
        assert.match(texts.join('\n'), c.reply);
      }
    });
  }
});
