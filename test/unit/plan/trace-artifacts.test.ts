// The pick-up of the katabot action's traces and `/trace` of Actions jobs, as tables: which completed runs are
// reported, which PR a trace is of, which base runs are baselines, and which /trace targets are Actions jobs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actionsTraceRuns, dispatchInputs, jobMatches } from '../../../src/plan/actions-trace.ts';
import type { PullFacts } from '../../../src/plan/facts.ts';
import {
  addBaseline, baseCandidates, baselineWorkflows, pickUp, pullOf, traceArtifacts, type ArtifactRef, type Baseline, type BaseRunRef, type CompletedRun,
} from '../../../src/plan/trace-artifacts.ts';
import { noBaselineCheckRun } from '../../../src/render/behavior.ts';
import type { ActionManifest } from '../../../src/trace/action-manifest.ts';

const HEAD = 'a'.repeat(40);
const BASE = 'b'.repeat(40);
const run = (o: Partial<CompletedRun> = {}): CompletedRun => ({
  id: 201, attempt: 1, name: 'CI', path: '.github/workflows/ci.yaml', workflowId: 9, event: 'pull_request', headSha: HEAD, headBranch: 'fix',
  conclusion: 'failure', url: 'https://github.com/o/r/actions/runs/201', pullNumbers: [5], ...o,
});
const art = (id: number, name: string, o: Partial<ArtifactRef> = {}): ArtifactRef => ({ id, name, expired: false, size: 100, createdAt: `2026-01-01T00:00:0${id % 10}Z`, ...o });
const manifest = (o: Partial<ActionManifest['run']> = {}): ActionManifest => ({
  format: 'katabot-actions-trace', version: 1, name: 'run-k8s-tests', scope: { kind: 'runner' }, probes: '', files: { trace: 'trace.jsonl', audit: [], guest: [] },
  status: { state: 'traced', lost: 0, events: 10 },
  run: { repository: 'o/r', workflow: 'CI', workflowRef: '', job: 'run-k8s-tests', runId: 201, runAttempt: 1, event: 'pull_request', sha: HEAD, ref: '', ...o },
});
const pull = (o: Partial<PullFacts> = {}): PullFacts => ({
  number: 5, state: 'open', draft: false, merged: false, mergeable: true, title: 't', author: 'a', authorLink: '', link: '', headSha: HEAD, headRef: 'fix',
  baseRef: 'main', baseSha: BASE, repoLink: '', labels: [], ...o,
});

describe('pickUp', () => {
  const cases: Array<[string, Partial<CompletedRun>, ArtifactRef[], string | string[]]> = [
    ['a PR run with a trace', {}, [art(1, 'katabot-trace-k8s'), art(2, 'logs')], ['katabot-trace-k8s']],
    ['a pull_request_target run', { event: 'pull_request_target' }, [art(1, 'katabot-trace-k8s')], ['katabot-trace-k8s']],
    ['a /trace dispatch', { event: 'workflow_dispatch' }, [art(1, 'katabot-trace-k8s')], ['katabot-trace-k8s']],
    ['no trace artifact', {}, [art(2, 'logs')], 'no katabot trace artifact'],
    ['an expired one', {}, [art(1, 'katabot-trace-k8s', { expired: true })], 'no katabot trace artifact'],
    ['a push run: a baseline', { event: 'push', headBranch: 'main' }, [art(1, 'katabot-trace-k8s')], 'a push run of main: a baseline for later pull requests'],
    ['a schedule run: a baseline', { event: 'schedule', headBranch: 'main' }, [art(1, 'katabot-trace-k8s')], 'a schedule run of main: a baseline for later pull requests'],
    ['another event', { event: 'release' }, [art(1, 'katabot-trace-k8s')], 'a release run is neither a pull request\'s nor a baseline'],
  ];
  for (const [what, r, artifacts, expected] of cases) {
    it(what, () => {
      const p = pickUp(run(r), artifacts);
      assert.deepEqual('skip' in p ? p.skip : p.artifacts.map((a) => a.name), expected);
    });
  }
  it('the newest artifact of a name (a re-run attempt uploads it again)', () => {
    assert.deepEqual(traceArtifacts([art(3, 'katabot-trace-k8s'), art(7, 'katabot-trace-k8s'), art(5, 'katabot-trace-k8s')]).map((a) => a.id), [7]);
  });
});

