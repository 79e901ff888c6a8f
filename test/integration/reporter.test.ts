// The reporter end to end: ProwJobs in the Kubernetes API-server double move through their states the way plank
// moves them (merge-patches of the object; the CRD has no status subresource), katabot watches them and reports
// to nock'd GitHub: check runs, commit statuses, the one failure comment. Reruns come from check events. Watches
// break, the bot restarts, two replicas race: every transition reaches GitHub exactly once.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { kubeProwJobClient, type ProwJobClient } from '../../src/adapters/kube.ts';
import { LABELS, type ProwJob, type ProwJobStatus } from '../../src/jobs/types.ts';
import { BASE_SHA_DELIMITER } from '../../src/render/status.ts';
import { FAILURE_COMMENT_MARKER } from '../../src/render/failure-comment.ts';
import type { Call } from '../fixtures/github.ts';
import { startHarness, waitFor, type Harness } from './harness.ts';

let h: Harness;
let plank: ProwJobClient;
let prNumber = 500;

before(async () => {
  h = await startHarness({
    env: { KATABOT_REPORTER_LEASE_MS: '900' },
    katabotYaml: 'report:\n  statuses: true\n',
  });
  plank = kubeProwJobClient(h.kube.kubeConfig, 'prow');
  await waitFor('a reporter', () => h.bot.reporter?.isLeader());
});
after(async () => h?.close());

// ---------------------------------------------------------------------------------------------------------------
// helpers

