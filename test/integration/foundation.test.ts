// End to end: signed webhooks in GitHub's real shapes → intake → Redis queue → handlers → ProwJobs in the
// Kubernetes API-server double (validated against the upstream CRD when ../shared is present) and
// check runs, labels and comments on nock'd GitHub.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { PACKAGES_ENV, unbundlePackages } from '../../src/bpf/package.ts';
import { TRACER_CONTAINER } from '../../src/jobs/trace.ts';
import { LABELS } from '../../src/jobs/types.ts';
import { HAVE_CRD, OLD_SECRET, SECRET, startHarness, waitFor, type Harness } from './harness.ts';

let h: Harness;
let prNumber = 100;

before(async () => {
  if (!HAVE_CRD) console.log('# ../shared/prow CRD absent: ProwJobs are not validated against the upstream schema in this run');
  h = await startHarness();
});
after(async () => h?.close());

function jobsFor(pr: number) {
  return h.prowjobs().filter((pj) => pj.metadata.labels?.[LABELS.pull] === String(pr));
}

function names(pr: number): string[] {
  return jobsFor(pr)
    .map((pj) => pj.spec.job)
    .sort();
}

describe('intake', () => {
  it('rejects a forged signature with 401 and does nothing', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    const res = await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test e2e-kata-qemu'), undefined, 'wrong-secret');
    assert.equal(res.status, 401);
    await h.settle();
    assert.deepEqual(names(pr.number), []);
  });

  it('rejects a missing signature, and accepts every secret of a rotation list', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    const payload = h.gh.commentEvent(pr.number, 'maintainer', '/test e2e-kata-qemu');
    const unsigned = await fetch(`${h.bot.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'issue_comment', 'x-github-delivery': 'd-unsigned' },
      body: JSON.stringify(payload),
    });
    assert.equal(unsigned.status, 401);
    const res = await h.send('issue_comment', payload, undefined, OLD_SECRET);
    assert.equal(res.status, 200);
    await waitFor('job from old secret', () => names(pr.number).length === 1);
  });

  it('answers /healthz, /readyz, /metrics and Prow plugin help', async () => {
    assert.equal((await fetch(`${h.bot.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${h.bot.url}/readyz`)).status, 200);
    const metrics = await (await fetch(`${h.bot.url}/metrics`)).text();
    assert.match(metrics, /katabot_webhooks_total\{event="issue_comment",result="unauthorized"\} [1-9]/);
    assert.match(metrics, /katabot_queue_depth/);
    assert.match(metrics, /# TYPE katabot_webhook_handling_seconds histogram/);
    const help = await fetch(`${h.bot.url}/help`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ Org: 'kata-containers', Repo: 'kata-containers' }]),
    });
    assert.equal(help.status, 200);
    const body = (await help.json()) as Record<string, any>;
    for (const key of ['Description', 'Config', 'Snippet', 'Events', 'Commands']) assert.ok(key in body, key);
    const usages = body.Commands.map((c: any) => c.Usage).join('\n');
    for (const cmd of ['/test', '/retest', '/retest-required', '/ok-to-test', '/ok-to-test-tdx', '/trace', '/help']) {
      assert.ok(usages.includes(cmd), `help lists ${cmd}`);
    }
    for (const c of body.Commands) assert.deepEqual(Object.keys(c).sort(), ['Description', 'Examples', 'Featured', 'Usage', 'WhoCanUse']);
  });

  it('rejects oversized bodies before parsing', async () => {
    const res = await fetch(`${h.bot.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'issue_comment', 'x-github-delivery': 'd-big', 'content-length': String(30_000_000) },
      body: 'x'.repeat(10),
    }).catch((err: Error) => err);
    // The server refuses on the declared length; depending on timing the client sees 413 or a closed socket.
    if (res instanceof Response) assert.equal(res.status, 413);
  });
});

