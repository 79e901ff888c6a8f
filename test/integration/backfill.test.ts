// `katabot backfill` against GitHub's Actions API pages (the FakeGitHub's, with GitHub's paging: per_page, Link
// rel="next", ETags and 304s), into the Redis a running katabot serves: Link pagination followed, a secondary rate
// limit (403 with retry-after) waited out, unchanged pages answered 304 on a rerun, recorded runs skipped, an
// interrupted backfill resumed, and records shared with webhooks so nothing counts twice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runBackfill } from '../../src/cli/backfill.ts';
import { startActionsCatchup } from '../../src/server/actions-catchup.ts';
import { startHarness, waitFor, type Harness } from './harness.ts';

const NIGHTLY = 'Kata Containers Nightly CI';
const TEE = 'kata-containers-ci-on-push / run-kata-coco-tests / run-k8s-tests-on-tee (tdx, qemu-tdx)';
const NERDCTL = 'kata-containers-ci-on-push / run-basic-amd64-tests / run-nerdctl-tests (qemu)';
const DAY = 24 * 3600_000;
const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

let h: Harness;
const NIGHTS = 120;

before(async () => {
  h = await startHarness({ env: { KATABOT_REPORTER: 'false' }, katabotYaml: 'actions:\n  nightly_workflows: [ci-nightly.yaml]\n' });
  // 120 nights of ci-nightly.yaml (two pages of runs), each run with two jobs; the TDX job failed on 3 nights in 4.
  let id = 70_000_000;
  for (let night = 1; night <= NIGHTS; night++) {
    const at = Date.now() - night * DAY / 8;
    const runId = ++id;
    const sha = runId.toString(16).padStart(40, '0');
    h.gh.workflowRuns.push({ id: runId, name: NIGHTLY, path: '.github/workflows/ci-nightly.yaml', workflow_id: 7, event: 'schedule', head_sha: sha, head_branch: 'main', status: 'completed', conclusion: 'failure', run_attempt: 1, created_at: iso(at), html_url: `https://github.com/kata-containers/kata-containers/actions/runs/${runId}`, pull_requests: [] });
    for (const [name, conclusion] of [[TEE, night % 4 === 0 ? 'success' : 'failure'], [NERDCTL, 'success']] as const) {
      const jobId = ++id;
      h.gh.workflowJobs.push({ id: jobId, run_id: runId, run_attempt: 1, name, workflow_name: NIGHTLY, head_sha: sha, head_branch: 'main', status: 'completed', conclusion, html_url: `https://github.com/kata-containers/kata-containers/actions/runs/${runId}/job/${jobId}`, labels: ['ubuntu-24.04'], created_at: iso(at), started_at: iso(at + 60_000), completed_at: iso(at + 3600_000) });
    }
  }
});
after(async () => {
  await h?.close();
});

const env = (): NodeJS.ProcessEnv => ({ ...h.env, GITHUB_TOKEN: 'ghp_test', LOG_LEVEL: 'silent' }) as NodeJS.ProcessEnv;
const quiet = { write: () => true, isTTY: false };
const backfill = (o: { workflow?: string[]; since?: string; signal?: AbortSignal }) =>
  runBackfill({ repo: 'kata-containers/kata-containers', workflow: o.workflow ?? ['ci-nightly.yaml'], since: o.since ?? '30d' }, { env: env(), stderr: quiet, redisPrefix: h.redis.prefix, ...(o.signal ? { signal: o.signal } : {}) });

