// /trace on a PR ends in a behavior comment and a behavior check run, end to end: real Redis, the Kubernetes
// API-server double (ProwJobs moved as plank moves them), nock'd GitHub, and a file:// artifact bucket laid out as
// Prow's pod-utils upload it (pr-logs/pull/<org>_<repo>/<pr>/<job>/<build>/..., logs/<job>/<build>/...).
//   - a traced run without a PR (a postsubmit on main) finishes: it becomes the baseline, nothing is posted;
//   - `/trace <job>` on a PR: the traced ProwJob finishes with a head trace that adds one exec, one file write and
//     one connection: one comment (marker, mermaid, exactly the three items) and one check run, also after restarts;
//   - a traced PR job without a baseline: the reporter starts the job at the base SHA as a traced run, once; when
//     that run succeeds it becomes the baseline and the waiting PR job gets its comment and check run.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { kubeProwJobClient, type ProwJobClient } from '../../src/adapters/kube.ts';
import { findBaselines } from '../../src/behavior/baseline.ts';
import { buildPostsubmitProwJob } from '../../src/jobs/prowjob.ts';
import { injectTracer, TRACER_CONTAINER } from '../../src/jobs/trace.ts';
import { LABELS, type ProwJob } from '../../src/jobs/types.ts';
import { baseRunName } from '../../src/reporter/behavior.ts';
import { serializeTrace, TRACE_FORMAT, TRACE_FORMAT_VERSION, type Trace, type TraceEvent } from '../../src/trace/format.ts';
import type { Call } from '../fixtures/github.ts';
import { startHarness, waitFor, type Harness } from './harness.ts';

const ORG = 'kata-containers';
const REPO = 'kata-containers';
const MAIN_SHA = 'b'.repeat(40); // the fake GitHub's tip of main: runJobs sets refs.base_sha to it
const checkName = (job: string) => `katabot / behavior (${job})`;
const marker = (job: string) => `<!-- katabot:behavior job="${job}" -->`;

let h: Harness;
let plank: ProwJobClient;
let buildId = 1_790_000_000_000_000_000n;

before(async () => {
  h = await startHarness({ fileBucket: true, env: { KATABOT_REPORTER_LEASE_MS: '900' } });
  plank = kubeProwJobClient(h.kube.kubeConfig, 'prow');
  await waitFor('a reporter', () => h.bot.reporter?.isLeader());
});
after(async () => h?.close());

// ---------------------------------------------------------------------------------------------------------------
// traces, as the tracer sidecar writes them ($ARTIFACTS/katabot/trace.jsonl)

let ts = 0;
const ev = (e: Partial<TraceEvent> & Pick<TraceEvent, 'kind'>): TraceEvent => ({ type: 'event', ts: (ts += 1000), pid: 100, ...e });

/** The job's workload: pids, temp names and ports differ per seed, the behaviour does not. */
function trace(seed: number, extra: TraceEvent[] = []): Trace {
  const pid = 3000 + seed * 37;
  const events: TraceEvent[] = [
    ev({ kind: 'exec', pid, ppid: 1, exe: '/usr/bin/bash', argv: ['bash', 'tests/run-e2e.sh', 'qemu'], result: 0 }),
    ev({ kind: 'exec', pid: pid + 1, ppid: pid, exe: '/usr/bin/go', parent_exe: '/usr/bin/bash', argv: ['go', 'test', './...', `-count=${seed}`], result: 0 }),
    ev({ kind: 'open', pid: pid + 1, exe: '/usr/bin/go', path: `/tmp/go-build${1_000_000 + seed}/b001/importcfg`, flags: ['write', 'create', 'truncate'], result: 3 }),
    ev({ kind: 'open', pid: pid + 1, exe: '/usr/bin/go', path: '/etc/resolv.conf', flags: ['read'], result: 3 }),
    ev({ kind: 'dns', pid: pid + 1, exe: '/usr/bin/go', proto: 'udp', daddr: '10.96.0.10', dport: 53, query: 'proxy.golang.org', qtype: 'A' }),
    ev({ kind: 'connect', pid: pid + 1, exe: '/usr/bin/go', proto: 'tcp', sport: 40_000 + seed, daddr: `142.250.0.${seed}`, dport: 443, result: 0 }),
    ...extra,
  ];
  const counts = { exec: 0, exit: 0, open: 0, connect: 0, accept: 0, listen: 0, dns: 0 };
  for (const e of events) counts[e.kind]++;
  return {
    header: {
      type: 'header', format: TRACE_FORMAT, version: TRACE_FORMAT_VERSION, katabot: '0.1.0', source: 'bpftrace', bpftrace: 'v0.21.2', kernel: '6.8.0',
      host: 'node-1', start: '2026-11-02T10:00:00.000Z', target: { mode: 'pod', pods: [{ namespace: 'test-pods', name: `pod-${seed}` }] },
    },
    events,
    footer: {
      type: 'footer', counts, lost: { reported: 0, gap: 0, incomplete: 0, total: 0 }, malformed: 0, truncated: 0, duration_ms: 60_000,
      end: '2026-11-02T10:01:00.000Z', exit_code: 0,
    },
  };
}