describe('/test', () => {
  it('creates a CRD-valid ProwJob with Prow labels and a queued check run', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'contributor-x', files: ['docs/README.md'] });
    h.gh.labels.get(pr.number)!.add('ok-to-test');
    const res = await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', 'Looks fine.\n/test e2e-kata-qemu\n'));
    assert.equal(res.status, 200);
    const [pj] = await waitFor('prowjob', () => (jobsFor(pr.number).length ? jobsFor(pr.number) : undefined));
    assert.ok(pj);
    assert.match(pj.metadata.name, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(pj.spec.type, 'presubmit');
    assert.equal(pj.spec.agent, 'kubernetes');
    assert.equal(pj.spec.job, 'e2e-kata-qemu');
    assert.equal(pj.spec.context, 'e2e-kata-qemu');
    assert.equal(pj.spec.rerun_command, '/test e2e-kata-qemu');
    assert.equal(pj.spec.report, true);
    assert.equal(pj.spec.namespace, 'test-pods');
    assert.equal(pj.spec.refs?.org, 'kata-containers');
    assert.equal(pj.spec.refs?.base_ref, 'main');
    assert.equal(pj.spec.refs?.base_sha, 'b'.repeat(40), 'base sha is the branch tip, as Prow resolves it');
    assert.deepEqual(pj.spec.refs?.pulls?.[0]?.number, pr.number);
    assert.equal(pj.spec.refs?.pulls?.[0]?.sha, pr.headSha);
    assert.equal(pj.spec.refs?.pulls?.[0]?.author, 'contributor-x');
    // As Prow's ProwJob carries it: prowapi.Duration marshals `2h` as Go's Duration.String().
    assert.equal(pj.spec.decoration_config?.timeout, '2h0m0s');
    assert.equal(pj.status?.state, 'triggered');
    const labels = pj.metadata.labels!;
    assert.equal(labels[LABELS.createdByProw], 'true');
    assert.equal(labels[LABELS.type], 'presubmit');
    assert.equal(labels[LABELS.job], 'e2e-kata-qemu');
    assert.equal(labels[LABELS.pull], String(pr.number));
    assert.equal(labels[LABELS.isOptional], 'false');
    assert.ok(labels[LABELS.eventGuid]);
    assert.equal(pj.metadata.annotations?.['prow.k8s.io/job'], 'e2e-kata-qemu');
    assert.equal(labels[LABELS.retest], undefined);

    const run = await waitFor('check run', () => h.gh.checkRuns.find((r) => r.external_id === pj.metadata.name));
    assert.equal(run.name, 'e2e-kata-qemu');
    assert.equal(run.head_sha, pr.headSha);
    assert.equal(run.status, 'queued');
    assert.match(run.details_url ?? '', /^https:\/\/prow\.kata\.example\//);
  });

  it('runs a named job even when its run_if_changed does not match, and several per comment', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer', files: ['docs/x.md'] });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test e2e-kata-clh\n/test docs-lint'));
    await waitFor('two jobs', () => jobsFor(pr.number).length === 2);
    assert.deepEqual(names(pr.number), ['docs-lint', 'e2e-kata-clh']);
  });

  it('/test all runs always_run and matching change-gated jobs, never manual or other-branch ones', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer', files: ['src/runtime/virtcontainers/qemu.go'] });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test all'));
    await waitFor('jobs', () => jobsFor(pr.number).length >= 2);
    await h.settle();
    // TDX is gated by its label; skip_report jobs run but get no check run.
    assert.deepEqual(names(pr.number), ['e2e-kata-clh', 'e2e-kata-qemu', 'metrics-silent']);
    const silent = jobsFor(pr.number).find((pj) => pj.spec.job === 'metrics-silent')!;
    assert.equal(silent.spec.report, false);
    assert.equal(h.gh.checkRuns.some((r) => r.external_id === silent.metadata.name), false);
  });

  it('ignores commands in code blocks, quotes and edited comments', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '```\n/test e2e-kata-qemu\n```\n> /test all'));
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test e2e-kata-qemu', 'edited'));
    await h.settle();
    assert.deepEqual(names(pr.number), []);
  });

  it('replies with the closest job names for an unknown job and creates nothing', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test e2e-kata-qmeu'));
    const reply = await waitFor('reply', () => h.gh.comments.find((c) => c.issue === pr.number));
    assert.match(reply.body, /e2e-kata-qemu/);
    assert.match(reply.body, /@maintainer/);
    await h.settle();
    assert.deepEqual(names(pr.number), []);
  });

  it('/test ? lists required and optional jobs', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test ?'));
    const reply = await waitFor('help', () => h.gh.comments.find((c) => c.issue === pr.number));
    assert.match(reply.body, /\/test e2e-kata-qemu/);
    assert.match(reply.body, /\/test stress-manual/);
    assert.doesNotMatch(reply.body, /release-only/, 'jobs of other branches are not offered');
  });

  it('an ordinary comment costs no GitHub call', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', 'Thanks! Looks good to me.\n\n> /test all (quoted)'));
    await h.settle();
    assert.deepEqual(h.gh.calls.filter((c) => c.path.includes(`/${pr.number}`)), []);
    assert.deepEqual(names(pr.number), []);
  });

  it('ignores the bot’s own comments', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, h.gh.botLogin, '/test all'));
    await h.settle();
    assert.deepEqual(names(pr.number), []);
  });
});

