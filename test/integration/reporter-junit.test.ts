// A finished job's JUnit files on its check run, end to end: ProwJobs moved in the Kubernetes API-server double as
// plank moves them, their artifacts in a file:// bucket laid out as Prow uploads them, nock'd GitHub that appends
// annotations as GitHub does. Real reports from test/fixtures/junit (README.md there names their sources).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { kubeProwJobClient, type ProwJobClient } from '../../src/adapters/kube.ts';
import { LABELS, type ProwJob } from '../../src/jobs/types.ts';
import { startHarness, waitFor, type Harness } from './harness.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/junit/${name}`, import.meta.url), 'utf8');

let h: Harness;
let plank: ProwJobClient;
let prNumber = 700;
let buildId = 1_800_000_000_000_000_000n;

before(async () => {
  h = await startHarness({ fileBucket: true, env: { KATABOT_REPORTER_LEASE_MS: '900' } });
  plank = kubeProwJobClient(h.kube.kubeConfig, 'prow');
  await waitFor('a reporter', () => h.bot.reporter?.isLeader());
});
after(async () => h?.close());

const at = (offsetSec = 0) => new Date(Date.now() + offsetSec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const runFor = (name: string) => h.gh.checkRuns.find((r) => r.external_id === name);
const patches = (id: number, from = 0) => h.gh.calls.slice(from).filter((c) => c.method === 'PATCH' && c.path.endsWith(`/check-runs/${id}`));

async function quiet(): Promise<void> {
  await sleep(150);
  await h.bot.reporter?.idle();
  await sleep(50);
}

/** A /test on a fresh PR; resolves with its ProwJob once its queued check run is there. */
async function startJob(): Promise<{ pr: number; pj: ProwJob }> {
  const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
  await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test e2e-kata-qemu'));
  const pj = await waitFor('prowjob', () => h.prowjobs().find((j) => j.metadata.labels?.[LABELS.pull] === String(pr.number)));
  await waitFor('queued check run', () => runFor(pj.metadata.name));
  await h.settle();
  await quiet();
  return { pr: pr.number, pj };
}

/** pending with a build id, the artifacts uploaded (as the sidecar does before the pod ends), then failure. */
async function runToFailure(name: string, files: Record<string, string>): Promise<void> {
  const build = String(++buildId);
  const pending = await plank.updateStatus(name, () => ({ state: 'pending', pendingTime: at(), description: 'Job triggered.', pod_name: name, build_id: build }));
  assert.ok(pending);
  const dir = join(h.bucket, 'pr-logs/pull/kata-containers_kata-containers', String(pending.spec.refs!.pulls![0]!.number), pending.spec.job, build);
  for (const [key, text] of Object.entries({ 'build-log.txt': 'FAIL\n', ...files })) {
    mkdirSync(dirname(join(dir, key)), { recursive: true });
    writeFileSync(join(dir, key), text);
  }
  await quiet();
  await plank.updateStatus(name, () => ({ state: 'failure', completionTime: at(1), description: 'Job failed.' }));
}

/** Generated, not real: 120 failing Go tests of the Kata runtime, to need three batches of annotations. */
function manyGoFailures(n: number): string {
  const pkg = 'github.com/kata-containers/kata-containers/src/runtime/virtcontainers';
  const cases = Array.from({ length: n }, (_, i) =>
    `<testcase classname="${pkg}" name="TestGenerated${i}" time="0.01"><failure message="Failed" type="">=== RUN   TestGenerated${i}&#xA;    qemu_test.go:${i + 1}: case ${i} failed&#xA;--- FAIL: TestGenerated${i} (0.01s)&#xA;</failure></testcase>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites><testsuite tests="${n}" failures="${n}" name="${pkg}">${cases.join('')}</testsuite></testsuites>\n`;
}

describe('JUnit results on the check run', () => {
  it('lists the failing tests, annotates where the file and line are known, names the file it could not read; one PATCH', async () => {
    const { pj } = await startJob();
    const name = pj.metadata.name;
    const gotest = fixture('gotestsum-report.xml');
    await runToFailure(name, {
      'artifacts/junit_01.xml': fixture('pytest-beats.xml'),
      'artifacts/junit_02.xml': gotest.slice(0, gotest.length / 2), // an upload cut short
      'artifacts/e2e/junit_runner.xml': fixture('k8s-e2e-junit_01.xml'),
      'artifacts/not-junit.xml': '<coverage/>',
    });
    const run = await waitFor('failure reported', () => (runFor(name)?.conclusion === 'failure' ? runFor(name) : undefined));
    await quiet();
    const summary: string = run.output.summary;
    assert.match(summary, /\*\*e2e-kata-qemu\*\* failed/);
    assert.match(summary, /### Tests: 2 failed, 495 skipped, 645 in total/);
    assert.match(summary, /\| pytest \| filebeat\.tests\.system\.test_harvester\.Test\.test_debug_reader \| 5\.18s \| beat\.beat\.TimeoutError: Timeout waiting for 'cond' to be true\. Waited 5 seconds\. \|/);
    assert.match(summary, /1 JUnit file not read: `artifacts\/junit_02\.xml` \(not JUnit XML: /);
    assert.match(run.output.text, /#### pytest › filebeat\.tests\.system\.test_json\.Test\.test_timestamp_in_message\n\n```\nself = <test_json\.Test/);
    assert.deepEqual(run.annotations!.map((a: any) => [a.path, a.start_line, a.annotation_level]), [
      ['filebeat/tests/system/test_harvester.py', 859, 'failure'],
      ['filebeat/tests/system/test_json.py', 175, 'failure'],
    ]);
    assert.equal(patches(run.id).filter((c) => c.body.conclusion === 'failure').length, 1, 'the annotations rode on the final PATCH');
    assert.equal(patches(run.id).filter((c) => c.body.output?.annotations).length, 1);
  });

  it('120 annotations in three batches of 50, 50, 20; a crash after a batch was sent but not recorded sends nothing twice', async () => {
    const { pj } = await startJob();
    const name = pj.metadata.name;
    await runToFailure(name, { 'artifacts/junit_unit.xml': manyGoFailures(120) });
    await waitFor('all batches', () => runFor(name)?.annotations?.length === 120);
    await quiet();
    const run = runFor(name)!;
    const sent = patches(run.id).filter((c) => c.body.output?.annotations).map((c) => c.body.output.annotations.length);
    assert.deepEqual(sent, [50, 50, 20]);
    assert.deepEqual(run.annotations!.slice(0, 2).map((a: any) => [a.path, a.start_line]), [['src/runtime/virtcontainers/qemu_test.go', 1], ['src/runtime/virtcontainers/qemu_test.go', 2]]);
    assert.equal(new Set(run.annotations!.map((a: any) => a.start_line)).size, 120, 'no annotation twice');
    const batchOnly = patches(run.id).filter((c) => c.body.output?.annotations && c.body.conclusion === undefined);
    assert.equal(batchOnly.length, 2, 'later batches PATCH the output alone');
    assert.match(batchOnly[0]!.body.output.summary, /### Tests: 120 failed/, 'each batch repeats the same title and summary, as the API requires');

    // The record of the last two batches is lost (the reporter died between the PATCH and the record): the next
    // leader finds them on the check run by counting, and sends nothing again.
    const redis = new Redis(h.redis.url);
    await redis.set(`${h.redis.prefix}:reported:${name}:annotations`, '1/3');
    redis.disconnect();
    const from = h.gh.calls.length;
    await h.restart();
    await waitFor('leading again', () => h.bot.reporter?.isLeader(), 5000);
    await sleep(300);
    await quiet();
    const after = h.gh.calls.slice(from).filter((c) => !c.path.includes('/access_tokens'));
    assert.deepEqual(after.filter((c) => c.method !== 'GET').map((c) => [c.path, JSON.stringify(c.body).slice(0, 300)]), [], 'no write');
    assert.ok(after.some((c) => c.path.endsWith(`/check-runs/${run.id}/annotations?per_page=100`)), 'counted the annotations on GitHub');
    assert.equal(runFor(name)!.annotations!.length, 120);
  });

  it('a bucket that cannot be read: the failure is reported without its tests, not held back', async () => {
    const { pj: template } = await startJob();
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    // A job Prow made, uploading where nothing answers (the network is closed to the test): listing fails.
    const pj: ProwJob = structuredClone(template);
    pj.metadata = { name: `unreadable-${pr.number}`, namespace: 'prow', labels: { ...template.metadata.labels, [LABELS.pull]: String(pr.number) }, annotations: template.metadata.annotations };
    pj.spec.refs!.pulls![0] = { ...pj.spec.refs!.pulls![0]!, number: pr.number, sha: pr.headSha };
    pj.spec.decoration_config!.gcs_configuration!.bucket = 's3://no-such-kata-bucket';
    pj.status = { state: 'pending', startTime: at(-5), pendingTime: at(-4), build_id: String(++buildId) };
    h.kube.seed(pj);
    await waitFor('check run', () => runFor(pj.metadata.name));
    await quiet();
    await plank.updateStatus(pj.metadata.name, () => ({ state: 'failure', completionTime: at(1), description: 'Job failed.' }));
    const run = await waitFor('failure reported', () => (runFor(pj.metadata.name)?.conclusion === 'failure' ? runFor(pj.metadata.name) : undefined));
    assert.doesNotMatch(run.output.summary, /### Tests/);
    assert.match(run.output.summary, /\*\*e2e-kata-qemu\*\* failed/);
  });

  it('a job without JUnit files: no tests section, no annotations', async () => {
    const { pj } = await startJob();
    const name = pj.metadata.name;
    await runToFailure(name, {});
    const run = await waitFor('failure reported', () => (runFor(name)?.conclusion === 'failure' ? runFor(name) : undefined));
    assert.doesNotMatch(run.output.summary, /### Tests/);
    assert.equal(run.output.text, undefined);
    assert.deepEqual(run.annotations, []);
  });
});