describe('katabot backfill', () => {
  it('a webhook first, then an interrupted backfill, then the rest: every attempt once, across two pages, past a secondary rate limit', async () => {
    // The newest night's TDX job arrived by webhook already.
    const newest = h.gh.workflowJobs.find((j) => j.run_id === h.gh.workflowRuns[0]!.id && j.name === TEE)!;
    await h.send('workflow_run', h.gh.workflowRunEvent(newest.run_id, 'completed'));
    await h.send('workflow_job', h.gh.workflowJobEvent(newest.id, 'completed'));
    await h.settle();

    // Interrupted after 30 runs: what is recorded stays.
    const abort = new AbortController();
    let seen = 0;
    const stopAt = setInterval(() => {
      seen = h.gh.calls.filter((c) => /\/actions\/runs\/\d+\/jobs/.test(c.path)).length;
      if (seen >= 30) abort.abort();
    }, 5);
    const first = await backfill({ signal: abort.signal });
    clearInterval(stopAt);
    assert.equal(first.interrupted, true);
    assert.ok(first.runs >= 30 && first.runs < NIGHTS, `stopped after ${first.runs} runs`);

    // GitHub's secondary rate limit on the next request for jobs: waited out (retry-after: 1), then resumed.
    h.gh.faults.push({ method: 'GET', path: /\/actions\/runs\/\d+\/jobs/, status: 403, headers: { 'retry-after': '1' }, body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits' } });
    const t0 = Date.now();
    const second = await backfill({});
    assert.ok(Date.now() - t0 >= 1000, 'waited for the retry-after');
    assert.equal(h.gh.faults[0]!.count, 0, 'the 403 was answered');
    assert.equal(second.interrupted, false);
    assert.equal(second.runs, NIGHTS);
    assert.ok(second.skipped >= 30, `${second.skipped} runs recorded before were skipped`);
    const pages = h.gh.calls.filter((c) => c.path.includes('/actions/workflows/ci-nightly.yaml/runs'));
    assert.ok(pages.some((c) => /[?&]page=2/.test(c.path)), 'the Link to page 2 was followed');

    // Every attempt once: the webhook's record is the backfill's.
    const nightly = await waitFor('nightly', async () => {
      const v = (await (await fetch(`${h.bot.url}/api/jobs/nightly?runs=50`)).json()) as any;
      return v.jobs.length === 2 ? v : undefined;
    });
    const tee = nightly.jobs.find((j: any) => j.job === `${NIGHTLY} / ${TEE}`);
    assert.equal(tee.runs, 50);
    const history = (await (await fetch(`${h.bot.url}/api/jobs/${encodeURIComponent(`${NIGHTLY} / ${TEE}`)}/runs?limit=200`)).json()) as any;
    assert.equal(history.runs.length, NIGHTS);
    assert.equal(new Set(history.runs.map((r: any) => r.prowjob)).size, NIGHTS);
    assert.equal(history.runs.filter((r: any) => r.prowjob === `actions-${newest.id}`).length, 1);
  });

  it('a rerun of the same window asks GitHub nothing new: unchanged pages are 304s, recorded runs are skipped', async () => {
    const before = h.gh.calls.length;
    const notModified = h.gh.notModified.length;
    const r = await backfill({});
    assert.equal(r.skipped, NIGHTS);
    assert.equal(r.jobs, 0);
    const calls = h.gh.calls.slice(before);
    assert.equal(calls.filter((c) => /\/actions\/runs\/\d+\/jobs/.test(c.path)).length, 0, 'no job page');
    assert.ok(r.notModified >= 2 && h.gh.notModified.length - notModified === r.notModified, `${r.notModified} pages were 304`);
  });

  it('a rerun attempt after the backfill is picked up; a bad --since or --repo is one line', async () => {
    const run = h.gh.workflowRuns[1]!;
    run.run_attempt = 2;
    const jobId = 79_999_999;
    h.gh.workflowJobs.push({ ...h.gh.workflowJobs.find((j) => j.run_id === run.id && j.name === TEE)!, id: jobId, run_attempt: 2, conclusion: 'success' });
    const r = await backfill({ since: '2d' });
    assert.equal(r.jobs, 3, 'the run again: both first attempts (unchanged) and the new attempt');
    const history = (await (await fetch(`${h.bot.url}/api/runs/actions-${jobId}`)).json()) as any;
    assert.deepEqual(history.attempts.map((a: any) => [a.attempt, a.outcome]), [[1, 'fail'], [2, 'pass']]);
    await assert.rejects(backfill({ since: 'fortnight' }), /--since wants a span such as 14d/);
    await assert.rejects(runBackfill({ repo: 'kata', workflow: [], since: '1d' }, { env: env(), stderr: quiet }), /--repo wants OWNER\/REPO/);
  });

  it('the bot catches up on a job whose webhook it missed', async () => {
    const at = Date.now() - 60_000;
    const runId = 81_000_000;
    const sha = runId.toString(16).padStart(40, '0');
    h.gh.workflowRuns.unshift({ id: runId, name: NIGHTLY, path: '.github/workflows/ci-nightly.yaml', workflow_id: 7, event: 'schedule', head_sha: sha, head_branch: 'main', status: 'completed', conclusion: 'success', run_attempt: 1, created_at: iso(at), html_url: `https://github.com/kata-containers/kata-containers/actions/runs/${runId}`, pull_requests: [] });
    h.gh.workflowJobs.push({ id: runId + 1, run_id: runId, run_attempt: 1, name: TEE, workflow_name: NIGHTLY, head_sha: sha, head_branch: 'main', status: 'completed', conclusion: 'success', html_url: `https://github.com/kata-containers/kata-containers/actions/runs/${runId}/job/${runId + 1}`, labels: [], created_at: iso(at), started_at: iso(at), completed_at: iso(at + 1000) });
    const stop = startActionsCatchup({ repos: ['kata-containers/kata-containers'], minutes: 0.05, deps: h.bot.deps, github: h.bot.github, log: h.bot.deps.log });
    try {
      const r = await waitFor('caught up', () => h.bot.deps.results.get(`actions-${runId + 1}`));
      assert.equal(r.state, 'success');
      assert.equal(r.type, 'periodic');
    } finally {
      stop();
    }
  });
});