describe('delivery semantics', () => {
  it('a redelivered webhook creates nothing new, even when both copies arrive at once', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    const payload = h.gh.commentEvent(pr.number, 'maintainer', '/test e2e-kata-qemu');
    const delivery = `dup-${pr.number}`;
    const results = await Promise.all(Array.from({ length: 10 }, () => h.send('issue_comment', payload, delivery)));
    assert.deepEqual(results.map((r) => r.status), Array(10).fill(200), 'duplicates still get a 2xx');
    await waitFor('job', () => jobsFor(pr.number).length === 1);
    await h.send('issue_comment', payload, delivery);
    await h.settle();
    assert.equal(jobsFor(pr.number).length, 1);
    assert.equal(h.gh.checkRuns.filter((r) => r.head_sha === pr.headSha).length, 1);
  });

  it('a restart between the 2xx and the handling creates the job exactly once', async () => {
    await h.restart({ noWorker: true });
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    const res = await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test e2e-kata-qemu'));
    assert.equal(res.status, 200);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(names(pr.number), [], 'not handled before the restart');
    await h.restart();
    await waitFor('job after restart', () => jobsFor(pr.number).length === 1);
    await h.settle();
    assert.equal(jobsFor(pr.number).length, 1);
    assert.equal(h.gh.checkRuns.filter((r) => r.head_sha === pr.headSha).length, 1);
  });
});

