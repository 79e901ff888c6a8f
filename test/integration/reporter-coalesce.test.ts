// The reporter under a burst (issue 19): while GitHub is slow, ProwJobs move through their states; the reporter
// spends one write per check run, showing the state the job has when the write goes out, and the PR's failure
// comment goes out before the check-run PATCHes and lists every failure at once. Real Redis, the Kubernetes
// API-server double, nock'd GitHub held at the HTTP layer.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { kubeProwJobClient, type ProwJobClient } from '../../src/adapters/kube.ts';
import { LABELS, type ProwJob } from '../../src/jobs/types.ts';
import { startHarness, waitFor, type Harness } from './harness.ts';

let h: Harness;
let plank: ProwJobClient;

before(async () => {
  h = await startHarness({ env: { KATABOT_REPORTER_LEASE_MS: '900' } });
  plank = kubeProwJobClient(h.kube.kubeConfig, 'prow');
  await waitFor('a reporter', () => h.bot.reporter?.isLeader());
});
after(async () => h?.close());

const at = (offsetSec = 0) => new Date(Date.now() + offsetSec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const runFor = (name: string) => h.gh.checkRuns.find((r) => r.external_id === name);

async function quiet(): Promise<void> {
  await sleep(150);
  await h.bot.reporter?.idle();
  await sleep(50);
}

/** `n` ProwJobs Prow's trigger made for one PR (the reporter creates their check runs), built from a real one. */
async function seedJobs(n: number): Promise<{ pr: number; names: string[] }> {
  const first = h.gh.addPull({ number: 900, author: 'maintainer' });
  await h.send('issue_comment', h.gh.commentEvent(first.number, 'maintainer', '/test e2e-kata-qemu'));
  const template = await waitFor('template job', () => h.prowjobs().find((j) => j.metadata.labels?.[LABELS.pull] === '900'));
  const pr = h.gh.addPull({ number: 901, author: 'maintainer' });
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const pj: ProwJob = structuredClone(template);
    const job = `e2e-burst-${i}`;
    pj.metadata = { name: `burst-${i}`, namespace: 'prow', labels: { ...template.metadata.labels, [LABELS.pull]: String(pr.number), [LABELS.job]: job }, annotations: template.metadata.annotations };
    pj.spec = { ...pj.spec, job, context: job, rerun_command: `/test ${job}` };
    pj.spec.refs!.pulls![0] = { ...pj.spec.refs!.pulls![0]!, number: pr.number, sha: pr.headSha };
    pj.status = { state: 'triggered', startTime: at(-10 + i) };
    h.kube.seed(pj);
    names.push(pj.metadata.name);
  }
  await waitFor('check runs created', () => names.every((name) => runFor(name)));
  await h.settle();
  await quiet();
  return { pr: pr.number, names };
}

describe('a burst of state changes while GitHub is slow', () => {
  it('one PATCH per check run with the latest state, and one failure comment, first, for all three failures', async () => {
    const { pr, names } = await seedJobs(6);
    const from = h.gh.calls.length;
    const release = h.gh.hold();
    for (const name of names) await plank.updateStatus(name, () => ({ state: 'pending', pendingTime: at() }));
    for (const [i, name] of names.entries()) {
      await plank.updateStatus(name, () => (i < 3 ? { state: 'failure', completionTime: at(1), description: 'Job failed.' } : { state: 'success', completionTime: at(1) }));
    }
    await sleep(500); // every change reconciled; the writes wait for GitHub
    release();
    await waitFor('every result shown', () => names.every((name, i) => runFor(name)?.conclusion === (i < 3 ? 'failure' : 'success')) && h.gh.comments.some((c) => c.issue === pr));
    await quiet();

    const writes = h.gh.calls.slice(from).filter((c) => c.method !== 'GET' && !c.path.includes('/access_tokens'));
    const patches = writes.filter((c) => c.method === 'PATCH' && c.path.includes('/check-runs/'));
    // 12 state changes. Up to three writes (the reporter's write concurrency) were at GitHub before the jobs moved
    // on: they may show `in_progress`; every other write shows the final state.
    const superseded = patches.filter((c) => c.body.status === 'in_progress');
    assert.ok(superseded.length <= 3, `at most the three writes in flight show a superseded state, got ${superseded.length}`);
    assert.equal(patches.length, names.length + superseded.length, 'one PATCH per check run, plus those in flight');
    for (const name of names) {
      const id = runFor(name)!.id;
      assert.ok(patches.filter((c) => c.path.endsWith(`/check-runs/${id}`) && c.body.status === 'completed').length === 1, `${name}: its result once`);
    }

    const comments = writes.filter((c) => c.path.includes('/comments'));
    assert.equal(comments.length, 1, 'three failures, one comment write');
    for (const job of ['e2e-burst-0', 'e2e-burst-1', 'e2e-burst-2']) assert.match(comments[0]!.body.body, new RegExp(`^${job} \\|`, 'm'));
    assert.doesNotMatch(comments[0]!.body.body, /e2e-burst-[345] \|/);
    // Ahead of the check-run PATCHes waiting with it: after the (up to three) writes in flight, and the writes the
    // two other lanes started while the comment's own lane read the PR's rows.
    const order = writes.map((c) => `${c.method} ${c.path.split('/').slice(-2).join('/')} ${c.body.status ?? ''}`);
    assert.ok(writes.indexOf(comments[0]!) <= 5, `the comment went out ahead of the waiting PATCHes: ${order.join(', ')}`);
    assert.ok(writes.indexOf(comments[0]!) < writes.length - 3);
  });
});
