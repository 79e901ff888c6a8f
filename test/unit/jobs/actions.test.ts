// GitHub Actions jobs: the outcome table, the kind of job an event makes, names (as GitHub shows them, and typeable
// for /test and URLs, with Kata's real check names from required-tests.yaml), and the record a job event makes.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { actionsJobType, actionsState, runInfoOf, shortTypeableNames, typeableMatches, typeableName } from '../../../src/jobs/actions.ts';
import type { ProwJobState } from '../../../src/jobs/types.ts';
import { actionsResultOf, cancelledAsFailure, typeableOf } from '../../../src/render/actions-results.ts';
import { outcomeOf } from '../../../src/dashboard/weather.ts';

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: any[] }>;
const example = (event: string, i: number) => structuredClone(examples.find((e) => e.name === event)!.examples[i]);

describe('actionsState: status and conclusion → state → outcome (docs/dashboard-api.md)', () => {
  const cases: Array<[string, string | null, ProwJobState, string]> = [
    ['completed', 'success', 'success', 'pass'],
    ['completed', 'failure', 'failure', 'fail'],
    ['completed', 'timed_out', 'failure', 'fail'],
    ['completed', 'startup_failure', 'error', 'fail'],
    ['completed', 'cancelled', 'aborted', 'skip'],
    ['completed', 'skipped', 'aborted', 'skip'],
    ['completed', 'neutral', 'aborted', 'skip'],
    ['completed', 'stale', 'aborted', 'skip'],
    ['completed', 'action_required', 'triggered', 'running'],
    ['queued', null, 'triggered', 'running'],
    ['waiting', null, 'triggered', 'running'],
    ['requested', null, 'triggered', 'running'],
    ['pending', null, 'triggered', 'running'],
    ['in_progress', null, 'pending', 'running'],
  ];
  for (const [status, conclusion, state, outcome] of cases) {
    it(`${status}/${conclusion ?? '-'} → ${state} → ${outcome}`, () => {
      assert.equal(actionsState(status, conclusion), state);
      assert.equal(outcomeOf(actionsState(status, conclusion)), outcome);
    });
  }
});

describe('actionsJobType: what a run is', () => {
  const cases: Array<[string, string, string[], string]> = [
    ['schedule', '.github/workflows/ci-nightly.yaml', [], 'periodic'],
    ['workflow_dispatch', '.github/workflows/ci-nightly.yaml', ['ci-nightly.yaml'], 'periodic'],
    ['workflow_dispatch', '.github/workflows/ci-nightly.yaml', ['.github/workflows/ci-nightly.yaml'], 'periodic'],
    ['workflow_dispatch', '.github/workflows/ci-nightly.yaml', [], 'postsubmit'],
    ['pull_request_target', '.github/workflows/ci-on-push.yaml', ['ci-nightly.yaml'], 'presubmit'],
    ['pull_request', '.github/workflows/static-checks.yaml', [], 'presubmit'],
    ['push', '.github/workflows/payload-after-push.yaml', [], 'postsubmit'],
    ['merge_group', '.github/workflows/ci.yaml', [], 'batch'],
  ];
  for (const [event, path, nightly, type] of cases) {
    it(`${event} of ${path.split('/').pop()} (nightly: ${nightly.join(',') || 'none'}) → ${type}`, () => {
      assert.equal(actionsJobType({ event, path }, nightly), type);
    });
  }
});

const REQUIRED = new URL('../../../../shared/kata/required-tests.yaml', import.meta.url).pathname;
const skipKata = existsSync(REQUIRED) ? false : `Kata's required-tests.yaml is not in ../shared/kata (${REQUIRED})`;