describe('trust', () => {
  it('an untrusted author opening a PR gets needs-ok-to-test and one welcome; no jobs', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'stranger' });
    await h.send('pull_request', h.gh.pullRequestEvent(pr.number, 'opened'));
    await waitFor('label', () => h.gh.labels.get(pr.number)!.has('needs-ok-to-test'));
    await waitFor('welcome', () => h.gh.comments.some((c) => c.issue === pr.number));
    await h.send('pull_request', h.gh.pullRequestEvent(pr.number, 'opened'));
    await h.settle();
    assert.equal(h.gh.comments.filter((c) => c.issue === pr.number).length, 1);
    assert.match(h.gh.comments.find((c) => c.issue === pr.number)!.body, /ok-to-test/);
    assert.deepEqual(names(pr.number), []);
  });

  it('untrusted commands on an untrusted PR create nothing and get one polite reply', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'stranger' });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'stranger', '/test all'));
    await waitFor('reply', () => h.gh.comments.some((c) => c.issue === pr.number));
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'stranger', '/retest'));
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'other-stranger', '/test e2e-kata-qemu'));
    await h.settle();
    assert.equal(h.gh.comments.filter((c) => c.issue === pr.number).length, 1);
    assert.deepEqual(names(pr.number), []);
  });

  it('/ok-to-test by a member labels the PR and runs the jobs once; the resulting labeled event runs nothing', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'stranger' });
    h.gh.labels.get(pr.number)!.add('needs-ok-to-test');
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/ok-to-test'));
    await waitFor('jobs', () => jobsFor(pr.number).length >= 2);
    await h.settle();
    const labels = h.gh.labels.get(pr.number)!;
    assert.ok(labels.has('ok-to-test'));
    assert.ok(!labels.has('needs-ok-to-test'));
    const before = names(pr.number);
    // src/runtime/main.go is changed by default, so the change-gated e2e-kata-clh runs too.
    assert.deepEqual(before, ['e2e-kata-clh', 'e2e-kata-qemu', 'metrics-silent']);
    // GitHub sends the bot's own label change back.
    await h.send('pull_request', { ...h.gh.pullRequestEvent(pr.number, 'labeled', { label: { name: 'ok-to-test' } }, h.gh.botLogin) });
    await h.settle();
    assert.deepEqual(names(pr.number), before);
    // Afterwards anyone may /test on the now-trusted PR.
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'stranger', '/test docs-lint'));
    await waitFor('docs-lint', () => names(pr.number).includes('docs-lint'));
  });

  it('trusted apps are trusted; other bots are not', async () => {
    const a = h.gh.addPull({ number: ++prNumber, author: 'dependabot[bot]' });
    await h.send('pull_request', h.gh.pullRequestEvent(a.number, 'opened'));
    await waitFor('dependabot jobs', () => jobsFor(a.number).length >= 1);
    const b = h.gh.addPull({ number: ++prNumber, author: 'renovate[bot]' });
    await h.send('pull_request', h.gh.pullRequestEvent(b.number, 'opened'));
    await waitFor('label', () => h.gh.labels.get(b.number)!.has('needs-ok-to-test'));
    await h.settle();
    assert.deepEqual(names(b.number), []);
  });

  it('a new push aborts unfinished jobs, including those Prow created, and runs the automatic jobs again', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test e2e-kata-qemu'));
    await waitFor('job', () => jobsFor(pr.number).length === 1);
    const oldSha = pr.headSha;
    // A job Prow's own trigger created for this PR, identified by Prow's labels only.
    const prowOwn = structuredClone(jobsFor(pr.number)[0]!);
    prowOwn.metadata = { name: 'prow-made-0001', namespace: 'prow', labels: { ...prowOwn.metadata.labels, [LABELS.eventGuid]: 'from-prow' }, annotations: prowOwn.metadata.annotations };
    await h.bot.deps.prowjobs.create(prowOwn);
    pr.headSha = 'd'.repeat(40);
    await h.send('pull_request', h.gh.pullRequestEvent(pr.number, 'synchronize'));
    await waitFor('aborted', () => jobsFor(pr.number).filter((pj) => pj.status?.state === 'aborted').length === 2);
    const fresh = await waitFor('new jobs', () => jobsFor(pr.number).filter((pj) => pj.spec.refs?.pulls?.[0]?.sha === pr.headSha).length >= 1);
    assert.ok(fresh);
    for (const pj of jobsFor(pr.number).filter((p) => p.spec.refs?.pulls?.[0]?.sha === oldSha)) {
      assert.equal(pj.status?.state, 'aborted');
      assert.match(pj.status?.description ?? '', /push/);
      assert.equal(pj.status?.completionTime, undefined, 'plank completes aborted jobs, not katabot');
    }
  });

  for (const action of ['converted_to_draft', 'closed'] as const) {
    it(`${action === 'closed' ? 'closing' : 'converting to draft'} aborts the PR's unfinished jobs too`, async () => {
      const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
      await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test e2e-kata-qemu'));
      await waitFor('job', () => jobsFor(pr.number).length === 1);
      if (action === 'closed') pr.state = 'closed';
      else pr.draft = true;
      await h.send('pull_request', h.gh.pullRequestEvent(pr.number, action));
      const aborted = await waitFor('aborted', () => (jobsFor(pr.number)[0]?.status?.state === 'aborted' ? jobsFor(pr.number)[0] : undefined));
      assert.match(aborted.status?.description ?? '', action === 'closed' ? /closed/ : /draft/);
    });
  }
});

describe('TDX', () => {
  it('only approvers may say /ok-to-test-tdx; it runs the TDX jobs for this commit only', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/ok-to-test-tdx'));
    const reply = await waitFor('refusal', () => h.gh.comments.find((c) => c.issue === pr.number));
    assert.match(reply.body, /tdx-approver/);
    await h.settle();
    assert.deepEqual(names(pr.number), []);
    assert.ok(!h.gh.labels.get(pr.number)!.has('ok-to-test-tdx'));

    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'tdx-approver', '/ok-to-test-tdx'));
    await waitFor('tdx job', () => names(pr.number).includes('e2e-kata-qemu-tdx'));
    // Jobs start before GitHub is written (labels are paced writes), so the label follows.
    await waitFor('tdx label', () => h.gh.labels.get(pr.number)!.has('ok-to-test-tdx'));
    assert.deepEqual(names(pr.number), ['e2e-kata-qemu-tdx']);

    // A push removes the approval (sticky: false) and the TDX job does not run for the new commit.
    pr.headSha = 'e'.repeat(40);
    await h.send('pull_request', h.gh.pullRequestEvent(pr.number, 'synchronize'));
    await waitFor('label removed', () => !h.gh.labels.get(pr.number)!.has('ok-to-test-tdx'));
    await h.settle();
    const onNewSha = jobsFor(pr.number).filter((pj) => pj.spec.refs?.pulls?.[0]?.sha === pr.headSha).map((pj) => pj.spec.job);
    assert.ok(onNewSha.includes('e2e-kata-qemu'));
    assert.ok(!onNewSha.includes('e2e-kata-qemu-tdx'));
  });
});

