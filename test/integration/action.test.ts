// The katabot action end to end, without GitHub: the bundled action (npm run build:action) runs on a FakeRunner
// (the environment and file commands Actions gives a JavaScript action) around a real workload traced by real
// bpftrace; its post step uploads through @actions/artifact to a double of Actions' artifact backend, which keeps
// the zip exactly as GitHub would serve it. katabot then picks those zips up: a signed workflow_run.completed
// webhook, GitHub's REST API as nock'd FakeGitHub (artifact listings, the zip behind GitHub's redirect, workflow
// runs), real Redis:
//   - no base run yet: the behavior check says so, and no diff is posted;
//   - the same workload again, with a base run on main: no behavior changes;
//   - one added exec, file write and connection: exactly those three, in the same comment edited in place, and
//     a check run per run attempt, exactly once even when GitHub redelivers.
// Skipped, with the reason printed, where eBPF cannot run; "never fails the job" runs everywhere.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import yauzl from 'yauzl';
import { buildAction } from '../../action/build.ts';
import { preflight } from '../../src/tracer/preflight.ts';
import { EbpfUnavailableError } from '../../src/tracer/errors.ts';
import { startResultsDouble, type ResultsDouble, type StoredArtifact } from '../fixtures/actions-results.ts';
import { FakeRunner } from '../fixtures/actions-runner.ts';
import { example } from '../fixtures/github.ts';
import { NET, WORKLOAD, fixedPortListener } from '../fixtures/workload.ts';
import { startHarness, waitFor, type Harness } from './harness.ts';

const ORG = 'kata-containers';
const REPO = 'kata-containers';
const MAIN_SHA = 'b'.repeat(40);
const HEAD_SHA = '5'.repeat(40);
const JOB = 'run-k8s-tests';
const ARTIFACT = `katabot-trace-${JOB}`;
const CHECK = `katabot / behavior (${JOB})`;
const work = mkdtempSync(join(tmpdir(), 'katabot-action-it-'));
let dist = '';
let results: ResultsDouble;
let skipReason: string | undefined;

before(async () => {
  dist = (await buildAction(join(work, 'dist'))).outDir;
  results = await startResultsDouble();
  writeFileSync(join(work, 'net.mjs'), NET);
  writeFileSync(join(work, 'workload.sh'), WORKLOAD);
  writeFileSync(AUDIT_LOG, `${JSON.stringify({
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: '5f1c0a6e-0d55-4c43-9c3e-4a1b2b7f9a01', stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/kata-containers-k8s-tests/pods', verb: 'create', user: { username: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', 'system:authenticated'] },
    sourceIPs: ['10.1.0.4'], userAgent: 'kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0', objectRef: { resource: 'pods', namespace: 'kata-containers-k8s-tests', name: 'nginx', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 201 }, requestReceivedTimestamp: '2026-08-22T10:00:00.000000Z', stageTimestamp: '2026-08-22T10:00:00.020000Z',
  })}\n`);
  try {
    await preflight();
  } catch (err) {
    if (!(err instanceof EbpfUnavailableError)) throw err;
    skipReason = err.message;
  }
  if (skipReason) console.log(`# skipping the traced katabot action tests: ${skipReason}`);
});
after(async () => {
  await results?.close();
  rmSync(work, { recursive: true, force: true });
});

interface Job {
  runId: number;
  attempt: number;
  event: 'push' | 'pull_request';
  sha: string;
}

