// The authorisation matrix (test/fixtures/authz-matrix.ts) against the real handlers: one long-lived katabot
// (real Redis, the Kubernetes API double, nock'd GitHub), each case on its own PR, the webhook handed to
// probot.receive as the queue worker does (the intake path is covered by foundation.test.ts). Asserts the
// jobs created, the labels after and the replies, plus the three invariants on every case.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { GitHub } from '../../src/adapters/github.ts';
import { launchRuns } from '../../src/handlers/effects.ts';
import { presubmitsFor } from '../../src/jobs/select.ts';
import { LABELS } from '../../src/jobs/types.ts';
import {
  ACTIONS,
  ACTORS,
  AUTHORS,
  CASES,
  JOB,
  TRUSTED,
  caseName,
  expect as expected,
  initialLabels,
  untrustedCode,
  type Case,
  type JobKind,
} from '../fixtures/authz-matrix.ts';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
let next = 5000;

before(async () => {
  h = await startHarness();
});
after(async () => h?.close());

function prJobs(pr: number) {
  return h.prowjobs().filter((pj) => pj.metadata.labels?.[LABELS.pull] === String(pr));
}

async function receive(name: string, payload: unknown): Promise<void> {
  await h.bot.github.probot.receive({ id: randomUUID(), name, payload } as never);
}

/** A ProwJob of `job` with its queued check run, as an earlier /test would have left them. */
async function seedCheckRun(pr: number, job: string): Promise<number> {
  const octokit = await h.bot.github.probot.auth(h.gh.installationId);
  const gh = new GitHub(octokit as never, h.gh.owner, h.gh.repo);
  const presubmit = presubmitsFor(h.bot.deps.config().jobs, gh.owner, gh.repo).find((p) => p.name === job)!;
  const launch = await launchRuns(h.bot.deps, gh, [{ backend: 'prow', job, presubmit, traced: false }], { pr: await gh.pull(pr), delivery: randomUUID(), purpose: 'seed', retest: false });
  await launch.report();
  const [seeded] = launch.outcomes;
  assert.ok(seeded?.result === 'started', `seeded ProwJob for ${job}`);
  const run = h.gh.checkRuns.find((r) => r.external_id === seeded.id);
  assert.ok(run, `seeded check run for ${job}`);
  return run.id;
}

async function runCase(c: Case): Promise<void> {
  const number = next++;
  const pr = h.gh.addPull({ number, author: AUTHORS[c.author], files: ['src/runtime/main.go'] });
  for (const l of initialLabels(c.labels)) h.gh.labels.get(number)!.add(l);
  if (c.labels.startsWith('ok-to-test-tdx')) {
    // What an approver's label leaves behind: the head it was given on (an older one when stale).
    await h.bot.deps.store.set(`tdx-approved:${h.gh.owner}/${h.gh.repo}#${number}`, c.labels === 'ok-to-test-tdx' ? pr.headSha : 'f'.repeat(40), 3600);
  }
  const action = ACTIONS[c.action];
  let payload: unknown;
  let event: string;
  if (action.kind === 'comment') {
    event = 'issue_comment';
    payload = h.gh.commentEvent(number, ACTORS[c.actor], `Please:\n${action.body}\n`);
  } else {
    const runId = await seedCheckRun(number, JOB[action.job as JobKind]);
    event = 'check_run';
    payload = h.gh.checkRunEvent(runId, action.kind, ACTORS[c.actor], action.kind === 'requested_action' ? { identifier: action.identifier } : {});
  }
  const before = new Set(prJobs(number).map((pj) => pj.metadata.name));
  const commentsBefore = h.gh.comments.filter((x) => x.issue === number).length;

  await receive(event, payload);

  const started = prJobs(number).filter((pj) => !before.has(pj.metadata.name));
  const jobs = started.map((pj) => (pj.metadata.labels?.[LABELS.trace] === 'true' ? `${pj.spec.job}+trace` : pj.spec.job!)).sort();
  const labels = [...h.gh.labels.get(number)!].sort();
  const replies = h.gh.comments
    .filter((x) => x.issue === number)
    .slice(commentsBefore)
    .map((x) => /<!-- katabot:reply .*:([a-z-]+) -->/.exec(x.body)?.[1] ?? `unmarked: ${x.body.slice(0, 60)}`)
    .sort();

  // The invariants hold whatever the table says.
  if (!TRUSTED[c.actor] && untrustedCode(c)) assert.deepEqual(jobs, [], 'an untrusted user started a job on an untrusted PR');
  if (jobs.some((j) => j.startsWith(JOB.tdx))) {
    const approvedNow = c.labels === 'ok-to-test-tdx' || (c.action === 'ok-to-test-tdx' && c.actor === 'approver');
    assert.ok(approvedNow, 'a TDX job ran without an approver label for the current head');
  }
  if (jobs.some((j) => j.endsWith('+trace'))) {
    assert.ok(TRUSTED[c.actor] && !untrustedCode(c), 'a privileged traced job ran for untrusted code');
    for (const pj of started.filter((p) => p.metadata.labels?.[LABELS.trace] === 'true')) assert.equal(pj.spec.refs?.pulls?.[0]?.sha, pr.headSha);
  }
  assert.deepEqual({ jobs, labels, replies }, expected(c));
  // Every reported job got its queued check run.
  for (const pj of started) if (pj.spec.report !== false) assert.ok(h.gh.checkRuns.some((r) => r.external_id === pj.metadata.name), `check run for ${pj.spec.job}`);
}

describe('authorisation matrix', { concurrency: 6 }, () => {
  it(`has at least 200 cases (${CASES.length})`, () => assert.ok(CASES.length >= 200));
  for (const c of CASES) it(caseName(c), () => runCase(c));
});