describe('/trace', () => {
  it('creates the job marked for tracing, for trusted users only', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/trace e2e-kata-qemu'));
    const [pj] = await waitFor('traced job', () => (jobsFor(pr.number).length ? jobsFor(pr.number) : undefined));
    assert.equal(pj!.metadata.labels?.[LABELS.trace], 'true');

    const untrusted = h.gh.addPull({ number: ++prNumber, author: 'stranger' });
    h.gh.labels.get(untrusted.number)!.add('ok-to-test');
    await h.send('issue_comment', h.gh.commentEvent(untrusted.number, 'stranger', '/trace e2e-kata-qemu'));
    await h.settle();
    assert.deepEqual(names(untrusted.number), [], 'the privileged tracer never runs for an untrusted commenter');
  });
});

describe('/trace --probe', () => {
  const probeFile = (f: string) => readFileSync(new URL(`../../.katabot/probes/syscount/${f}`, import.meta.url), 'utf8');
  const tracer = (pj: { spec: { pod_spec?: { containers: Array<{ name: string; args?: string[]; env?: Array<{ name: string; value?: string }> }> } } }) =>
    pj.spec.pod_spec?.containers.find((c) => c.name === TRACER_CONTAINER);

  it('runs a package from the base branch in the tracer sidecar', async () => {
    for (const f of ['package.yaml', 'program.bt']) h.gh.contents.set(`.katabot/probes/syscount/${f}@main`, probeFile(f));
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/trace --probe exec,syscount e2e-kata-qemu'));
    const [pj] = await waitFor('traced job', () => (jobsFor(pr.number).length ? jobsFor(pr.number) : undefined));
    assert.equal(pj!.spec.job, 'e2e-kata-qemu');
    assert.equal(pj!.metadata.labels?.[LABELS.trace], 'true');
    const c = tracer(pj!);
    assert.ok(c, 'the pod has the tracer sidecar');
    const args = c.args ?? [];
    assert.equal(args[args.indexOf('--probe') + 1], 'exec,syscount@1.1.0');
    const bundle = c.env?.find((e) => e.name === PACKAGES_ENV)?.value;
    assert.ok(bundle, `${PACKAGES_ENV} is set`);
    const [pkg, ...more] = unbundlePackages(bundle);
    assert.deepEqual(more, []);
    assert.equal(pkg!.meta.name, 'syscount');
    assert.equal(pkg!.source, probeFile('program.bt'));
    assert.ok(h.gh.calls.some((call) => call.method === 'GET' && call.path.includes('/contents/') && call.path.includes('ref=main')));
    assert.ok(!h.gh.calls.some((call) => call.path.includes('/contents/') && call.path.includes(pr.headSha)), 'the PR head is never read');
  });

  it('ignores a package that exists only on the PR head: reply, no job', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    for (const ref of [pr.headSha, pr.headRef]) {
      h.gh.contents.set(`.katabot/probes/evil/package.yaml@${ref}`, probeFile('package.yaml').replace('name: syscount', 'name: evil'));
      h.gh.contents.set(`.katabot/probes/evil/program.bt@${ref}`, probeFile('program.bt'));
    }
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/trace --probe evil e2e-kata-qemu'));
    const reply = await waitFor('unknown-probe reply', () => h.gh.comments.find((c) => c.issue === pr.number && /katabot:reply \S+:unknown-probes -->/.test(c.body)));
    assert.match(reply.body, /`evil`/);
    assert.match(reply.body, /Known probes.*`exec`/);
    await h.settle();
    assert.deepEqual(names(pr.number), [], 'no traced job for an unknown probe');
  });
});