/** A runner for one job of one run, with the variables Actions sets. */
function runnerFor(label: string, j: Job): FakeRunner {
  const event = j.event === 'pull_request'
    ? { action: 'synchronize', number: 5, pull_request: { number: 5, head: { sha: HEAD_SHA, ref: 'fix' }, base: { ref: 'main', sha: MAIN_SHA } } }
    : { ref: 'refs/heads/main', after: MAIN_SHA };
  return new FakeRunner(join(work, label), {
    GITHUB_REPOSITORY: `${ORG}/${REPO}`,
    GITHUB_WORKFLOW: 'CI',
    GITHUB_WORKFLOW_REF: `${ORG}/${REPO}/.github/workflows/ci.yaml@refs/heads/main`,
    GITHUB_JOB: JOB,
    GITHUB_RUN_ID: String(j.runId),
    GITHUB_RUN_ATTEMPT: String(j.attempt),
    GITHUB_EVENT_NAME: j.event,
    GITHUB_SHA: j.sha,
    GITHUB_REF: j.event === 'pull_request' ? 'refs/pull/5/merge' : 'refs/heads/main',
    ACTIONS_RUNTIME_TOKEN: results.token(`run-${j.runId}`, `job-${label}`),
    ACTIONS_RESULTS_URL: results.url,
  }, event);
}

// An apiserver audit log the job's cluster wrote (one request, as kube-apiserver logs it) and, when ../shared has
// it, the cluster's /openapi/v2: both travel in the artifact and make the Kubernetes API part of the profile.
const AUDIT_LOG = join(work, 'kube-apiserver-audit.log');
const OPENAPI = new URL('../../../shared/kubernetes/openapi-v2-swagger.json.gz', import.meta.url).pathname;
const HAVE_OPENAPI = existsSync(OPENAPI);
const INPUTS: Record<string, string> = {
  name: JOB, scope: 'steps', install: 'false', ignore: '# base rules\n/var/cache/**\n', 'audit-log': AUDIT_LOG, ...(HAVE_OPENAPI ? { openapi: OPENAPI } : {}),
};

/** main → the workload through katabot-traced (a later step) → post; the artifact the post step uploaded. */
async function tracedJob(label: string, j: Job, extraPort?: number, inputs: Record<string, string> = INPUTS): Promise<{ runner: FakeRunner; artifact: StoredArtifact }> {
  const runner = runnerFor(label, j);
  const main = await runner.runAction(join(dist, 'main.js'), inputs);
  assert.equal(main.code, 0, main.stderr);
  const status = runner.outputs()['status'];
  if (status !== 'tracing') throw new EbpfUnavailableError(runner.state()['katabot-reason'] ?? 'not tracing');
  const step = await runner.runStep(['katabot-traced', 'sh', join(work, 'workload.sh')], { NODE: process.execPath, ...(extraPort ? { EXTRA_PORT: String(extraPort) } : {}) });
  assert.equal(step.code, 0, step.stderr);
  const post = await runner.runAction(join(dist, 'post.js'), inputs, true);
  assert.equal(post.code, 0, post.stderr);
  const artifact = results.artifacts.find((a) => a.runBackendId === `run-${j.runId}` && a.jobBackendId === `job-${label}`);
  assert.ok(artifact, `uploaded: ${post.stdout.slice(-400)}\n${runner.summary()}`);
  return { runner, artifact };
}

/** The entries of a zip and their text. */
function unzip(zip: Buffer): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const out = new Map<string, string>();
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, z) => {
      if (err) return reject(err);
      z.on('entry', (e: yauzl.Entry) => z.openReadStream(e, (e2, s) => {
        if (e2) return reject(e2);
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c));
        s.on('end', () => { out.set(e.fileName, Buffer.concat(chunks).toString('utf8')); z.readEntry(); });
      }));
      z.on('end', () => resolve(out));
      z.readEntry();
    });
  });
}

const traced: Record<'base' | 'same' | 'extra', StoredArtifact | undefined> = { base: undefined, same: undefined, extra: undefined };

