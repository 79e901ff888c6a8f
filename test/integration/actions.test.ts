// GitHub Actions as a CI backend, end to end: workflow_run and workflow_job deliveries (GitHub's example payloads
// with Kata's names) through a complete katabot on real Redis, read back through the dashboard's JSON API; events
// redelivered, out of order and re-run.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startHarness, waitFor, type Harness } from './harness.ts';
import { MAINTAINERS_SAMPLE, REQUIRED_SAMPLE } from './dashboard-scenario.ts';

const KATA = existsSync(REQUIRED_SAMPLE) && existsSync(MAINTAINERS_SAMPLE);
if (!KATA) console.log(`# actions: Kata's samples are not in ../shared/kata; required and maintainers are not checked`);

const CI = 'Kata Containers CI';
const NIGHTLY = 'Kata Containers Nightly CI';
const TEE = 'kata-containers-ci-on-push / run-kata-coco-tests / run-k8s-tests-on-tee (tdx, qemu-tdx)';
const NERDCTL = 'kata-containers-ci-on-push / run-basic-amd64-tests / run-nerdctl-tests (qemu)';
const HOUR = 3600_000;

let h: Harness;
let nextId = 50_000_000;

before(async () => {
  h = await startHarness({
    // Workflows read the TDX approval from the katabot/tdx-approved status.
    katabotYamlEdit: (yaml) => yaml.replace('  sticky: false\n', '  sticky: false\n  status: true\n'),
    env: { KATABOT_REPORTER: 'false', ...(KATA ? { KATABOT_REQUIRED_TESTS: REQUIRED_SAMPLE, KATABOT_MAINTAINERS: MAINTAINERS_SAMPLE } : {}) },
    // The harness's policy plus Actions: a nightly workflow, a dispatch name, and the TDX status for workflows.
    katabotYaml: [
      'actions:',
      '  nightly_workflows: [ci-nightly.yaml]',
      '  dispatch:',
      '    tdx-subset:',
      '      workflow: tdx-tests-only.yaml',
      '      tdx: true',
      '      inputs: {commit-hash: "{sha}", pr-number: "{pr}", target-branch: "{base}"}',
      '',
    ].join('\n'),
  });
});
after(async () => {
  await h?.close();
});

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

function addRun(o: { name: string; path: string; event: string; sha: string; pulls?: number[]; at: number; attempt?: number }): number {
  const id = ++nextId;
  h.gh.workflowRuns.push({
    id,
    name: o.name,
    path: o.path,
    workflow_id: o.path.length,
    event: o.event,
    head_sha: o.sha,
    head_branch: 'main',
    status: 'queued',
    conclusion: null,
    run_attempt: o.attempt ?? 1,
    created_at: iso(o.at),
    html_url: `https://github.com/kata-containers/kata-containers/actions/runs/${id}`,
    pull_requests: (o.pulls ?? []).map((number) => ({ number })),
  });
  return id;
}

function addJob(runId: number, name: string, o: { attempt?: number; at: number; conclusion?: string | null; status?: string }): number {
  const run = h.gh.workflowRuns.find((r) => r.id === runId)!;
  const id = ++nextId;
  h.gh.workflowJobs.push({
    id,
    run_id: runId,
    run_attempt: o.attempt ?? 1,
    name,
    workflow_name: run.name,
    head_sha: run.head_sha,
    head_branch: 'main',
    status: o.status ?? (o.conclusion ? 'completed' : 'queued'),
    conclusion: o.conclusion ?? null,
    html_url: `https://github.com/kata-containers/kata-containers/actions/runs/${runId}/job/${id}`,
    labels: name.includes('tdx') ? ['tdx'] : ['ubuntu-24.04'],
    created_at: iso(o.at),
    started_at: iso(o.at + 60_000),
    completed_at: o.conclusion ? iso(o.at + 40 * 60_000) : null,
  });
  return id;
}

const job = (id: number) => h.gh.workflowJobs.find((j) => j.id === id)!;

async function api<T = any>(path: string): Promise<T> {
  const res = await fetch(`${h.bot.url}${path}`);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as T;
}