describe('typeable names', () => {
  const cases: Array<[string, string, string]> = [
    ['.github/workflows/ci-on-push.yaml', 'kata-containers-ci-on-push / run-kata-coco-tests / run-k8s-tests-on-tee (tdx, qemu-tdx)', 'ci-on-push.kata-containers-ci-on-push.run-kata-coco-tests.run-k8s-tests-on-tee-tdx-qemu-tdx'],
    ['.github/workflows/commit-message-check.yaml', 'Commit Message Check', 'commit-message-check.Commit-Message-Check'],
    ['.github/workflows/ci-on-push.yaml', 'kata-containers-ci-on-push / run-k8s-tests-on-aks / run-k8s-tests (ubuntu, clh, normal)', 'ci-on-push.kata-containers-ci-on-push.run-k8s-tests-on-aks.run-k8s-tests-ubuntu-clh-normal'],
  ];
  for (const [path, job, want] of cases) {
    it(`${job} → ${want}`, () => {
      const name = typeableName({ path, name: 'ignored' }, job);
      assert.equal(name, want);
      assert.match(name, /^[A-Za-z0-9_.-]+$/, 'no spaces or slashes');
      assert.equal(encodeURIComponent(name), name, 'nothing to escape in a URL');
    });
  }
  it('a trailing part names the job; a partial word does not', () => {
    const n = 'ci-on-push.kata-containers-ci-on-push.run-kata-coco-tests.run-k8s-tests-on-tee-tdx-qemu-tdx';
    assert.ok(typeableMatches(n, 'run-k8s-tests-on-tee-tdx-qemu-tdx'));
    assert.ok(typeableMatches(n, 'RUN-KATA-COCO-TESTS.run-k8s-tests-on-tee-tdx-qemu-tdx'));
    assert.ok(!typeableMatches(n, 'qemu-tdx'));
    assert.ok(!typeableMatches(n, ''));
  });

  it("Kata's required checks: every one gets a distinct typeable name and a distinct short name", { skip: skipKata }, () => {
    const doc = parse(readFileSync(REQUIRED, 'utf8')) as { required_tests: string[]; mapping: Record<string, { names?: string[] }> };
    const checks = [...doc.required_tests, ...Object.values(doc.mapping).flatMap((m) => m.names ?? [])];
    assert.ok(checks.length > 50, `only ${checks.length} names`);
    // "<workflow name> / <job name>": the workflow name is the first part; the file is not in the name, so use it.
    const names = checks.map((c) => {
      const [workflow, ...job] = c.split(' / ');
      return typeableName({ name: workflow! }, job.join(' / '));
    });
    assert.equal(new Set(names.map((n) => n.toLowerCase())).size, new Set(checks).size);
    const short = shortTypeableNames([...new Set(names)]);
    const shorts = [...short.values()];
    assert.equal(new Set(shorts.map((s) => s.toLowerCase())).size, shorts.length, 'short names are unique');
    for (const [full, s] of short) {
      assert.ok(typeableMatches(full, s));
      assert.equal(names.filter((n) => typeableMatches(n, s)).length, 1, `${s} names one job`);
    }
    // The TDX job of the CoCo tests keeps a short, typeable name.
    const tee = names.find((n) => n.endsWith('run-k8s-tests-on-tee-sev-snp-qemu-snp'))!;
    assert.equal(short.get(tee), 'run-k8s-tests-on-tee-sev-snp-qemu-snp');
  });
});

describe('actionsResultOf: a workflow_job payload as a record', () => {
  const run = runInfoOf({ ...example('workflow_run', 2).workflow_run, event: 'pull_request_target', path: '.github/workflows/ci-on-push.yaml', name: 'Kata Containers CI' });

  it('the completed failure example: names, state, times, links, runner labels', () => {
    const job = example('workflow_job', 1).workflow_job;
    const r = actionsResultOf(job, { owner: 'Codertocat', repo: 'Hello-World', run, pull: 2, nightlyWorkflows: [] });
    assert.equal(r.name, `actions-${job.id}`);
    assert.equal(r.source, 'actions');
    assert.equal(r.job, `CodeQL / ${job.name}`, 'the workflow name from the job event');
    assert.equal(r.context, job.name);
    assert.equal(r.type, 'presubmit');
    assert.equal(r.state, 'failure');
    assert.equal(r.pull, 2);
    assert.equal(r.sha, job.head_sha);
    assert.equal(r.attempt, 1);
    assert.equal(r.url, job.html_url);
    assert.equal(r.end, job.completed_at);
    assert.deepEqual(r.actions!.labels, job.labels);
    assert.equal(r.actions!.runId, job.run_id);
    assert.equal(r.actions!.event, 'pull_request_target');
    assert.equal(typeableOf(r), `ci-on-push.${job.name.replace(/[^A-Za-z0-9_.-]+/g, '-')}`);
  });

  it('an old payload without run_attempt or workflow_name: first attempt, the run names the workflow', () => {
    const job = example('workflow_job', 0).workflow_job;
    assert.equal(job.run_attempt, undefined);
    const r = actionsResultOf(job, { owner: 'o', repo: 'r', run, nightlyWorkflows: [] });
    assert.equal(r.attempt, 1);
    assert.equal(r.job, `Kata Containers CI / ${job.name}`);
    assert.equal(r.state, 'pending');
    assert.equal(r.end, undefined);
  });

  it('a rerun is attempt 2 and marked as a retest', () => {
    const job = { ...example('workflow_job', 2).workflow_job, run_attempt: 2, id: 99 };
    const r = actionsResultOf(job, { owner: 'o', repo: 'r', run, nightlyWorkflows: [] });
    assert.equal(r.attempt, 2);
    assert.equal(r.retest, true);
    assert.equal(r.name, 'actions-99');
  });

  it('cancelled counts as a skip, or as a failure when asked', () => {
    const job = { ...example('workflow_job', 1).workflow_job, conclusion: 'cancelled' };
    const r = actionsResultOf(job, { owner: 'o', repo: 'r', run, nightlyWorkflows: [] });
    assert.equal(outcomeOf(r.state), 'skip');
    assert.equal(outcomeOf(cancelledAsFailure(r).state), 'fail');
    const skipped = actionsResultOf({ ...job, conclusion: 'skipped' }, { owner: 'o', repo: 'r', run, nightlyWorkflows: [] });
    assert.equal(outcomeOf(cancelledAsFailure(skipped).state), 'skip', 'a skipped job stays a skip');
  });
});