describe('the katabot action on a runner (real bpftrace)', () => {
  it('main attaches before later steps, post stops it, summarises and uploads the artifact', async (t) => {
    if (skipReason) return t.skip(skipReason);
    let job;
    try {
      job = await tracedJob('base', { runId: 101, attempt: 1, event: 'push', sha: MAIN_SHA });
    } catch (err) {
      if (err instanceof EbpfUnavailableError) return t.skip(err.message);
      throw err;
    }
    traced.base = job.artifact;
    const { runner, artifact } = job;
    assert.equal(artifact.name, ARTIFACT);
    assert.match(artifact.hash ?? '', /^sha256:[0-9a-f]{64}$/);
    const env = runner.stepEnv();
    assert.match(env['KATABOT_TRACE_DIR'] ?? '', /\/katabot\/run-k8s-tests\/artifact$/);
    assert.match(env['PATH'] ?? '', /\/katabot\/run-k8s-tests\/bin:/, 'katabot-traced is on the PATH of later steps');
    const summary = runner.summary();
    assert.match(summary, /### katabot trace · `run-k8s-tests`/);
    const row = /\| exec \| exit \| open \| connect \| accept \| listen \| dns \| lost \|\n\|[-:|]+\|\n\| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|/.exec(summary);
    assert.ok(row, summary);
    const [exec, , open, connect, accept, listen] = row.slice(1).map(Number);
    assert.ok(exec! >= 5 && open! > 0 && connect! >= 1 && accept! >= 1 && listen! >= 1, `counts of the workload: ${row[0]}`);
    assert.match(summary, new RegExp(`Uploaded as artifact \`${ARTIFACT}\``));
    const files = await unzip(artifact.zip);
    assert.deepEqual([...files.keys()].sort(), ['audit/0-kube-apiserver-audit.log', 'ignore.txt', 'katabot.json', ...(HAVE_OPENAPI ? ['openapi-v2.json'] : []), 'trace.jsonl']);
    assert.equal(files.get('audit/0-kube-apiserver-audit.log'), readFileSync(AUDIT_LOG, 'utf8'));
    const manifest = JSON.parse(files.get('katabot.json')!);
    assert.deepEqual(
      { name: manifest.name, run: manifest.run, scope: manifest.scope, files: manifest.files, state: manifest.status.state },
      {
        name: JOB, scope: { kind: 'steps' }, state: 'traced',
        files: { trace: 'trace.jsonl', audit: ['audit/0-kube-apiserver-audit.log'], guest: [], ignore: 'ignore.txt', ...(HAVE_OPENAPI ? { openapi: 'openapi-v2.json' } : {}) },
        run: { repository: `${ORG}/${REPO}`, workflow: 'CI', workflowRef: `${ORG}/${REPO}/.github/workflows/ci.yaml@refs/heads/main`, job: JOB, runId: 101, runAttempt: 1, event: 'push', sha: MAIN_SHA, ref: 'refs/heads/main' },
      },
    );
    const trace = files.get('trace.jsonl')!.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(trace[0].target, { mode: 'host', cgroup: '/katabot/steps-101-1-run-k8s-tests' });
    assert.equal(trace[0].katabot, JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version, 'the bundle knows its version');
    assert.equal(trace.at(-1).type, 'footer', 'the tracer was stopped cleanly');
    assert.equal(manifest.status.events, trace.length - 2);
    assert.ok(trace.some((e) => e.kind === 'exec' && e.exe === '/usr/bin/cat'), 'the workload, run in a later step, is traced');
  });

  it('the same workload again, and with one more exec, write and connection', async (t) => {
    if (skipReason) return t.skip(skipReason);
    if (!traced.base) return t.skip('no base trace');
    traced.same = (await tracedJob('same', { runId: 201, attempt: 1, event: 'pull_request', sha: HEAD_SHA })).artifact;
    const { server, port } = await fixedPortListener();
    try {
      // The PR's workflow tries to hide its own additions with ignore rules: katabot applies the base run's only.
      const hiding = { ...INPUTS, ignore: 'processes: * → /usr/bin/true\nfiles: write /tmp/**\nnetwork: tcp → loopback:*\n' };
      const extra = await tracedJob('extra', { runId: 201, attempt: 2, event: 'pull_request', sha: HEAD_SHA }, port, hiding);
      traced.extra = extra.artifact;
      const manifest = JSON.parse((await unzip(extra.artifact.zip)).get('katabot.json')!);
      assert.deepEqual(manifest.run.pull, { number: 5, headSha: HEAD_SHA, baseRef: 'main' }, 'the PR, from the event payload');
      extraPort = port;
    } finally {
      server.close();
    }
  });

  it('tracing never fails the job: a bad input or a tracer that cannot start is said in the summary', async () => {
    for (const [label, inputs, reason] of [
      ['bad-scope', { name: JOB, scope: 'everything', install: 'false' }, /input scope: "everything" is not runner, steps or cgroup:\/PATH/],
      ['no-cgroup', { name: JOB, scope: 'cgroup:/no-such-slice.slice', install: 'false' }, skipReason ? /eBPF unavailable|bpftrace/ : /--cgroup \/no-such-slice\.slice: no such cgroup/],
    ] as const) {
      const runner = runnerFor(label, { runId: 900, attempt: 1, event: 'push', sha: MAIN_SHA });
      const main = await runner.runAction(join(dist, 'main.js'), inputs);
      assert.equal(main.code, 0, main.stderr);
      assert.match(main.stdout, /::warning::katabot trace: not tracing: /);
      const post = await runner.runAction(join(dist, 'post.js'), inputs, true);
      assert.equal(post.code, 0, post.stderr);
      assert.match(runner.summary(), /\*\*Not traced:\*\* /);
      assert.match(runner.summary(), reason);
      assert.match(runner.summary(), /tracing never fails it/);
    }
    assert.equal(results.artifacts.filter((a) => a.runBackendId === 'run-900').length, 0, 'nothing uploaded');
  });
});

let extraPort = 0;

describe('katabot picks the artifacts up (workflow_run.completed)', () => {
  let h: Harness;
  before(async () => {
    if (skipReason || !traced.extra) return;
    h = await startHarness();
    h.gh.addPull({ number: 5, author: 'contributor', headSha: HEAD_SHA, baseRef: 'main', baseSha: MAIN_SHA });
  });
  after(async () => h?.close());

  const runOf = (id: number, attempt: number, event: string, sha: string, branch: string) => ({
    id, name: 'CI', workflow_id: 77, event, head_sha: sha, status: 'completed', conclusion: 'success', run_attempt: attempt,
    created_at: new Date(Date.now() - (event === 'push' ? 3600_000 : 0) + attempt * 1000).toISOString(), html_url: `https://github.com/${ORG}/${REPO}/actions/runs/${id}/attempts/${attempt}`,
    path: '.github/workflows/ci.yaml', head_branch: branch,
  });
  let artifactId = 9000;
  const addArtifact = (runId: number, zip: Buffer) => h.gh.artifacts.push({ id: ++artifactId, runId, name: ARTIFACT, zip, created_at: new Date(Date.now() + artifactId).toISOString() });

  /** workflow_run.completed, from GitHub's example payload, for run 201 of the PR. */
  function completed(attempt: number): unknown {
    const p = example('workflow_run', 'completed');
    p.repository = h.gh.repository();
    p.installation = { id: h.gh.installationId, node_id: 'x' };
    p.workflow_run = { ...p.workflow_run, ...runOf(201, attempt, 'pull_request', HEAD_SHA, 'fix'), pull_requests: [{ number: 5, head: { sha: HEAD_SHA, ref: 'fix' }, base: { sha: MAIN_SHA, ref: 'main' } }] };
    return p;
  }
  const behaviorChecks = () => h.gh.checkRuns.filter((r) => r.name === CHECK && r.head_sha === HEAD_SHA);
  const behaviorComments = () => h.gh.comments.filter((c) => c.issue === 5 && c.body.includes(`<!-- katabot:behavior job="${JOB}" -->`));
  const addedKeys = (body: string) => [...body.matchAll(/^\| \+ \| <code>(.*?)<\/code> \|/gm)].map((m) => m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')).sort();

  it('no base run yet: the behavior check says so and names what makes one; nothing is diffed', async (t) => {
    if (skipReason || !traced.extra) return t.skip(skipReason ?? 'no traces');
    addArtifact(201, traced.same!.zip);
    assert.ok((await h.send('workflow_run', completed(1))).ok);
    const [check] = await waitFor('the behavior check', () => (behaviorChecks().length === 1 ? behaviorChecks() : undefined), 30_000);
    assert.equal(check!.conclusion, 'neutral');
    assert.equal(check!.output.title, 'No baseline yet');
    assert.match(check!.output.summary, /no successful push or scheduled run of <code>ci\.yaml<\/code> on `main` has uploaded a katabot trace of <code>run-k8s-tests<\/code>/);
    assert.match(check!.output.summary, /GitHub Actions: workflow <code>CI<\/code> · job <code>run-k8s-tests<\/code> · \[attempt 1\]/);
    assert.equal(check!.external_id, `behavior:actions-201-1-${ARTIFACT}`);
    assert.equal(behaviorComments().length, 0, 'no diff against nothing');
  });

  it('rerunning the same workload, with a base run on main: no behavior changes', async (t) => {
    if (skipReason || !traced.extra) return t.skip(skipReason ?? 'no traces');
    h.gh.workflowRuns.push(runOf(101, 1, 'push', MAIN_SHA, 'main'));
    addArtifact(101, traced.base!.zip);
    addArtifact(201, traced.same!.zip); // attempt 2 uploaded the same workload's trace again
    await h.send('workflow_run', completed(2));
    await waitFor('the second behavior check', () => behaviorChecks().length === 2, 30_000);
    const check = behaviorChecks()[1]!;
    assert.equal(check.output.title, 'No behavior changes');
    assert.equal(check.conclusion, 'neutral');
    const [comment] = behaviorComments();
    assert.ok(comment);
    assert.match(comment.body, /\*\*No behavior changes\.\*\*/);
    assert.match(comment.body, /GitHub Actions: workflow <code>CI<\/code> · job <code>run-k8s-tests<\/code> · \[attempt 2\]\(https:\/\/github\.com\/kata-containers\/kata-containers\/actions\/runs\/201\/attempts\/2\)/);
    assert.match(comment.body, /Compared with `main` @ `bbbbbbbbbbbb`/);
    assert.deepEqual(addedKeys(comment.body), []);
    // the audit log came along on both sides: one API operation, unchanged
    assert.match(comment.body, /^\| Kubernetes API \| 0 \| 0 \| 1 \|$/m);
  });

  it('one added exec, write and connection show exactly, in the same comment; a redelivery posts nothing twice', async (t) => {
    if (skipReason || !traced.extra) return t.skip(skipReason ?? 'no traces');
    addArtifact(201, traced.extra!.zip);
    const payload = completed(3);
    await h.send('workflow_run', payload);
    await waitFor('the third behavior check', () => behaviorChecks().length === 3, 30_000);
    const check = behaviorChecks()[2]!;
    assert.equal(check.output.title, '3 added, 0 removed');
    const comments = behaviorComments();
    assert.equal(comments.length, 1, 'one comment per PR and job, edited in place');
    // exactly the three, although the PR's artifact carries ignore rules hiding them (only the base run's apply)
    assert.deepEqual(addedKeys(comments[0]!.body), ['/usr/bin/sh → /usr/bin/true', `tcp → loopback:${extraPort}`, 'write /tmp/tmp.<tmp>/extra-output.txt'].sort());
    assert.match(comments[0]!.body, /\[attempt 3\]/);
    // GitHub redelivers (a new delivery id): the same report, no second check run, still one comment
    await h.send('workflow_run', payload);
    await h.settle();
    assert.equal(behaviorChecks().length, 3);
    assert.equal(behaviorComments().length, 1);
  });
});