describe('GitHub Actions results', () => {
  it('a nightly workflow_job delivery shows up in /api/jobs/nightly by its <workflow> / <job> name, with weather', async () => {
    const now = Date.now();
    // Ten nights: the TDX job failed on 8 of them; each run's events arrive as GitHub sends them.
    for (let night = 10; night >= 1; night--) {
      const at = now - night * 24 * HOUR;
      const run = addRun({ name: NIGHTLY, path: '.github/workflows/ci-nightly.yaml', event: night % 3 === 0 ? 'workflow_dispatch' : 'schedule', sha: (`${night}`.repeat(40)).slice(0, 40).replace(/[^0-9a-f]/g, 'a'), at });
      assert.ok((await h.send('workflow_run', h.gh.workflowRunEvent(run, 'requested'))).ok);
      const id = addJob(run, TEE, { at, conclusion: night <= 8 ? 'failure' : 'success' });
      await h.send('workflow_job', h.gh.workflowJobEvent(id, 'completed'));
    }
    const v = await waitFor('nightly', async () => {
      const n = await api('/api/jobs/nightly');
      return n.jobs.find((j: any) => j.job === `${NIGHTLY} / ${TEE}` && j.runs === 10) ? n : undefined;
    });
    const row = v.jobs.find((j: any) => j.job === `${NIGHTLY} / ${TEE}`);
    assert.equal(row.source, 'actions');
    assert.equal(row.type, 'periodic');
    assert.equal(row.context, TEE);
    assert.equal(row.typeable, 'ci-nightly.kata-containers-ci-on-push.run-kata-coco-tests.run-k8s-tests-on-tee-tdx-qemu-tdx');
    assert.equal(row.fails, 8);
    assert.equal(row.weather, 'stormy');
    assert.equal(row.last[0].source, 'actions');
    assert.match(row.last[0].url, /\/actions\/runs\/\d+\/job\/\d+$/);
    assert.equal(row.last[0].actions.event, 'schedule');
    assert.deepEqual(row.last[0].actions.labels, ['tdx']);
    if (KATA) assert.deepEqual(row.maintainers, ['Intel']);
    // The job filter finds it by either part of its name, and by its typeable name.
    for (const q of ['Nightly%20CI', 'run-k8s-tests-on-tee', 'tee-tdx-qemu-tdx$']) {
      const f = await api(`/api/jobs/nightly?job=${q}`);
      assert.deepEqual(f.jobs.map((j: any) => j.job), [`${NIGHTLY} / ${TEE}`], q);
    }
    // A name with slashes and spaces is one path segment.
    const runs = await api(`/api/jobs/${encodeURIComponent(row.job)}/runs`);
    assert.equal(runs.runs.length, 10);
  });

  it("a fork PR's pull_request_target job shows up in /api/prs/:number, found from its head commit", async () => {
    const pr = h.gh.addPull({ number: 4101, author: 'contributor' });
    // GitHub leaves pull_requests empty for a fork; no workflow_run delivery either: the run is read from the API.
    const run = addRun({ name: CI, path: '.github/workflows/ci-on-push.yaml', event: 'pull_request_target', sha: pr.headSha, at: Date.now() - HOUR });
    const id = addJob(run, NERDCTL, { at: Date.now() - HOUR });
    await h.send('workflow_job', h.gh.workflowJobEvent(id, 'queued'));
    const v = await waitFor('pr view', async () => {
      const res = await fetch(`${h.bot.url}/api/prs/4101`);
      return res.status === 200 ? ((await res.json()) as any) : undefined;
    });
    const j = v.jobs.find((x: any) => x.job === `${CI} / ${NERDCTL}`);
    assert.equal(j.source, 'actions');
    assert.equal(j.outcome, 'running');
    assert.equal(v.sha, pr.headSha);
    if (KATA) assert.deepEqual(j.requirement, { required: true, by: ['mapping:test'] });
    const gets = h.gh.calls.filter((c) => c.method === 'GET' && c.path.includes(`/actions/runs/${run}`));
    assert.equal(gets.length, 1, 'the run is read once');
    assert.ok(h.gh.calls.some((c) => c.path.includes(`/commits/${pr.headSha}/pulls`)), 'the PR is found from the head');
  });

  it('completed before in_progress, redelivered, then re-run: two attempts, flaky, nothing undone', async () => {
    const pr = h.gh.addPull({ number: 4102, author: 'maintainer' });
    const t0 = Date.now() - 2 * HOUR;
    const run = addRun({ name: CI, path: '.github/workflows/ci-on-push.yaml', event: 'pull_request_target', sha: pr.headSha, pulls: [4102], at: t0 });
    await h.send('workflow_run', h.gh.workflowRunEvent(run, 'requested'));
    const first = addJob(run, NERDCTL, { at: t0, conclusion: 'failure' });
    const completed = h.gh.workflowJobEvent(first, 'completed');
    const inProgress = { ...h.gh.workflowJobEvent(first, 'in_progress'), workflow_job: { ...completed.workflow_job, status: 'in_progress', conclusion: null, completed_at: null } };
    await h.send('workflow_job', completed);
    await h.settle();
    await h.send('workflow_job', inProgress);
    await h.send('workflow_job', completed); // a redelivery (a new delivery id, the same event)
    await h.settle();
    let v = await api('/api/prs/4102');
    let j = v.jobs.find((x: any) => x.job === `${CI} / ${NERDCTL}`);
    assert.equal(j.outcome, 'fail', 'an older in_progress does not undo completed');
    assert.equal(j.attempts.length, 1);

    // "Re-run failed jobs": run_attempt 2, a new job id.
    const second = addJob(run, NERDCTL, { at: t0 + HOUR, attempt: 2 });
    await h.send('workflow_job', h.gh.workflowJobEvent(second, 'queued'));
    job(second).status = 'completed';
    job(second).conclusion = 'success';
    job(second).completed_at = iso(t0 + HOUR + 30 * 60_000);
    await h.send('workflow_job', h.gh.workflowJobEvent(second, 'completed'));
    v = await waitFor('second attempt', async () => {
      const x = await api('/api/prs/4102');
      return x.jobs[0]?.attempts.length === 2 && x.jobs[0].outcome === 'pass' ? x : undefined;
    });
    j = v.jobs[0];
    assert.deepEqual(j.attempts.map((a: any) => [a.attempt, a.outcome, a.actions.runAttempt]), [[1, 'fail', 1], [2, 'pass', 2]]);
    assert.equal(j.reruns, 1);
    assert.equal(j.flaky, true);
    const checks = await api('/api/jobs/presubmits');
    const row = checks.jobs.find((x: any) => x.job === `${CI} / ${NERDCTL}`);
    assert.equal(row.source, 'actions');
    assert.ok(row.flakyCommits >= 1);
  });

  it('a cancelled job is a skip (a newer run superseded it)', async () => {
    const pr = h.gh.addPull({ number: 4103, author: 'maintainer' });
    const run = addRun({ name: CI, path: '.github/workflows/ci-on-push.yaml', event: 'pull_request_target', sha: pr.headSha, pulls: [4103], at: Date.now() - HOUR });
    const id = addJob(run, TEE, { at: Date.now() - HOUR, conclusion: 'cancelled' });
    await h.send('workflow_job', h.gh.workflowJobEvent(id, 'completed'));
    const v = await waitFor('pr', async () => {
      const res = await fetch(`${h.bot.url}/api/prs/4103`);
      return res.status === 200 ? ((await res.json()) as any) : undefined;
    });
    assert.equal(v.jobs[0].outcome, 'skip');
    assert.equal(v.jobs[0].attempts[0].actions.conclusion, 'cancelled');
  });
});