describe('pullOf', () => {
  const cases: Array<[string, Partial<CompletedRun>, Partial<ActionManifest['run']>, PullFacts[], number | string]> = [
    ['the run\'s own PR, its head traced', {}, {}, [pull()], 5],
    ['pull_request_target: the head from the manifest', { event: 'pull_request_target', headSha: BASE, pullNumbers: [] }, { pull: { number: 5, headSha: HEAD, baseRef: 'main' } }, [pull()], 5],
    ['the PR moved on since', {}, {}, [pull({ headSha: 'c'.repeat(40) })], `no open pull request has head ${HEAD.slice(0, 12)} any more`],
    ['a closed PR', {}, {}, [pull({ state: 'closed' })], `no open pull request has head ${HEAD.slice(0, 12)} any more`],
    ['a manifest of another run', {}, { runId: 999 }, [pull()], 'the artifact\'s manifest is of run 999, not 201'],
    ['a manifest naming a PR whose head was not traced', { event: 'pull_request_target', headSha: BASE, pullNumbers: [] }, { pull: { number: 6, headSha: HEAD, baseRef: 'main' } }, [pull({ number: 6, headSha: 'd'.repeat(40) })], `no open pull request has head ${HEAD.slice(0, 12)} any more`],
    ['no PR at all', { pullNumbers: [] }, {}, [], 'no pull request for this run'],
  ];
  for (const [what, r, m, pulls, expected] of cases) {
    it(what, () => {
      const p = pullOf(run(r), manifest(m), pulls);
      assert.deepEqual('skip' in p ? p.skip : p.number, expected);
    });
  }
});

describe('baselines', () => {
  const base = (id: number, o: Partial<BaseRunRef> = {}): BaseRunRef => ({
    id, attempt: 1, event: 'push', headSha: `${id}`.padStart(40, '0'), headBranch: 'main', conclusion: 'success', path: '.github/workflows/ci.yaml', createdAt: `2026-01-0${id % 10}T00:00:00Z`, url: '', ...o,
  });
  it('the workflow itself, or the ones the config names', () => {
    assert.deepEqual(baselineWorkflows(undefined, run()), ['ci.yaml']);
    assert.deepEqual(baselineWorkflows([{ workflow: 'ci.yaml', jobs: ['*'], dispatch: true, baselines: ['ci-nightly.yaml'] }], run()), ['ci-nightly.yaml']);
    assert.deepEqual(baselineWorkflows([{ workflow: 'other.yaml', jobs: ['*'], dispatch: true, baselines: ['x.yaml'] }], run()), ['ci.yaml']);
    assert.deepEqual(baselineWorkflows(undefined, run({ path: '' })), ['9'], 'an old payload without path: the workflow id');
  });
  it('successful push and scheduled runs on the base branch, at the base commit first, then the newest', () => {
    const runs = [
      base(1), base(2, { event: 'schedule' }), base(3, { conclusion: 'failure' }), base(4, { event: 'workflow_dispatch' }), base(5, { headBranch: 'stable' }),
      base(6), base(7, { headSha: BASE }), base(6),
    ];
    assert.deepEqual(baseCandidates(runs, 'main', BASE).map((r) => r.id), [7, 6, 2, 1]);
  });
  it('the first three that uploaded the same artifact', () => {
    const chosen: Baseline[] = [];
    assert.equal(addBaseline(chosen, base(1), [art(1, 'katabot-trace-k8s')], 'katabot-trace-k8s'), false);
    assert.equal(addBaseline(chosen, base(2), [art(2, 'katabot-trace-other')], 'katabot-trace-k8s'), false);
    assert.equal(addBaseline(chosen, base(3), [art(3, 'katabot-trace-k8s')], 'katabot-trace-k8s'), false);
    assert.equal(addBaseline(chosen, base(4), [art(4, 'katabot-trace-k8s')], 'katabot-trace-k8s'), true);
    assert.deepEqual(chosen.map((b) => [b.run.id, b.artifact.id]), [[1, 1], [3, 3], [4, 4]]);
  });
  it('no baseline: the check says so and names the workflows that make one', () => {
    const c = noBaselineCheckRun({ job: 'run-k8s-tests', baseRef: 'main', headSha: HEAD, actions: { workflow: 'CI', job: 'run-k8s-tests', attempt: 2, url: 'https://x/2' }, workflows: ['ci-nightly.yaml', 'ci.yaml'], looked: 3 });
    assert.deepEqual([c.name, c.conclusion, c.output.title], ['katabot / behavior (run-k8s-tests)', 'neutral', 'No baseline yet']);
    assert.match(c.output.summary, /GitHub Actions: workflow <code>CI<\/code> · job <code>run-k8s-tests<\/code> · \[attempt 2\]\(https:\/\/x\/2\)\. Head `aaaaaaaaaaaa`\./);
    assert.match(c.output.summary, /no successful push or scheduled run of <code>ci-nightly\.yaml<\/code> or <code>ci\.yaml<\/code> on `main` has uploaded a katabot trace of <code>run-k8s-tests<\/code> \(3 runs looked at\)\./);
    assert.match(c.output.summary, /Nothing was compared\./);
  });
});