describe('/retest', () => {
  it('reruns failed contexts from statuses and check runs, plus automatic jobs that never ran', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer', files: ['docs/guide.md'] });
    const at = new Date().toISOString();
    // e2e-kata-qemu failed as a commit status (Prow's crier); docs-lint failed as a check run; clh passed.
    h.gh.statuses.push({ sha: pr.headSha, context: 'e2e-kata-qemu', state: 'failure', updated_at: at });
    h.gh.statuses.push({ sha: pr.headSha, context: 'e2e-kata-clh', state: 'success', updated_at: at });
    h.gh.checkRuns.push({ id: 1, name: 'docs-lint', head_sha: pr.headSha, external_id: 'x', status: 'completed', conclusion: 'failure', started_at: at, completed_at: at });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/retest'));
    await waitFor('reruns', () => jobsFor(pr.number).length >= 2);
    await h.settle();
    // metrics-silent never reported (skip_report) and is automatic, so it runs; clh passed; qemu-tdx is gated.
    assert.deepEqual(names(pr.number), ['docs-lint', 'e2e-kata-qemu', 'metrics-silent']);
    for (const pj of jobsFor(pr.number)) assert.equal(pj.metadata.labels?.[LABELS.retest], 'true');
  });

  it('/retest-required skips optional jobs', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer', files: ['docs/guide.md'] });
    const at = new Date().toISOString();
    h.gh.statuses.push({ sha: pr.headSha, context: 'e2e-kata-qemu', state: 'error', updated_at: at });
    h.gh.statuses.push({ sha: pr.headSha, context: 'docs-lint', state: 'failure', updated_at: at });
    h.gh.statuses.push({ sha: pr.headSha, context: 'metrics-silent', state: 'success', updated_at: at });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/retest-required'));
    await waitFor('rerun', () => jobsFor(pr.number).length >= 1);
    await h.settle();
    assert.deepEqual(names(pr.number), ['e2e-kata-qemu']);
  });

  it('a newer success overrides an older failure of the same context', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer', files: ['docs/guide.md'] });
    h.gh.statuses.push({ sha: pr.headSha, context: 'e2e-kata-qemu', state: 'failure', updated_at: '2026-11-01T10:00:00Z' });
    h.gh.checkRuns.push({ id: 2, name: 'e2e-kata-qemu', head_sha: pr.headSha, external_id: 'y', status: 'completed', conclusion: 'success', started_at: '2026-11-01T11:00:00Z', completed_at: '2026-11-01T11:30:00Z' });
    h.gh.statuses.push({ sha: pr.headSha, context: 'metrics-silent', state: 'success', updated_at: '2026-11-01T10:00:00Z' });
    h.gh.statuses.push({ sha: pr.headSha, context: 'docs-lint', state: 'success', updated_at: '2026-11-01T10:00:00Z' });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/retest'));
    await h.settle();
    assert.deepEqual(names(pr.number), []);
  });
});

describe('other places commands come from', () => {
  it('a review body counts like a comment', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer' });
    await h.send('pull_request_review', h.gh.reviewEvent(pr.number, 'maintainer', 'LGTM, but\n/test docs-lint'));
    await waitFor('job', () => names(pr.number).includes('docs-lint'));
  });

  it('the PR body counts when the PR is opened', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer', files: ['docs/x.md'], body: 'Fixes #1\n\n/test stress-manual' });
    await h.send('pull_request', h.gh.pullRequestEvent(pr.number, 'opened'));
    await waitFor('jobs', () => names(pr.number).includes('stress-manual') && names(pr.number).includes('e2e-kata-qemu'));
    await h.settle();
    // The automatic jobs run once for the open, the body's /test adds the manual job.
    assert.deepEqual(names(pr.number), ['docs-lint', 'e2e-kata-qemu', 'metrics-silent', 'stress-manual']);
  });

  it('a trusted author opening a draft gets the draft notice and no jobs', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer', draft: true });
    await h.send('pull_request', h.gh.pullRequestEvent(pr.number, 'opened'));
    const notice = await waitFor('notice', () => h.gh.comments.find((c) => c.issue === pr.number));
    assert.match(notice.body, /[Dd]raft/);
    await h.settle();
    assert.deepEqual(names(pr.number), []);
  });

  it('/ok-to-test cancel by a member revokes the label and starts nothing', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'stranger' });
    h.gh.labels.get(pr.number)!.add('ok-to-test');
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/ok-to-test cancel'));
    await waitFor('labels', () => h.gh.labels.get(pr.number)!.has('needs-ok-to-test') && !h.gh.labels.get(pr.number)!.has('ok-to-test'));
    await h.settle();
    assert.deepEqual(names(pr.number), []);
  });

  it('an unmergeable PR runs nothing and says why', async () => {
    const pr = h.gh.addPull({ number: ++prNumber, author: 'maintainer', mergeable: false });
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test e2e-kata-qemu'));
    const reply = await waitFor('reply', () => h.gh.comments.find((c) => c.issue === pr.number));
    assert.match(reply.body, /merge conflicts/);
    assert.deepEqual(names(pr.number), []);
  });
});