describe('commands on GitHub Actions jobs', () => {
  /** A PR whose Kata CI run failed: nerdctl (required by branch protection), the TDX job, and an optional AKS job. */
  function failedPr(number: number): { sha: string; run: number; nerdctl: number; tee: number; aks: number } {
    const pr = h.gh.addPull({ number, author: 'maintainer' });
    const at = Date.now() - HOUR;
    const run = addRun({ name: CI, path: '.github/workflows/ci-on-push.yaml', event: 'pull_request_target', sha: pr.headSha, pulls: [number], at });
    const r = h.gh.workflowRuns.find((x) => x.id === run)!;
    r.status = 'completed';
    r.conclusion = 'failure';
    const nerdctl = addJob(run, NERDCTL, { at, conclusion: 'failure' });
    const tee = addJob(run, TEE, { at, conclusion: 'failure' });
    const aks = addJob(run, 'kata-containers-ci-on-push / run-k8s-tests-on-aks / run-k8s-tests (ubuntu, clh)', { at, conclusion: 'failure' });
    return { sha: pr.headSha, run, nerdctl, tee, aks };
  }
  const reply = (pr: number, kind: string) => waitFor(`${kind} reply`, () => h.gh.comments.find((c) => c.issue === pr && c.body.includes(`:${kind} -->`)));

  it('/test <actions job> re-runs that job of the head commit', async () => {
    const f = failedPr(4201);
    await h.send('issue_comment', h.gh.commentEvent(4201, 'maintainer', '/test run-nerdctl-tests-qemu'));
    await waitFor('job rerun', () => h.gh.rerunJobs.includes(f.nerdctl));
    await h.settle();
    assert.deepEqual(h.gh.rerunJobs.filter((id) => [f.nerdctl, f.tee, f.aks].includes(id)), [f.nerdctl]);
    assert.ok(!h.gh.rerunFailedJobs.includes(f.run));
  });

  it('/retest-required re-runs only the required failed job; the TDX one waits for its approval', async () => {
    const f = failedPr(4202);
    h.gh.protections.set('main', [NERDCTL, TEE]);
    try {
      await h.send('issue_comment', h.gh.commentEvent(4202, 'maintainer', '/retest-required'));
      const r = await reply(4202, 'retest');
      assert.deepEqual(h.gh.rerunJobs.filter((id) => [f.nerdctl, f.tee, f.aks].includes(id)), [f.nerdctl]);
      assert.ok(!h.gh.rerunFailedJobs.includes(f.run));
      assert.match(r.body, /Not re-run in \[Kata Containers CI\]/);
      assert.match(r.body, /run-k8s-tests-on-tee \(tdx, qemu-tdx\)/);
    } finally {
      h.gh.protections.delete('main');
    }
  });

  it('/test <dispatch name> by a TDX approver dispatches the mapped workflow with the head and PR number', async () => {
    const pr = h.gh.addPull({ number: 4203, author: 'maintainer' });
    await h.send('issue_comment', h.gh.commentEvent(4203, 'tdx-approver', '/ok-to-test-tdx\n/test tdx-subset'));
    const d = await waitFor('dispatch', () => h.gh.dispatches.find((x) => x.inputs['pr-number'] === '4203'));
    assert.deepEqual(d, { workflow: 'tdx-tests-only.yaml', ref: 'main', inputs: { 'commit-hash': pr.headSha, 'pr-number': '4203', 'target-branch': 'main' } });
  });

  it('the katabot/tdx-approved status follows approvals and pushes', async () => {
    const pr = h.gh.addPull({ number: 4204, author: 'maintainer' });
    const statusOf = (sha: string) => h.gh.statuses.filter((s) => s.sha === sha && s.context === 'katabot/tdx-approved').at(-1);
    await h.send('pull_request', h.gh.pullRequestEvent(4204, 'opened'));
    const pending = await waitFor('pending', () => statusOf(pr.headSha));
    assert.equal(pending.state, 'pending');
    assert.match(pending.description!, /tdx-approver/);

    // An approver's /ok-to-test-tdx: success for this head.
    await h.send('issue_comment', h.gh.commentEvent(4204, 'tdx-approver', '/ok-to-test-tdx'));
    await waitFor('success', () => statusOf(pr.headSha)?.state === 'success');

    // A push: the new head is pending again, and the label comes off.
    const old = pr.headSha;
    pr.headSha = 'e'.repeat(40);
    await h.send('pull_request', h.gh.pullRequestEvent(4204, 'synchronize'));
    await waitFor('pending on the new head', () => statusOf(pr.headSha)?.state === 'pending');
    assert.equal(statusOf(old)?.state, 'success', 'the old head keeps its status');
    await waitFor('label removed', () => !h.gh.labels.get(4204)?.has('ok-to-test-tdx'));

    // The label added by the approver by hand approves the new head; a redelivery writes nothing more.
    h.gh.labels.get(4204)!.add('ok-to-test-tdx');
    const labeled = h.gh.pullRequestEvent(4204, 'labeled', { label: { name: 'ok-to-test-tdx' } }, 'tdx-approver');
    await h.send('pull_request', labeled);
    await waitFor('success on the new head', () => statusOf(pr.headSha)?.state === 'success');
    const writes = h.gh.statuses.length;
    await h.send('pull_request', labeled);
    await h.settle();
    assert.equal(h.gh.statuses.length, writes);

    // Taken off by hand: pending again.
    h.gh.labels.get(4204)!.delete('ok-to-test-tdx');
    await h.send('pull_request', h.gh.pullRequestEvent(4204, 'unlabeled', { label: { name: 'ok-to-test-tdx' } }, 'tdx-approver'));
    await waitFor('pending after unlabel', () => statusOf(pr.headSha)?.state === 'pending');
  });

  it("the single-PR view shows the PR's CI labels and the approved head beside its jobs", async () => {
    // PR 4203: /ok-to-test-tdx started its Prow TDX job; its Kata CI run starts too.
    const pr = h.gh.pulls.get(4203)!;
    const run = addRun({ name: CI, path: '.github/workflows/ci-on-push.yaml', event: 'pull_request_target', sha: pr.headSha, pulls: [4203], at: Date.now() });
    await h.send('workflow_job', h.gh.workflowJobEvent(addJob(run, NERDCTL, { at: Date.now() }), 'queued'));
    const view = await waitFor('both CI systems', async () => {
      const res = await fetch(`${h.bot.url}/api/prs/4203`);
      const x = res.status === 200 ? ((await res.json()) as any) : undefined;
      return x && new Set(x.jobs.map((j: any) => j.source)).size === 2 ? x : undefined;
    });
    assert.deepEqual(view.labels, ['ok-to-test-tdx']);
    assert.equal(view.tdxApprovedSha, pr.headSha);
    assert.deepEqual(view.jobs.map((j: any) => `${j.source}:${j.job}`).sort(), [`actions:${CI} / ${NERDCTL}`, 'prow:e2e-kata-qemu-tdx']);
  });
});