const at = (offsetSec = 0) => new Date(Date.now() + offsetSec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What plank writes on each transition. */
const PLANK: Record<string, (pj: ProwJob) => Partial<ProwJobStatus>> = {
  pending: (pj) => ({
    state: 'pending',
    pendingTime: at(),
    description: 'Job triggered.',
    pod_name: pj.metadata.name,
    build_id: '1775579633484304384',
    url: `https://prow.kata.example/view/s3/kata-prow-logs/pr-logs/pull/kata-containers_kata-containers/${pj.spec.refs?.pulls?.[0]?.number}/${pj.spec.job}/1775579633484304384`,
  }),
  success: () => ({ state: 'success', completionTime: at(1), description: 'Job succeeded.' }),
  failure: () => ({ state: 'failure', completionTime: at(1), description: 'Job failed.' }),
  aborted: () => ({ state: 'aborted', completionTime: at(1), description: 'Aborted by trigger plugin.' }),
  error: () => ({ state: 'error', completionTime: at(1), description: 'Pod scheduling timeout.' }),
};

async function move(name: string, state: keyof typeof PLANK): Promise<void> {
  const updated = await plank.updateStatus(name, (pj) => PLANK[state]!(pj));
  assert.ok(updated, `prowjob ${name} exists`);
}

function jobsFor(pr: number): ProwJob[] {
  return h.prowjobs().filter((pj) => pj.metadata.labels?.[LABELS.pull] === String(pr));
}

function runFor(name: string) {
  return h.gh.checkRuns.find((r) => r.external_id === name);
}

/** GitHub calls katabot made, without token minting (once an hour per installation, not per report). */
function apiCalls(from: number): Call[] {
  return h.gh.calls.slice(from).filter((c) => !c.path.includes('/access_tokens'));
}

async function quiet(bot = h.bot): Promise<void> {
  await sleep(150);
  await bot.reporter?.idle();
  await sleep(50);
}

/** Starts one job on a fresh PR through a /test comment and waits until its queued report settled. */
async function startJob(job = 'e2e-kata-qemu', author = 'maintainer'): Promise<{ pr: number; pj: ProwJob }> {
  const pr = h.gh.addPull({ number: ++prNumber, author });
  await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', `/test ${job}`));
  const [pj] = await waitFor('prowjob', () => (jobsFor(pr.number).length ? jobsFor(pr.number) : undefined));
  if (pj!.spec.report) await waitFor('queued check run', () => runFor(pj!.metadata.name));
  await waitFor('pending status', () => !pj!.spec.report || h.gh.statuses.some((s) => s.sha === pr.headSha && s.context === job));
  await h.settle();
  await quiet();
  return { pr: pr.number, pj: pj! };
}

/** Moves a job and returns the GitHub calls that one transition caused. */
async function transition(name: string, state: keyof typeof PLANK, until: () => unknown): Promise<Call[]> {
  await quiet();
  const from = h.gh.calls.length;
  await move(name, state);
  await waitFor(`${state} reported`, until);
  await quiet();
  return apiCalls(from);
}

// Sorted: a job's channels are written concurrently (src/reporter/reporter.ts), their order is no contract.
const shape = (calls: Call[]) => calls.map((c) => `${c.method} ${c.path.replace(/\?.*$/, '').replace(/^\/repos\/[^/]+\/[^/]+/, '')}`).sort();

// ---------------------------------------------------------------------------------------------------------------

describe('lifecycle → check runs and statuses', () => {
  it('triggered → pending → success: one PATCH and one status per state change', async () => {
    const { pr, pj } = await startJob();
    const name = pj.metadata.name;
    const sha = h.gh.pulls.get(pr)!.headSha;
    const queued = runFor(name)!;
    assert.equal(queued.status, 'queued');
    assert.match(queued.output.summary, /Attempt \| 1/);
    const triggeredStatus = h.gh.statuses.filter((s) => s.sha === sha);
    assert.equal(triggeredStatus.length, 1, 'triggered: one pending status');
    assert.equal(triggeredStatus[0]!.state, 'pending');

    const pending = await transition(name, 'pending', () => runFor(name)?.status === 'in_progress');
    assert.deepEqual(shape(pending), [`PATCH /check-runs/${queued.id}`, `POST /statuses/${sha}`]);
    const run = runFor(name)!;
    const live = h.kube.object('prowjobs', 'prow', name) as ProwJob;
    assert.equal(run.started_at, live.status?.pendingTime, 'started_at is pendingTime');
    assert.equal(run.details_url, live.status?.url, 'details_url is status.url once plank set it');
    const st = h.gh.statuses.at(-1)!;
    assert.equal(st.state, 'pending');
    assert.equal(st.target_url, live.status?.url);
    assert.ok(st.description!.startsWith('Job triggered.\u2001'), 'crier pads with U+2001');
    assert.ok(st.description!.endsWith(`${BASE_SHA_DELIMITER}${'b'.repeat(40)}`), 'BaseSHA suffix, as tide reads it');

    const done = await transition(name, 'success', () => runFor(name)?.conclusion === 'success');
    assert.deepEqual(shape(done), [`PATCH /check-runs/${queued.id}`, `POST /statuses/${sha}`]);
    assert.ok(done.length <= 3);
    const final = runFor(name)!;
    assert.equal(final.status, 'completed');
    assert.equal(final.output.title, 'e2e-kata-qemu: passed');
    assert.match(final.output.summary, /Duration \| \d+s/);
    assert.match(final.output.summary, /\[e2e-kata-qemu\]\(https:\/\/prow\.kata\.example\/view\//, 'Deck link');
    assert.match(final.output.summary, /`\/test e2e-kata-qemu`/, 'rerun command');
    assert.equal(final.actions, undefined, 'no buttons on a green run');
    assert.equal(h.gh.statuses.at(-1)!.state, 'success');
    assert.equal(h.gh.checkRuns.filter((r) => r.external_id === name).length, 1);
    assert.equal(h.gh.comments.filter((c) => c.issue === pr).length, 0, 'no comment when nothing failed');
  });

  it('failure → failure with Re-run and Trace buttons, a failure status and the failure comment', async () => {
    const { pr, pj } = await startJob();
    const name = pj.metadata.name;
    await transition(name, 'pending', () => runFor(name)?.status === 'in_progress');
    const calls = await transition(name, 'failure', () => h.gh.comments.some((c) => c.issue === pr));
    assert.deepEqual(
      shape(calls),
      [`PATCH /check-runs/${runFor(name)!.id}`, `POST /issues/${pr}/comments`, `POST /statuses/${pj.spec.refs!.pulls![0]!.sha}`],
    );
    const run = runFor(name)!;
    assert.equal(run.conclusion, 'failure');
    assert.deepEqual(run.actions!.map((a: any) => a.identifier), ['katabot-rerun', 'katabot-trace']);
    for (const a of run.actions!) assert.ok(a.label.length <= 20 && a.identifier.length <= 20 && a.description.length <= 40);
    assert.equal(h.gh.statuses.at(-1)!.state, 'failure');
    const comment = h.gh.comments.find((c) => c.issue === pr)!;
    assert.match(comment.body, /Test name \| Commit \| Details \| Required \| Rerun command \| Attempts/);
    assert.match(comment.body, /e2e-kata-qemu \| [0-9a-f]{40} \| \[link\]\(https:\/\/prow\.kata\.example\/view\/.*\) \| true \| `\/test e2e-kata-qemu` \| 1/);
    assert.ok(comment.body.includes(FAILURE_COMMENT_MARKER));
  });

  it('aborted → cancelled (status failure, as crier); no comment row', async () => {
    const { pr, pj } = await startJob();
    const name = pj.metadata.name;
    const calls = await transition(name, 'aborted', () => runFor(name)?.conclusion === 'cancelled');
    assert.deepEqual(shape(calls), [`PATCH /check-runs/${runFor(name)!.id}`, `POST /statuses/${pj.spec.refs!.pulls![0]!.sha}`]);
    assert.equal(h.gh.statuses.at(-1)!.state, 'failure');
    assert.equal(h.gh.comments.filter((c) => c.issue === pr).length, 0);
  });

  it('error → failure with the error description; status error', async () => {
    const { pj } = await startJob();
    const name = pj.metadata.name;
    const calls = await transition(name, 'error', () => runFor(name)?.conclusion === 'failure');
    assert.ok(calls.length <= 3, `≤3 calls, got ${shape(calls)}`);
    const run = runFor(name)!;
    assert.equal(run.output.title, 'e2e-kata-qemu: error');
    assert.match(run.output.summary, /Pod scheduling timeout\./);
    assert.equal(h.gh.statuses.filter((s) => s.context === 'e2e-kata-qemu').at(-1)!.state, 'error');
  });

  it('skip_report jobs report nothing, not even a failure', async () => {
    const { pr, pj } = await startJob('metrics-silent');
    assert.equal(pj.spec.report, false);
    const from = h.gh.calls.length;
    await move(pj.metadata.name, 'pending');
    await move(pj.metadata.name, 'failure');
    await sleep(300);
    await quiet();
    assert.deepEqual(shape(apiCalls(from)), []);
    assert.equal(runFor(pj.metadata.name), undefined);
    assert.equal(h.gh.comments.filter((c) => c.issue === pr).length, 0);
    const recorded = await h.bot.deps.results.get(pj.metadata.name);
    assert.equal(recorded?.state, 'failure', 'its result is still recorded');
  });

  it('a job Prow created (no katabot check run) gets exactly one check run, found by external_id first', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    const template = (await startJob()).pj;
    const seeded = structuredClone(template);
    seeded.metadata = { name: `prow-made-${pr.number}`, namespace: 'prow', labels: { ...template.metadata.labels, [LABELS.pull]: String(pr.number), [LABELS.eventGuid]: 'prow' }, annotations: template.metadata.annotations };
    seeded.spec.refs!.pulls![0] = { ...seeded.spec.refs!.pulls![0]!, number: pr.number, sha: pr.headSha };
    seeded.status = { state: 'triggered', startTime: at() };
    const from = h.gh.calls.length;
    h.kube.seed(seeded);
    const run = await waitFor('check run for the Prow job', () => runFor(seeded.metadata.name));
    await quiet();
    assert.deepEqual(shape(apiCalls(from)), [`GET /commits/${pr.headSha}/check-runs`, 'POST /check-runs', `POST /statuses/${pr.headSha}`]);
    assert.equal(run.status, 'queued');
    const pending = await transition(seeded.metadata.name, 'pending', () => runFor(seeded.metadata.name)?.status === 'in_progress');
    assert.deepEqual(shape(pending), [`PATCH /check-runs/${run.id}`, `POST /statuses/${pr.headSha}`]);
    assert.equal(h.gh.checkRuns.filter((r) => r.external_id === seeded.metadata.name).length, 1);
  });
});

describe('GitHub API calls per job lifecycle', () => {
  it('≤3 per state change, for katabot’s jobs and for Prow’s (statuses and the failure comment on)', async (t) => {
    const figures: Record<string, number[]> = {};
    // katabot's job: the trigger path creates the check run; the reporter adds the pending status.
    {
      const from = h.gh.calls.length;
      const { pr, pj } = await startJob();
      // Only the reporting calls: the /test command's own reads (PR, branch, trust) are not part of a state change.
      const triggered = apiCalls(from).filter((c) => /check-runs|statuses|comments/.test(c.path));
      const name = pj.metadata.name;
      const pending = await transition(name, 'pending', () => runFor(name)?.status === 'in_progress');
      const failure = await transition(name, 'failure', () => runFor(name)?.conclusion === 'failure' && h.gh.comments.some((c) => c.issue === pr));
      figures.katabot = [triggered.length, pending.length, failure.length];
    }
    // A job Prow's own trigger made: the reporter finds (by external_id) and creates its check run.
    {
      const template = (await startJob()).pj;
      const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
      const seeded = structuredClone(template);
      seeded.metadata = { name: `prow-lifecycle-${pr.number}`, namespace: 'prow', labels: { ...template.metadata.labels, [LABELS.pull]: String(pr.number) }, annotations: template.metadata.annotations };
      seeded.spec.refs!.pulls![0] = { ...seeded.spec.refs!.pulls![0]!, number: pr.number, sha: pr.headSha };
      seeded.status = { state: 'triggered', startTime: at() };
      await quiet();
      const from = h.gh.calls.length;
      h.kube.seed(seeded);
      await waitFor('created', () => runFor(seeded.metadata.name));
      await quiet();
      const triggered = apiCalls(from);
      const name = seeded.metadata.name;
      const pending = await transition(name, 'pending', () => runFor(name)?.status === 'in_progress');
      const failure = await transition(name, 'failure', () => h.gh.comments.some((c) => c.issue === pr.number));
      figures.prow = [triggered.length, pending.length, failure.length];
    }
    t.diagnostic(`GitHub API calls per state change [triggered, pending, failure]: katabot job ${JSON.stringify(figures.katabot)}, Prow job ${JSON.stringify(figures.prow)}`);
    // Triggered: the trigger path's check run + the reporter's pending status (plus a GET when the reporter saw the
    // new ProwJob before the trigger path had recorded its check run).
    assert.ok(figures.katabot![0]! >= 2 && figures.katabot![0]! <= 3);
    assert.deepEqual(figures.katabot!.slice(1), [2, 3], 'PATCH + status; PATCH + status + comment');
    assert.deepEqual(figures.prow, [3, 2, 3], 'find + create + status; PATCH + status; PATCH + status + comment');
    for (const n of [...figures.katabot!, ...figures.prow!]) assert.ok(n <= 3);
  });
});

describe('the failure comment', () => {
  it('one comment, edited across two failures, updated on recovery; never a second one', async () => {
    const { pr, pj } = await startJob();
    await move(pj.metadata.name, 'failure');
    const first = await waitFor('comment', () => h.gh.comments.find((c) => c.issue === pr));
    assert.match(first.body, /\| 1\n/);

    // A second job fails too: a second row, same comment.
    await h.send('issue_comment', h.gh.commentEvent(pr, 'maintainer', '/test docs-lint'));
    const lint = await waitFor('docs-lint', () => jobsFor(pr).find((j) => j.spec.job === 'docs-lint'));
    await move(lint.metadata.name, 'failure');
    await waitFor('second row', () => /docs-lint \|/.test(h.gh.comments.find((c) => c.issue === pr)!.body));
    assert.match(h.gh.comments.find((c) => c.issue === pr)!.body, /The following tests \*\*failed\*\*/);
    assert.match(h.gh.comments.find((c) => c.issue === pr)!.body, /\| false \| `\/test docs-lint`/, 'optional job: Required false');

    // The first job fails again on a rerun: its row now says attempt 2.
    await h.send('issue_comment', h.gh.commentEvent(pr, 'maintainer', '/test e2e-kata-qemu'));
    const rerun = await waitFor('rerun', () => jobsFor(pr).find((j) => j.spec.job === 'e2e-kata-qemu' && j.metadata.name !== pj.metadata.name));
    await quiet();
    assert.match(runFor(rerun.metadata.name)!.output.summary, /Attempt \| 2/);
    await move(rerun.metadata.name, 'failure');
    await waitFor('attempt 2 in the row', () => /e2e-kata-qemu \| [0-9a-f]{40} \| .* \| 2\n/.test(h.gh.comments.find((c) => c.issue === pr)!.body));

    // Third attempt passes: the job is flaky on this commit and its row goes away.
    await h.send('issue_comment', h.gh.commentEvent(pr, 'maintainer', '/test e2e-kata-qemu'));
    const qemu = () => jobsFor(pr).filter((j) => j.spec.job === 'e2e-kata-qemu');
    const third = await waitFor('third', () => (qemu().length === 3 ? qemu().find((j) => !j.status?.completionTime) : undefined));
    await move(third.metadata.name, 'success');
    await waitFor('row removed', () => !/e2e-kata-qemu \|/.test(h.gh.comments.find((c) => c.issue === pr)!.body));
    assert.match(h.gh.comments.find((c) => c.issue === pr)!.body, /docs-lint \|/);

    // docs-lint recovers: nothing fails, the comment says so.
    await h.send('issue_comment', h.gh.commentEvent(pr, 'maintainer', '/test docs-lint'));
    const lint2 = await waitFor('docs-lint rerun', () => jobsFor(pr).find((j) => j.spec.job === 'docs-lint' && !j.status?.completionTime));
    await move(lint2.metadata.name, 'success');
    await waitFor('all green', () => /all tests \*\*passed!\*\*/.test(h.gh.comments.find((c) => c.issue === pr)!.body));
    await quiet();
    const mine = h.gh.comments.filter((c) => c.issue === pr && c.body.includes(FAILURE_COMMENT_MARKER));
    assert.equal(mine.length, 1, 'exactly one failure comment, ever');
    const posts = h.gh.calls.filter((c) => c.method === 'POST' && c.path.endsWith(`/issues/${pr}/comments`) && c.body.body.includes(FAILURE_COMMENT_MARKER));
    assert.equal(posts.length, 1, 'created once, edited since');
  });

  it('two jobs failing at the same moment still make one comment', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer', files: ['src/runtime/x.go'] });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test e2e-kata-qemu\n/test e2e-kata-clh\n/test docs-lint'));
    await waitFor('three jobs', () => jobsFor(pr.number).length === 3);
    await h.settle();
    await quiet();
    await Promise.all(jobsFor(pr.number).map((pj) => move(pj.metadata.name, 'failure')));
    await waitFor('three rows', () => (h.gh.comments.find((c) => c.issue === pr.number)?.body.match(/ \| `\/test /g) ?? []).length === 3);
    await quiet();
    assert.equal(h.gh.comments.filter((c) => c.issue === pr.number).length, 1);
  });
});

describe('reruns from GitHub’s check UI', () => {
  async function failedJob() {
    const started = await startJob();
    await move(started.pj.metadata.name, 'failure');
    await waitFor('failed check run', () => runFor(started.pj.metadata.name)?.conclusion === 'failure');
    await quiet();
    return { ...started, run: runFor(started.pj.metadata.name)! };
  }

  it('Re-run (check_run.rerequested) → a new ProwJob labelled retest, with a new check run', async () => {
    const { pr, pj, run } = await failedJob();
    await h.send('check_run', h.gh.checkRunEvent(run.id, 'rerequested', 'maintainer'));
    const rerun = await waitFor('rerun', () => jobsFor(pr).find((j) => j.metadata.name !== pj.metadata.name));
    assert.equal(rerun.spec.job, 'e2e-kata-qemu');
    assert.equal(rerun.metadata.labels?.[LABELS.retest], 'true');
    assert.equal(rerun.metadata.labels?.[LABELS.trace], undefined);
    const fresh = await waitFor('new check run', () => runFor(rerun.metadata.name));
    assert.notEqual(fresh.id, run.id);
    assert.equal(fresh.status, 'queued');
    assert.match(fresh.output.summary, /Attempt \| 2 \(rerun\)/);
    assert.equal(runFor(pj.metadata.name)!.conclusion, 'failure', 'the old run keeps its result');
  });

  it('the Re-run and Trace buttons (requested_action): a plain and a traced rerun', async () => {
    const { pr, pj, run } = await failedJob();
    await h.send('check_run', h.gh.checkRunEvent(run.id, 'requested_action', 'maintainer', { identifier: 'katabot-rerun' }));
    await waitFor('plain rerun', () => jobsFor(pr).length === 2);
    await h.send('check_run', h.gh.checkRunEvent(run.id, 'requested_action', 'maintainer', { identifier: 'katabot-trace' }));
    const traced = await waitFor('traced rerun', () => jobsFor(pr).find((j) => j.metadata.labels?.[LABELS.trace] === 'true'));
    assert.equal(traced.spec.job, pj.spec.job);
    assert.equal(traced.metadata.labels?.[LABELS.retest], 'true');
    await waitFor('traced check run', () => runFor(traced.metadata.name));
    // Someone else's button (another App's identifier) does nothing.
    await h.send('check_run', h.gh.checkRunEvent(run.id, 'requested_action', 'maintainer', { identifier: 'lgtm|1' }));
    await h.settle();
    assert.equal(jobsFor(pr).length, 3);
  });

  it('Trace needs a trusted requester, as /trace does; Re-run follows /retest’s rule', async () => {
    const { pr, run } = await failedJob();
    await h.send('check_run', h.gh.checkRunEvent(run.id, 'requested_action', 'stranger', { identifier: 'katabot-trace' }));
    await h.settle();
    assert.equal(jobsFor(pr).length, 1, 'an untrusted user cannot start the privileged tracer');
    // The PR is trusted (its author is a maintainer), so anyone may re-run it, as anyone may /retest it.
    await h.send('check_run', h.gh.checkRunEvent(run.id, 'rerequested', 'stranger'));
    await waitFor('rerun by anyone on a trusted PR', () => jobsFor(pr).length === 2);
  });

  it('a fork PR (empty pull_requests on the event) is found from the head commit', async () => {
    const { pr, run } = await failedJob();
    await h.send('check_run', h.gh.checkRunEvent(run.id, 'rerequested', 'maintainer', { fork: true }));
    await waitFor('rerun', () => jobsFor(pr).length === 2);
  });

  it('check_suite.rerequested re-runs the failed jobs of the suite only', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer', files: ['src/runtime/x.go'] });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test e2e-kata-qemu\n/test e2e-kata-clh'));
    await waitFor('two jobs', () => jobsFor(pr.number).length === 2);
    await h.settle();
    const [a, b] = jobsFor(pr.number);
    await move(a!.metadata.name, 'failure');
    await move(b!.metadata.name, 'success');
    await waitFor('both reported', () => runFor(a!.metadata.name)?.conclusion === 'failure' && runFor(b!.metadata.name)?.conclusion === 'success');
    await h.send('check_suite', h.gh.checkSuiteEvent(pr.headSha, 'maintainer', { fork: true }));
    await waitFor('rerun', () => jobsFor(pr.number).length === 3);
    await h.settle();
    const rerun = jobsFor(pr.number).find((j) => j.metadata.name !== a!.metadata.name && j.metadata.name !== b!.metadata.name)!;
    assert.equal(rerun.spec.job, a!.spec.job);
    assert.equal(rerun.metadata.labels?.[LABELS.retest], 'true');
  });
});

describe('/retest and GitHub Actions', () => {
  it('re-runs failed Prow jobs and the failed jobs of failed workflow runs, and says what it re-ran where', async () => {
    const { pr, pj } = await startJob();
    await move(pj.metadata.name, 'failure');
    await waitFor('failed', () => runFor(pj.metadata.name)?.conclusion === 'failure');
    const sha = h.gh.pulls.get(pr)!.headSha;
    const url = (id: number) => `https://github.com/kata-containers/kata-containers/actions/runs/${id}`;
    h.gh.workflowRuns.push(
      { id: 9001, name: 'CI', workflow_id: 1, event: 'pull_request', head_sha: sha, status: 'completed', conclusion: 'failure', created_at: '2026-11-01T10:00:00Z', html_url: url(9001) },
      // Failed, but a newer run of the same workflow passed: nothing to re-run.
      { id: 9002, name: 'Static checks', workflow_id: 2, event: 'pull_request', head_sha: sha, status: 'completed', conclusion: 'failure', created_at: '2026-11-01T10:00:00Z', html_url: url(9002) },
      { id: 9003, name: 'Static checks', workflow_id: 2, event: 'pull_request', head_sha: sha, status: 'completed', conclusion: 'success', created_at: '2026-11-01T11:00:00Z', html_url: url(9003) },
      { id: 9004, name: 'Docs', workflow_id: 3, event: 'pull_request', head_sha: sha, status: 'completed', conclusion: 'success', created_at: '2026-11-01T10:00:00Z', html_url: url(9004) },
    );
    await h.send('issue_comment', h.gh.commentEvent(pr, 'maintainer', '/retest'));
    const reply = await waitFor('reply', () => h.gh.comments.find((c) => c.issue === pr && /<!-- katabot:reply [^ ]+:retest -->/.test(c.body)));
    assert.deepEqual(h.gh.rerunFailedJobs, [9001]);
    assert.match(reply.body, /\*\*Prow\*\*: .*`e2e-kata-qemu`/);
    assert.match(reply.body, /\*\*GitHub Actions\*\*: failed jobs of \[CI\]\(https:\/\/github\.com\/kata-containers\/kata-containers\/actions\/runs\/9001\)/);
    const rerun = await waitFor('prow rerun', () => jobsFor(pr).find((j) => j.spec.job === 'e2e-kata-qemu' && j.metadata.name !== pj.metadata.name));
    assert.equal(rerun.metadata.labels?.[LABELS.retest], 'true');
  });
});

describe('results of every ProwJob', () => {
  it('periodic jobs are recorded with state, times, Deck URL and attempt, and cost no GitHub call', async () => {
    await quiet();
    const from = h.gh.calls.length;
    const name = `nightly-${Date.now()}`;
    h.kube.seed({
      apiVersion: 'prow.k8s.io/v1',
      kind: 'ProwJob',
      metadata: { name, namespace: 'prow', labels: { 'created-by-prow': 'true', 'prow.k8s.io/type': 'periodic', 'prow.k8s.io/job': 'periodic-kata-nightly' } },
      spec: { type: 'periodic', agent: 'kubernetes', job: 'periodic-kata-nightly', report: true, pod_spec: { containers: [{ name: 'test', image: 'quay.io/kata-containers/ci:latest' }] } },
      status: { state: 'triggered', startTime: at() },
    });
    await move(name, 'pending');
    await move(name, 'success');
    const recorded = await waitFor('recorded', async () => {
      const r = await h.bot.deps.results.get(name);
      return r?.state === 'success' ? r : undefined;
    });
    assert.equal(recorded.type, 'periodic');
    assert.equal(recorded.attempt, 1);
    assert.ok(recorded.start && recorded.pending && recorded.end);
    assert.match(recorded.url ?? '', /^https:\/\/prow\.kata\.example\//);
    const history = await h.bot.deps.results.jobHistory('periodic-kata-nightly');
    assert.deepEqual(history.map((r) => r.name), [name]);
    assert.ok((await h.bot.deps.results.jobNames()).includes('periodic-kata-nightly'));
    await quiet();
    assert.deepEqual(shape(apiCalls(from)), []);
  });

  it('a Prow job that finished long before katabot first saw it is recorded, not reported (taking over from crier)', async () => {
    const template = (await startJob()).pj;
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    const old = structuredClone(template);
    old.metadata = { name: `crier-era-${pr.number}`, namespace: 'prow', labels: { ...template.metadata.labels, [LABELS.pull]: String(pr.number) }, annotations: template.metadata.annotations };
    old.spec.refs!.pulls![0] = { ...old.spec.refs!.pulls![0]!, number: pr.number, sha: pr.headSha };
    old.status = { state: 'failure', startTime: at(-3 * 86400), pendingTime: at(-3 * 86400 + 5), completionTime: at(-2 * 86400), description: 'Job failed.' };
    await quiet();
    const from = h.gh.calls.length;
    h.kube.seed(old);
    await waitFor('recorded', async () => (await h.bot.deps.results.get(old.metadata.name))?.state === 'failure');
    await quiet();
    assert.deepEqual(shape(apiCalls(from)), []);
    assert.equal(runFor(old.metadata.name), undefined);
  });

  it('attempts per (repo, job, head SHA) keep every attempt’s ProwJob, state, start, end and Deck URL', async () => {
    const { pr, pj } = await startJob();
    await move(pj.metadata.name, 'failure');
    await h.send('issue_comment', h.gh.commentEvent(pr, 'maintainer', '/test e2e-kata-qemu'));
    const second = await waitFor('second', () => jobsFor(pr).find((j) => j.metadata.name !== pj.metadata.name));
    await move(second.metadata.name, 'pending');
    await move(second.metadata.name, 'success');
    const sha = h.gh.pulls.get(pr)!.headSha;
    const attempts = await waitFor('two attempts', async () => {
      const a = await h.bot.deps.results.attempts('kata-containers/kata-containers', 'e2e-kata-qemu', sha);
      return a.length === 2 && a[1]!.state === 'success' ? a : undefined;
    });
    assert.deepEqual(attempts.map((a) => [a.name, a.attempt, a.state]), [[pj.metadata.name, 1, 'failure'], [second.metadata.name, 2, 'success']]);
    assert.ok(attempts.every((a) => a.start && a.end && a.url));
    assert.equal(await h.bot.deps.results.pullForSha('kata-containers/kata-containers', sha), pr);
  });
});

describe('restart safety', () => {
  it('a watch that ends, gracefully or abruptly, resumes and still reports every transition', async () => {
    const { pj } = await startJob();
    const name = pj.metadata.name;
    assert.ok(h.kube.faults.closeAllWatches() >= 1);
    await move(name, 'pending');
    await waitFor('pending after a graceful end', () => runFor(name)?.status === 'in_progress');
    assert.ok(h.kube.faults.closeAllWatches({ abrupt: true }) >= 1);
    await move(name, 'success');
    await waitFor('success after a broken connection', () => runFor(name)?.conclusion === 'success', 15_000);
  });

  it('after 410 Gone (compaction during a gap) it re-lists and reports what changed meanwhile, once', async () => {
    const { pj } = await startJob();
    const name = pj.metadata.name;
    const from = h.gh.calls.length;
    const patches = () => h.gh.calls.slice(from).filter((c) => c.method === 'PATCH' && c.path.endsWith(`/check-runs/${runFor(name)!.id}`)).length;
    // The watch breaks and cannot come back at once; meanwhile the job runs and etcd compacts.
    h.kube.faults.failNext({ verb: 'watch', resource: 'prowjobs', status: 500, count: 1 });
    h.kube.faults.closeAllWatches();
    await move(name, 'pending');
    await move(name, 'failure');
    h.kube.faults.compact();
    await waitFor('failure reported after the re-list', () => runFor(name)?.conclusion === 'failure', 15_000);
    await quiet();
    assert.equal(patches(), 1, 'pending was never seen; the failure is reported once');
    assert.ok(h.kube.requests({ verb: 'list', resource: 'prowjobs' }).length >= 2, 're-listed');
  });

  it('killed while a job is pending: the next bot reports the final state once, and no second check run', async () => {
    const { pr, pj } = await startJob();
    const name = pj.metadata.name;
    await transition(name, 'pending', () => runFor(name)?.status === 'in_progress');
    await h.stop();
    // As after a crash, the dead replica's lease is still there: the next bot must wait for it to expire.
    const r = new Redis(h.redis.url);
    await r.set(`${h.redis.prefix}:reporter:leader`, 'crashed-replica:1', 'PX', 900);
    r.disconnect();
    await move(name, 'failure'); // plank finishes the job while katabot is down
    const from = h.gh.calls.length;
    await h.start();
    await sleep(300);
    assert.equal(h.bot.reporter?.isLeader(), false, 'waits for the dead leader’s lease');
    await waitFor('reported after restart', () => runFor(name)?.conclusion === 'failure' && h.gh.comments.some((c) => c.issue === pr));
    await quiet();
    const sha = h.gh.pulls.get(pr)!.headSha;
    assert.deepEqual(shape(apiCalls(from)).filter((c) => !c.startsWith('GET')), [`PATCH /check-runs/${runFor(name)!.id}`, `POST /issues/${pr}/comments`, `POST /statuses/${sha}`]);
    assert.equal(h.gh.checkRuns.filter((r) => r.external_id === name).length, 1);

    // Another restart finds everything reported: not one write, for this job or any earlier one.
    const again = h.gh.calls.length;
    await h.stop();
    await h.start();
    await waitFor('leading again', () => h.bot.reporter?.isLeader());
    await sleep(300);
    await quiet();
    assert.deepEqual(apiCalls(again).filter((c) => c.method !== 'GET'), []);
  });

  it('two replicas: one reports, webhooks go to both, and the other takes over when it stops', async () => {
    const second = await h.replica();
    await sleep(1200);
    const bots = [h.bot, second];
    assert.equal(bots.filter((b) => b.reporter?.isLeader()).length, 1, 'exactly one leader');
    const leader = bots.find((b) => b.reporter?.isLeader())!;
    const follower = bots.find((b) => b !== leader)!;

    // The follower serves webhooks too.
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    const { deliver } = await import('../fixtures/github.ts');
    await deliver(follower.url, 'new-secret', 'issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test e2e-kata-qemu'));
    const pj = await waitFor('job via the follower', () => jobsFor(pr.number)[0]);
    const name = pj.metadata.name;
    await waitFor('queued', () => runFor(name));
    await sleep(200);
    await leader.reporter!.idle();

    const from = h.gh.calls.length;
    await move(name, 'pending');
    await waitFor('pending', () => runFor(name)?.status === 'in_progress');
    await sleep(300);
    await leader.reporter!.idle();
    assert.deepEqual(shape(apiCalls(from)), [`PATCH /check-runs/${runFor(name)!.id}`, `POST /statuses/${pr.headSha}`], 'one replica reported, once');

    // The leader goes away; the follower takes over and reports the rest, once.
    if (leader === h.bot) await h.stop();
    else await second.close();
    await waitFor('takeover', () => follower.reporter?.isLeader(), 5000);
    const before = h.gh.calls.length;
    await move(name, 'success');
    await waitFor('success', () => runFor(name)?.conclusion === 'success', 5000);
    await sleep(300);
    await follower.reporter!.idle();
    assert.deepEqual(shape(apiCalls(before)), [`PATCH /check-runs/${runFor(name)!.id}`, `POST /statuses/${pr.headSha}`]);
    if (leader === h.bot) await second.close();
  });
});
