// `/trace <job>` for GitHub Actions jobs that run the katabot action, end to end (real Redis, nock'd GitHub):
// a workflow with the documented workflow_dispatch inputs is dispatched on the base branch for the PR's head; a
// workflow that always traces has the job re-run on the PR head; trust is /trace's (an outsider's PR needs
// ok-to-test, an outsider may not ask), and each command starts its runs once even when GitHub redelivers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, waitFor, type Harness } from './harness.ts';

const TRACE_ACTIONS = `
trace:
  actions:
    - workflow: ci-on-push.yaml
      jobs: ["run-k8s-tests*"]
      dispatch: true
      baselines: [ci-nightly.yaml]
    - workflow: basic-ci.yaml
      jobs: [basic-ci-amd64]
      dispatch: false
`;

let h: Harness;
before(async () => {
  h = await startHarness({ katabotYaml: TRACE_ACTIONS });
});
after(async () => h?.close());

const replies = (pr: number) => h.gh.comments.filter((c) => c.issue === pr && c.body.includes('GitHub Actions jobs traced by the katabot action'));

describe('/trace of GitHub Actions jobs', () => {
  it('dispatches a workflow with the katabot inputs on the base branch for the PR head, once', async () => {
    const pr = h.gh.addPull({ number: 41, author: 'maintainer' });
    const event = h.gh.commentEvent(41, 'maintainer', '/trace run-k8s-tests-on-free-runner');
    await h.send('issue_comment', event, 'delivery-41');
    await waitFor('the dispatch', () => h.gh.dispatches.length === 1);
    assert.deepEqual(h.gh.dispatches[0], {
      workflow: 'ci-on-push.yaml', ref: 'main', inputs: { 'katabot-trace': 'true', 'katabot-pr': '41', 'katabot-sha': pr.headSha },
    });
    const [reply] = await waitFor('the reply', () => (replies(41).length ? replies(41) : undefined));
    assert.match(reply!.body, /`run-k8s-tests-on-free-runner`: `ci-on-push\.yaml` dispatched on `main` for this PR's head `/);
    assert.doesNotMatch(reply!.body, /not traced/);
    // no ProwJob, and no "unknown job" reply: the name is an Actions job
    assert.equal(h.prowjobs().length, 0);
    assert.ok(!h.gh.comments.some((c) => c.issue === 41 && /not found|unknown/i.test(c.body)));
    // GitHub redelivers the same delivery: nothing is dispatched twice
    await h.send('issue_comment', event, 'delivery-41');
    await h.settle();
    assert.equal(h.gh.dispatches.length, 1);
  });

  it('re-runs the traced job of the PR head\'s latest run when the workflow always traces', async () => {
    const pr = h.gh.addPull({ number: 42, author: 'maintainer' });
    const at = (s: number) => new Date(Date.now() - s * 1000).toISOString();
    h.gh.workflowRuns.push(
      { id: 501, name: 'Basic CI', workflow_id: 3, event: 'pull_request', head_sha: pr.headSha, status: 'completed', conclusion: 'failure', created_at: at(600), html_url: 'https://github.com/x/runs/501', path: '.github/workflows/basic-ci.yaml', head_branch: 'branch-42' },
      { id: 502, name: 'Basic CI', workflow_id: 3, event: 'pull_request', head_sha: pr.headSha, status: 'completed', conclusion: 'success', created_at: at(60), html_url: 'https://github.com/x/runs/502', path: '.github/workflows/basic-ci.yaml', head_branch: 'branch-42' },
    );
    h.gh.jobs.push(
      { id: 9501, run_id: 501, name: 'basic-ci-amd64', status: 'completed', conclusion: 'failure', html_url: 'https://github.com/x/jobs/9501' },
      { id: 9502, run_id: 502, name: 'build', status: 'completed', conclusion: 'success', html_url: 'https://github.com/x/jobs/9502' },
      { id: 9503, run_id: 502, name: 'basic-ci-amd64 (ubuntu-24.04)', status: 'completed', conclusion: 'success', html_url: 'https://github.com/x/jobs/9503' },
    );
    await h.send('issue_comment', h.gh.commentEvent(42, 'maintainer', '/trace basic-ci-amd64'));
    await waitFor('the re-run', () => h.gh.rerunJobs.length === 1);
    assert.deepEqual(h.gh.rerunJobs, [9503], 'the job of the newest run, matrix values after its name');
    const [reply] = await waitFor('the reply', () => (replies(42).length ? replies(42) : undefined));
    assert.match(reply!.body, /`basic-ci-amd64`: re-run in `basic-ci\.yaml` on this PR's head/);
  });

  it('says why when the job has no run on the head yet', async () => {
    h.gh.addPull({ number: 43, author: 'maintainer' });
    await h.send('issue_comment', h.gh.commentEvent(43, 'maintainer', '/trace basic-ci-amd64'));
    const [reply] = await waitFor('the reply', () => (replies(43).length ? replies(43) : undefined));
    assert.match(reply!.body, /`basic-ci-amd64`: not traced: no run of basic-ci\.yaml on this PR's head yet/);
  });

  const cases = [
    { name: 'an outsider may not ask', pr: 44, author: 'maintainer', commenter: 'outsider', labels: [] as string[], runs: false },
    { name: 'an outsider\'s PR needs ok-to-test', pr: 45, author: 'outsider', commenter: 'maintainer', labels: [], runs: false },
    { name: 'an outsider\'s PR with ok-to-test is traced', pr: 46, author: 'outsider', commenter: 'maintainer', labels: ['ok-to-test'], runs: true },
  ];
  for (const c of cases) {
    it(`trust: ${c.name}`, async () => {
      h.gh.addPull({ number: c.pr, author: c.author });
      for (const l of c.labels) h.gh.labels.get(c.pr)!.add(l);
      const before = h.gh.dispatches.length;
      await h.send('issue_comment', h.gh.commentEvent(c.pr, c.commenter, '/trace run-k8s-tests'));
      await h.settle();
      if (c.runs) {
        await waitFor('the dispatch', () => h.gh.dispatches.length === before + 1);
        assert.equal(h.gh.dispatches.at(-1)!.inputs['katabot-pr'], String(c.pr));
      } else {
        assert.equal(h.gh.dispatches.length, before, 'the privileged tracer never runs for untrusted code');
        assert.equal(replies(c.pr).length, 0);
      }
    });
  }
});