/** One new exec, one new file write, one new connection. */
function injected(seed: number): TraceEvent[] {
  const pid = 9000 + seed;
  return [
    ev({ kind: 'exec', pid, ppid: 3000 + seed * 37, exe: '/usr/bin/curl', parent_exe: '/usr/bin/bash', argv: ['curl', '-fsS', 'http://10.0.0.5:5432/health'], result: 0 }),
    ev({ kind: 'open', pid: 3001 + seed * 37, exe: '/usr/bin/go', path: '/var/lib/ci/result.txt', flags: ['write', 'create', 'truncate'], result: 4 }),
    ev({ kind: 'connect', pid, exe: '/usr/bin/curl', proto: 'tcp', sport: 41_000 + seed, daddr: '10.0.0.5', dport: 5432, result: 0 }),
  ];
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** The build directory as Prow uploads it (explicit path strategy), with the usual files around the trace. */
function buildDir(pj: ProwJob, build: string): string {
  const pull = pj.spec.refs?.pulls?.[0]?.number;
  return pj.spec.type === 'presubmit'
    ? join(h.bucket, 'pr-logs/pull', `${ORG}_${REPO}`, String(pull), pj.spec.job, build)
    : join(h.bucket, 'logs', pj.spec.job, build);
}

function upload(pj: ProwJob, build: string, t: Trace): void {
  const dir = buildDir(pj, build);
  write(join(dir, 'started.json'), JSON.stringify({ timestamp: Math.floor(Date.now() / 1000), repos: { [`${ORG}/${REPO}`]: 'main' } }));
  write(join(dir, 'build-log.txt'), 'ok\n');
  write(join(dir, 'artifacts/katabot/trace.jsonl'), serializeTrace(t));
  write(join(dir, 'finished.json'), JSON.stringify({ timestamp: Math.floor(Date.now() / 1000), passed: true, result: 'SUCCESS' }));
}

// ---------------------------------------------------------------------------------------------------------------
// plank

const at = (offsetSec = 0) => new Date(Date.now() + offsetSec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** pending (pod scheduled: build id, Deck URL), trace uploaded, then success, as plank and the sidecar do. */
async function runToSuccess(name: string, t: Trace): Promise<string> {
  const build = String(++buildId);
  const pending = await plank.updateStatus(name, (pj) => ({
    state: 'pending', pendingTime: at(), description: 'Job triggered.', pod_name: name, build_id: build,
    url: `https://prow.kata.example/view/file${buildDir(pj, build).slice(h.bucket.length)}`,
  }));
  assert.ok(pending, `prowjob ${name} exists`);
  upload(pending, build, t);
  await quiet();
  await plank.updateStatus(name, () => ({ state: 'success', completionTime: at(1), description: 'Job succeeded.' }));
  return build;
}

async function quiet(): Promise<void> {
  await sleep(150);
  await h.bot.reporter?.idle();
  await sleep(50);
}

function apiCalls(from: number): Call[] {
  return h.gh.calls.slice(from).filter((c) => !c.path.includes('/access_tokens'));
}
const shape = (calls: Call[]) => calls.map((c) => `${c.method} ${c.path.replace(/\?.*$/, '').replace(/^\/repos\/[^/]+\/[^/]+/, '')}`);

const behaviorComments = (pr: number, job: string) => h.gh.comments.filter((c) => c.issue === pr && c.body.includes(marker(job)));
const behaviorRuns = (sha: string, job: string) => h.gh.checkRuns.filter((r) => r.head_sha === sha && r.name === checkName(job));

async function traceOnPr(number: number, job: string): Promise<{ sha: string; pj: ProwJob }> {
  const pr = h.gh.addPull({ number, author: 'maintainer' });
  await h.send('issue_comment', h.gh.commentEvent(number, 'maintainer', `/trace ${job}`));
  const pj = await waitFor('traced prowjob', () => h.prowjobs().find((j) => j.metadata.labels?.[LABELS.pull] === String(number) && j.spec.job === job));
  assert.equal(pj.metadata.labels?.[LABELS.trace], 'true');
  await waitFor('queued check run', () => h.gh.checkRuns.find((r) => r.external_id === pj.metadata.name));
  await h.settle();
  await quiet();
  return { sha: pr.headSha, pj };
}

/** Restarts the bot (a new reporter on the same Redis); no GitHub write and no new ProwJob may follow. */
async function restartWritesNothing(): Promise<void> {
  const from = h.gh.calls.length;
  const jobs = h.prowjobs().length;
  await h.restart();
  await waitFor('leading again', () => h.bot.reporter?.isLeader(), 5000);
  await sleep(400);
  await quiet();
  assert.deepEqual(shape(apiCalls(from).filter((c) => c.method !== 'GET')), [], 'no GitHub write after a restart');
  assert.equal(h.prowjobs().length, jobs, 'no ProwJob created after a restart');
}

// ---------------------------------------------------------------------------------------------------------------

describe('/trace → behavior comment and check run', () => {
  it('a traced run on main becomes the baseline; a traced PR job is diffed against it, reported once', async () => {
    const { prow, katabot, jobs } = h.bot.deps.config();
    const presubmit = jobs.presubmits[`${ORG}/${REPO}`]!.find((p) => p.name === 'e2e-kata-qemu')!;
    // A traced postsubmit on main, as a push would start it (Prow's shape; CRD-validated by the double).
    const base = injectTracer(buildPostsubmitProwJob({
      postsubmit: { name: presubmit.name, decorate: true, spec: presubmit.spec! },
      prow, name: 'post-main-e2e-kata-qemu-1', namespace: 'prow', org: ORG, repo: REPO, baseRef: 'main', baseSha: MAIN_SHA,
      repoLink: `https://github.com/${ORG}/${REPO}`, now: new Date(), extraLabels: { [LABELS.trace]: 'true' },
    }), katabot.trace);
    assert.equal(await plank.create(base), 'created');
    const from = h.gh.calls.length;
    await runToSuccess(base.metadata.name, trace(1));
    await waitFor('baseline recorded', async () => (await findBaselines(h.bot.deps.store, `${ORG}/${REPO}`, 'main', 'e2e-kata-qemu', MAIN_SHA)).length === 1);
    await quiet();
    assert.deepEqual(shape(apiCalls(from)), [], 'a baseline without waiting PRs posts nothing');

    // /trace on a PR; the traced job finishes with a trace that does three new things.
    const { sha, pj } = await traceOnPr(700, 'e2e-kata-qemu');
    const name = pj.metadata.name;
    assert.equal(pj.spec.refs?.base_sha, MAIN_SHA);
    const before = h.gh.calls.length;
    await runToSuccess(name, trace(2, injected(2)));
    const run = await waitFor('behavior check run', () => behaviorRuns(sha, 'e2e-kata-qemu')[0]);
    await quiet();
    const calls = shape(apiCalls(before));
    const jobRun = h.gh.checkRuns.find((r) => r.external_id === name)!;
    assert.deepEqual(calls, [`PATCH /check-runs/${jobRun.id}`, `PATCH /check-runs/${jobRun.id}`, `POST /issues/700/comments`, 'POST /check-runs'],
      'pending and success PATCH the job\'s run; the behavior report adds exactly 2 calls');

    const [comment, ...more] = behaviorComments(700, 'e2e-kata-qemu');
    assert.ok(comment && more.length === 0, 'one behavior comment');
    assert.ok(comment.body.startsWith(marker('e2e-kata-qemu')));
    assert.match(comment.body, /```mermaid\n/);
    assert.match(comment.body, /Compared with `main` @ `bbbbbbbbbbbb`/);
    // exactly the three injected items, and nothing removed
    assert.match(comment.body, /\/usr\/bin\/bash → \/usr\/bin\/curl/);
    assert.match(comment.body, /write \/var\/lib\/ci\/result\.txt/);
    assert.match(comment.body, /tcp → 10\.0\.0\.0\/8:5432/);
    // the changed items (the policy and service-graph sections after them show the whole head policy and graph)
    const items = comment.body.split('<details><summary><b>Policy</b>')[0]!;
    assert.doesNotMatch(items, /go-build|proxy\.golang\.org|142\.250/, 'the varying temp names, pids and ports are no change');
    assert.match(comment.body, /Should `default\/job` connect to addresses in `10\.0\.0\.0\/8` on TCP 5432\?/);
    assert.doesNotMatch(comment.body, /Should `default\/job` look up/, 'the unchanged lookup is no policy change');
    assert.equal(run.output.title, '1 risky addition, 3 added, 0 removed');
    assert.equal(run.conclusion, 'action_required', 'a new outbound destination is risky');
    assert.equal(run.status, 'completed');
    assert.equal(run.external_id, `behavior:${name}`);
    assert.equal(run.details_url, h.kube.object('prowjobs', 'prow', name) && (h.kube.object('prowjobs', 'prow', name) as ProwJob).status?.url);
    assert.ok(comment.body.includes(run.output.summary.split('\n')[0]!), 'the check run summary is the comment\'s summary');

    await restartWritesNothing();

    // A reporter that died after posting but before recording anything: the next one finds the comment by its marker
    // and the check run by its external_id; it edits the comment (an idempotent write) and creates nothing.
    const r = new Redis(h.redis.url);
    const p = h.redis.prefix;
    await r.del(`${p}:reported:${name}:behavior`, `${p}:behavior-comment:${ORG}/${REPO}#700:e2e-kata-qemu`, `${p}:behavior-checkrun:${name}`);
    r.disconnect();
    const crash = h.gh.calls.length;
    await h.restart();
    await waitFor('leading again', () => h.bot.reporter?.isLeader(), 5000);
    await waitFor('handled again', async () => (await h.bot.deps.store.get(`reported:${name}:behavior`)) === 'report');
    await quiet();
    // (GET /app: the new process learns the bot's login, once)
    assert.deepEqual(shape(apiCalls(crash)).filter((c) => c !== 'GET /app'), [
      'GET /issues/700/comments', `PATCH /issues/comments/${comment.id}`, `GET /commits/${sha}/check-runs`,
    ]);
    assert.equal(behaviorComments(700, 'e2e-kata-qemu').length, 1);
    assert.equal(behaviorRuns(sha, 'e2e-kata-qemu').length, 1);
    assert.equal(h.gh.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/issues/700/comments')).length, 1);
  });

  it('a second traced run of the same job on the PR edits the comment and adds a check run for its commit', async () => {
    const pr = h.gh.pulls.get(700)!;
    pr.headSha = 'd'.repeat(40);
    await h.send('issue_comment', h.gh.commentEvent(700, 'maintainer', '/trace e2e-kata-qemu'));
    const second = await waitFor('second traced prowjob', () => h.prowjobs().find((j) => j.spec.refs?.pulls?.[0]?.sha === pr.headSha));
    await h.settle();
    await quiet();
    const before = h.gh.calls.length;
    await runToSuccess(second.metadata.name, trace(3)); // the same behaviour as main: nothing changed
    await waitFor('behavior check run on the new head', () => behaviorRuns(pr.headSha, 'e2e-kata-qemu')[0]);
    await quiet();
    const comment = behaviorComments(700, 'e2e-kata-qemu');
    assert.equal(comment.length, 1, 'still one comment');
    const writes = shape(apiCalls(before)).filter((c) => !c.includes(`/check-runs/${h.gh.checkRuns.find((r) => r.external_id === second.metadata.name)!.id}`));
    assert.deepEqual(writes, [`PATCH /issues/comments/${comment[0]!.id}`, 'POST /check-runs']);
    const run = behaviorRuns(pr.headSha, 'e2e-kata-qemu')[0]!;
    assert.equal(run.conclusion, 'neutral');
    assert.equal(run.output.title, 'No behavior changes');
  });

  it('no baseline: the job is started at the base SHA as a traced run, once; its success reports the PR job', async () => {
    const job = 'e2e-kata-clh';
    const { sha, pj } = await traceOnPr(701, job);
    await runToSuccess(pj.metadata.name, trace(4, injected(4)));
    const baseName = baseRunName(ORG, REPO, job, MAIN_SHA);
    const baseRun = await waitFor('traced base run', () => h.prowjobs().find((j) => j.metadata.name === baseName));
    await quiet();
    // The base run: the same job at main's SHA, traced, without a PR, reporting nothing itself.
    assert.equal(baseRun.spec.type, 'postsubmit');
    assert.equal(baseRun.spec.job, job);
    assert.equal(baseRun.spec.report, false);
    assert.equal(baseRun.spec.refs?.base_sha, MAIN_SHA);
    assert.equal(baseRun.spec.refs?.base_ref, 'main');
    assert.equal(baseRun.spec.refs?.pulls, undefined);
    assert.equal(baseRun.metadata.labels?.[LABELS.trace], 'true');
    assert.equal(baseRun.metadata.labels?.[LABELS.type], 'postsubmit');
    assert.ok(baseRun.spec.pod_spec?.containers.some((c) => c.name === TRACER_CONTAINER), 'the tracer is injected');
    assert.equal(baseRun.spec.pod_spec?.runtimeClassName, 'kata-clh');
    assert.match(baseRun.spec.decoration_config?.gcs_configuration?.bucket ?? '', /^file:\/\//);
    assert.equal(behaviorComments(701, job).length, 0, 'nothing to report yet');
    assert.equal(behaviorRuns(sha, job).length, 0);
    const created = () => h.prowjobs().filter((j) => j.spec.job === job && j.spec.type === 'postsubmit').length;
    assert.equal(created(), 1);

    await restartWritesNothing();
    assert.equal(created(), 1, 'exactly one base run, after a restart too');
    // Its name is derived from the tested commit: a reconcile that crashed before recording runs again and finds
    // the same object.
    const r = new Redis(h.redis.url);
    await r.del(`${h.redis.prefix}:reported:${pj.metadata.name}:behavior`);
    r.disconnect();
    await h.restart();
    await waitFor('leading again', () => h.bot.reporter?.isLeader(), 5000);
    await waitFor('handled again', async () => (await h.bot.deps.store.get(`reported:${pj.metadata.name}:behavior`)) === 'no-baseline');
    await quiet();
    assert.equal(created(), 1, 'recreating it is a no-op');

    // The base run succeeds with the job's usual behaviour: it becomes the baseline and the PR job is reported.
    const before = h.gh.calls.length;
    await runToSuccess(baseName, trace(5));
    const run = await waitFor('behavior check run for the waiting PR job', () => behaviorRuns(sha, job)[0]);
    await quiet();
    assert.deepEqual(shape(apiCalls(before)), ['POST /issues/701/comments', 'POST /check-runs'], 'the base run itself posts nothing; the report 2 calls');
    assert.equal(run.conclusion, 'action_required');
    assert.equal(run.output.title, '1 risky addition, 3 added, 0 removed');
    const [comment] = behaviorComments(701, job);
    assert.ok(comment!.body.startsWith(marker(job)));
    assert.match(comment!.body, /write \/var\/lib\/ci\/result\.txt/);
    assert.equal((await findBaselines(h.bot.deps.store, `${ORG}/${REPO}`, 'main', job, MAIN_SHA))[0]?.prowjob, baseName);

    await restartWritesNothing();
    assert.equal(behaviorComments(701, job).length, 1);
    assert.equal(behaviorRuns(sha, job).length, 1);
  });
});