describe('/trace of Actions jobs', () => {
  const configured = [
    { workflow: 'ci-on-push.yaml', jobs: ['run-k8s-tests*'], dispatch: true },
    { workflow: 'basic-ci.yaml', jobs: ['basic-ci-amd64', 'run-k8s-tests-basic'], dispatch: false },
  ];
  const cases: Array<[string, string[], Array<[string, string, string]>]> = [
    ['a glob', ['run-k8s-tests-on-free-runner'], [['run-k8s-tests-on-free-runner', 'ci-on-push.yaml', 'dispatch']]],
    ['the first workflow in config order', ['run-k8s-tests-basic'], [['run-k8s-tests-basic', 'ci-on-push.yaml', 'dispatch']]],
    ['a re-run workflow', ['basic-ci-amd64'], [['basic-ci-amd64', 'basic-ci.yaml', 'rerun']]],
    ['a Prow job is not claimed', ['kata-containers-2.0-tests-ubuntu-main-PR'], []],
    ['each once', ['basic-ci-amd64', 'basic-ci-amd64'], [['basic-ci-amd64', 'basic-ci.yaml', 'rerun']]],
  ];
  for (const [what, targets, expected] of cases) {
    it(what, () => {
      const r = actionsTraceRuns(configured, targets, pull({ number: 8 }));
      assert.deepEqual(r.runs.map((x) => [x.job, x.workflow, x.how]), expected);
      assert.deepEqual(r.claimed, expected.map((e) => e[0]));
      for (const x of r.runs) assert.deepEqual([x.pr, x.headSha, x.baseRef], [8, HEAD, 'main']);
    });
  }
  it('no config: nothing is an Actions job', () => assert.deepEqual(actionsTraceRuns(undefined, ['x'], pull()).runs, []));
  it('dispatch inputs', () => assert.deepEqual(dispatchInputs({ pr: 8, headSha: HEAD }), { 'katabot-trace': 'true', 'katabot-pr': '8', 'katabot-sha': HEAD }));
  const names: Array<[string, string, boolean]> = [
    ['basic-ci-amd64', 'basic-ci-amd64', true],
    ['basic-ci-amd64 (ubuntu-24.04)', 'basic-ci-amd64', true],
    ['kata-containers-ci-on-push / run-k8s-tests-on-free-runner / run-k8s-tests (clh, latest)', 'run-k8s-tests', true],
    ['basic-ci-amd64-extra', 'basic-ci-amd64', false],
    ['build', 'basic-ci-amd64', false],
  ];
  for (const [display, name, ok] of names) it(`job "${display}" ${ok ? 'is' : 'is not'} ${name}`, () => assert.equal(jobMatches(display, name), ok));
});
