// The ProwJob adapter against the Kubernetes API-server double (real HTTP, real client) and against files.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { isComplete } from '../../src/jobs/state.ts';
import { AbortIncompleteError, KubeApiError, fileProwJobClient, kubeProwJobClient, type ProwJobClient } from '../../src/adapters/kube.ts';
import { LABELS, type ProwJob, type ProwJobState, type ProwJobStatus } from '../../src/jobs/types.ts';
import { startKubeApiServer, type KubeApiDouble } from '../fixtures/kube-apiserver.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CRD = join(ROOT, '..', 'shared', 'prow', 'prowjob_customresourcedefinition.yaml');
const NO_CRD = existsSync(CRD) ? undefined : `upstream ProwJob CRD not found at ${CRD} (../shared is absent)`;
if (NO_CRD) console.log(`# skipping Kubernetes ProwJob adapter tests: ${NO_CRD}`);

const NS = 'prow';
const PJ = { group: 'prow.k8s.io', version: 'v1', plural: 'prowjobs' } as const;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

let counter = 0;
function prowJob(opts: { name?: string; pull?: number; type?: ProwJob['spec']['type']; status?: ProwJobStatus } = {}): ProwJob {
  const name = opts.name ?? `pj-${++counter}`;
  const type = opts.type ?? 'presubmit';
  const pull = opts.pull ?? 42;
  return {
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: {
      name,
      labels: {
        [LABELS.createdByProw]: 'true',
        [LABELS.type]: type,
        [LABELS.job]: 'pull-kata-unit',
        [LABELS.org]: 'kata-containers',
        [LABELS.repo]: 'kata-containers',
        [LABELS.pull]: String(pull),
      },
      annotations: { [LABELS.job]: 'pull-kata-unit' },
    },
    spec: {
      type,
      agent: 'kubernetes',
      cluster: 'default',
      namespace: 'test-pods',
      job: 'pull-kata-unit',
      context: 'pull-kata-unit',
      report: true,
      refs: { org: 'kata-containers', repo: 'kata-containers', base_ref: 'main', base_sha: 'b'.repeat(40), pulls: [{ number: pull, author: 'alice', sha: 'a'.repeat(40) }] },
      pod_spec: { containers: [{ name: 'test', image: 'quay.io/kata-containers/ci:latest' }] },
    },
    status: opts.status ?? { state: 'triggered', startTime: '2026-01-01T00:00:00Z' },
  };
}

const PR42 = { [LABELS.org]: 'kata-containers', [LABELS.repo]: 'kata-containers', [LABELS.pull]: '42' };

const completeCases: Array<{ status: ProwJobStatus | undefined; want: boolean }> = [
  { status: undefined, want: false },
  { status: { state: 'triggered' }, want: false },
  { status: { state: 'pending' }, want: false },
  { status: { state: 'scheduling' }, want: false },
  { status: { state: 'aborted' }, want: true },
  { status: { state: 'success', completionTime: '2026-01-01T00:00:00Z' }, want: true },
  { status: { state: 'pending', completionTime: '2026-01-01T00:00:00Z' }, want: true },
  { status: { state: 'error' }, want: true },
];
describe('isComplete', () => {
  for (const c of completeCases) {
    it(`${JSON.stringify(c.status)} → ${c.want}`, () => {
      const pj = prowJob();
      if (c.status) pj.status = c.status;
      else delete pj.status;
      assert.equal(isComplete(pj), c.want);
    });
  }
});

describe('kubeProwJobClient', { skip: NO_CRD }, () => {
  let kube: KubeApiDouble;
  let client: ProwJobClient;
  let raw: CustomObjectsApi;
  const sleeps: number[] = [];
  before(async () => {
    kube = await startKubeApiServer({ crds: [CRD] });
    raw = kube.kubeConfig.makeApiClient(CustomObjectsApi);
    client = kubeProwJobClient(kube.kubeConfig, NS, undefined, {
      baseDelayMs: 5,
      maxDelayMs: 20,
      sleep: async (ms) => {
        sleeps.push(ms);
        await new Promise((r) => setTimeout(r, Math.min(ms, 20)));
      },
    });
  });
  after(() => kube.close());
  it('is ready against a server with the CRD', async () => {
    await client.ready();
    assert.equal(client.namespace, NS);
  });

  it('create is idempotent: the same name twice is "exists"', async () => {
    const pj = prowJob();
    assert.equal(await client.create(pj), 'created');
    assert.equal(await client.create(pj), 'exists');
    const stored = kube.object('prowjobs', NS, pj.metadata.name);
    assert.equal(stored.metadata.namespace, NS);
    assert.deepEqual(stored.spec, pj.spec);
    assert.deepEqual(pj.metadata.resourceVersion, undefined, 'the caller\'s object is not mutated');
    await assert.rejects(client.create({ ...pj, metadata: { ...pj.metadata, name: 'other-ns', namespace: 'elsewhere' } }), /differs from the client's namespace/);
  });

  it('retries through 429 (honouring Retry-After) and 500 bursts', async () => {
    const pj = prowJob();
    kube.clearRequests();
    sleeps.length = 0;
    kube.faults.failNext({ verb: 'create', resource: 'prowjobs', status: 429, retryAfterSeconds: 3, count: 1 });
    kube.faults.failNext({ verb: 'create', resource: 'prowjobs', status: 500, count: 3 });
    assert.equal(await client.create(pj), 'created');
    assert.equal(kube.requests({ verb: 'create', resource: 'prowjobs' }).length, 5);
    assert.equal(sleeps[0], 3000, 'Retry-After: 3 is honoured');
    assert.equal(sleeps.length, 4);
    assert.ok(kube.object('prowjobs', NS, pj.metadata.name));
  });

  it('a lost response (created, then 500) and a reset connection still end in one job', async () => {
    const lost = prowJob();
    kube.faults.failNext({ verb: 'create', resource: 'prowjobs', status: 500, after: true });
    assert.equal(await client.create(lost), 'exists', 'the retry finds the job its first attempt created');
    const reset = prowJob();
    kube.faults.failNext({ verb: 'create', resource: 'prowjobs', status: 'reset' });
    assert.equal(await client.create(reset), 'created');
    assert.equal(kube.objects('prowjobs', NS).filter((o) => [lost.metadata.name, reset.metadata.name].includes(o.metadata.name)).length, 2);
  });

  it('gives up after the bounded attempts, and at once on non-transient errors', async () => {
    const few = kubeProwJobClient(kube.kubeConfig, NS, undefined, { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 });
    kube.clearRequests();
    kube.faults.failNext({ verb: 'create', resource: 'prowjobs', status: 503, count: Infinity });
    await assert.rejects(few.create(prowJob()), (e: unknown) => e instanceof KubeApiError && e.code === 503);
    assert.equal(kube.requests({ verb: 'create' }).length, 3);
    kube.faults.reset();

    kube.clearRequests();
    const invalid = prowJob();
    (invalid.spec as { type: string }).type = 'nightly';
    await assert.rejects(client.create(invalid), (e: unknown) => e instanceof KubeApiError && e.code === 422 && /spec\.type/.test(e.message));
    assert.equal(kube.requests({ verb: 'create' }).length, 1);
  });

  it('get and list', async () => {
    const a = prowJob({ name: 'list-a', pull: 7 });
    const b = prowJob({ name: 'list-b', pull: 7 });
    await client.create(b);
    await client.create(a);
    await client.create(prowJob({ name: 'list-c', pull: 8 }));
    assert.equal((await client.get('list-a'))?.spec.job, 'pull-kata-unit');
    assert.equal(await client.get('does-not-exist'), undefined);
    kube.faults.failNext({ verb: 'list', resource: 'prowjobs', status: 500 });
    const listed = await client.list({ [LABELS.pull]: '7', [LABELS.repo]: 'kata-containers' });
    assert.deepEqual(
      listed.map((p) => p.metadata.name),
      ['list-a', 'list-b'],
    );
    const paged = kubeProwJobClient(kube.kubeConfig, NS, undefined, { pageSize: 1 });
    kube.clearRequests();
    assert.deepEqual(
      (await paged.list({ [LABELS.pull]: '7' })).map((p) => p.metadata.name),
      ['list-a', 'list-b'],
    );
    assert.equal(kube.requests({ verb: 'list' }).length, 2, 'follows continue tokens');
  });

  it('updateStatus merges status; mutate can decline; an injected 409 makes it re-read', async () => {
    await client.create(prowJob({ name: 'status-1' }));
    assert.equal(await client.updateStatus('status-1', () => undefined), undefined, 'mutate said no');
    let calls = 0;
    kube.faults.failNext({ verb: 'patch', resource: 'prowjobs', name: 'status-1', status: 409 });
    const updated = await client.updateStatus('status-1', (current) => {
      calls += 1;
      return { prev_report_states: { 'github-reporter': current.status?.state ?? 'triggered' } };
    });
    assert.equal(calls, 2);
    assert.deepEqual(updated?.status?.prev_report_states, { 'github-reporter': 'triggered' });
    assert.equal(updated?.status?.state, 'triggered', 'merge-patch keeps the other status fields');
    assert.deepEqual(kube.object('prowjobs', NS, 'status-1').status, updated?.status);
  });

  it('updateStatus: a concurrent writer causes a 409, the job is re-read and mutate decides again', async () => {
    await client.create(prowJob({ name: 'conflict-2' }));
    const seen: Array<ProwJobState | undefined> = [];
    const updated = await client.updateStatus('conflict-2', (current) => {
      seen.push(current.status?.state);
      return { description: `seen ${current.status?.state}`, prev_report_states: { katabot: current.status?.state ?? 'triggered' } };
    });
    assert.equal(updated?.status?.description, 'seen triggered');

    // Hold our patch back on the server while "plank" writes; our resourceVersion is then stale.
    const rvBefore = kube.object('prowjobs', NS, 'conflict-2').metadata.resourceVersion;
    kube.faults.failNext({ verb: 'patch', resource: 'prowjobs', name: 'conflict-2', delayMs: 250 });
    const pending = client.updateStatus('conflict-2', (current) => {
      seen.push(current.status?.state);
      return { description: `seen ${current.status?.state}` };
    });
    await waitFor(() => kube.requests({ verb: 'patch', name: 'conflict-2' }).length === 2);
    await raw.patchNamespacedCustomObject({ ...PJ, namespace: NS, name: 'conflict-2', body: { status: { state: 'pending', pendingTime: '2026-01-01T00:01:00Z' } } }, merge);
    const final = await pending;
    assert.deepEqual(seen, ['triggered', 'triggered', 'pending']);
    assert.equal(final?.status?.state, 'pending', "plank's write survives");
    assert.equal(final?.status?.pendingTime, '2026-01-01T00:01:00Z');
    assert.equal(final?.status?.description, 'seen pending');
    assert.deepEqual(final?.status?.prev_report_states, { katabot: 'triggered' }, 'maps merge');
    assert.equal(final?.status?.startTime, '2026-01-01T00:00:00Z');
    assert.notEqual(final?.metadata.resourceVersion, rvBefore);
    // ours, ours (held back, then stale), plank's, ours again
    const patches = kube.requests({ verb: 'patch', name: 'conflict-2' });
    assert.deepEqual(
      patches.map((r) => r.status),
      [200, 409, 200, 200],
    );
    assert.equal(patches[0]?.contentType, 'application/merge-patch+json');

    assert.equal(await client.updateStatus('no-such-job', () => ({ state: 'aborted' })), undefined);
  });

  it('abortIncomplete aborts only incomplete presubmits of the PR, including ones Prow created', async () => {
    const mine = prowJob({ name: 'abort-mine' });
    await client.create(mine);
    // created by Prow itself (not through the adapter), already pending on a pod
    const byProw = prowJob({ name: 'abort-prow', status: { state: 'pending', startTime: '2026-01-01T00:00:00Z', pendingTime: '2026-01-01T00:00:05Z', pod_name: 'abort-prow' } });
    kube.seed({ ...byProw, metadata: { ...byProw.metadata, namespace: NS } });
    const untouched = [
      prowJob({ name: 'abort-succeeded', status: { state: 'success', startTime: '2026-01-01T00:00:00Z', completionTime: '2026-01-01T00:10:00Z' } }),
      prowJob({ name: 'abort-failed', status: { state: 'failure', startTime: '2026-01-01T00:00:00Z', completionTime: '2026-01-01T00:10:00Z' } }),
      prowJob({ name: 'abort-already', status: { state: 'aborted', startTime: '2026-01-01T00:00:00Z', description: 'Aborted by trigger plugin.' } }),
      prowJob({ name: 'abort-other-pr', pull: 43 }),
      prowJob({ name: 'abort-postsubmit', type: 'postsubmit' }),
    ];
    for (const pj of untouched) await client.create(pj);
    const before = new Map(untouched.map((pj) => [pj.metadata.name, kube.object('prowjobs', NS, pj.metadata.name).metadata.resourceVersion]));

    const aborted = await client.abortIncomplete(PR42, 'Aborted by katabot: new commits pushed.');
    assert.deepEqual(aborted.filter((n) => n.startsWith('abort-')), ['abort-mine', 'abort-prow']);
    for (const name of ['abort-mine', 'abort-prow']) {
      const pj = kube.object('prowjobs', NS, name);
      assert.equal(pj.status.state, 'aborted');
      assert.equal(pj.status.description, 'Aborted by katabot: new commits pushed.');
      assert.equal(pj.status.completionTime, undefined, 'plank completes aborted jobs, not us');
      assert.equal(pj.status.startTime, '2026-01-01T00:00:00Z');
    }
    assert.equal(kube.object('prowjobs', NS, 'abort-prow').status.pod_name, 'abort-prow');
    for (const [name, rv] of before) assert.equal(kube.object('prowjobs', NS, name).metadata.resourceVersion, rv, `${name} untouched`);
    assert.deepEqual(await client.abortIncomplete(PR42, 'again'), [], 'idempotent');
  });

  it('abortIncomplete counts an abort whose response was lost', async () => {
    await client.create(prowJob({ name: 'lost-abort', pull: 60 }));
    kube.faults.failNext({ verb: 'patch', resource: 'prowjobs', name: 'lost-abort', status: 500, after: true });
    assert.deepEqual(await client.abortIncomplete({ ...PR42, [LABELS.pull]: '60' }, 'Aborted by katabot.'), ['lost-abort']);
    assert.deepEqual(
      kube.requests({ verb: 'patch', name: 'lost-abort' }).map((r) => r.status),
      [500, 409],
      'applied, response lost; the retry conflicts with our own write and the re-read shows it applied',
    );
  });

  it('a patch whose response was lost counts as applied although it carried undefined fields (JSON drops them)', async () => {
    await client.create(prowJob({ name: 'lost-undefined' }));
    kube.faults.failNext({ verb: 'patch', resource: 'prowjobs', name: 'lost-undefined', status: 500, after: true });
    let calls = 0;
    const updated = await client.updateStatus('lost-undefined', () => {
      calls += 1;
      return { description: 'patched', url: undefined };
    });
    assert.equal(calls, 1, 'the re-read showed the patch applied: mutate was not asked again');
    assert.equal(updated?.status?.description, 'patched');
    assert.deepEqual(kube.requests({ verb: 'patch', name: 'lost-undefined' }).map((r) => r.status), [500, 409]);
  });

  it('abortIncomplete skips a job that completes while it runs, and reports partial failures', async () => {
    await client.create(prowJob({ name: 'race-1', pull: 50 }));
    await client.create(prowJob({ name: 'race-2', pull: 50 }));
    const pr50 = { ...PR42, [LABELS.pull]: '50' };
    kube.clearRequests();
    kube.faults.failNext({ verb: 'patch', resource: 'prowjobs', name: 'race-1', delayMs: 250 });
    const running = client.abortIncomplete(pr50, 'Aborted by katabot.');
    await waitFor(() => kube.requests({ verb: 'patch', name: 'race-1' }).length === 1);
    await raw.patchNamespacedCustomObject({ ...PJ, namespace: NS, name: 'race-1', body: { status: { state: 'success', completionTime: '2026-01-01T00:20:00Z' } } }, merge);
    assert.deepEqual(await running, ['race-2']);
    assert.equal(kube.object('prowjobs', NS, 'race-1').status.state, 'success', 'the completion is not clobbered');

    await client.create(prowJob({ name: 'partial-1', pull: 51 }));
    await client.create(prowJob({ name: 'partial-2', pull: 51 }));
    kube.faults.failNext({ verb: 'patch', resource: 'prowjobs', name: 'partial-1', status: 403, reason: 'Forbidden', message: 'prowjobs.prow.k8s.io "partial-1" is forbidden' });
    await assert.rejects(client.abortIncomplete({ ...PR42, [LABELS.pull]: '51' }, 'x'), (e: unknown) => {
      assert.ok(e instanceof AbortIncompleteError);
      assert.deepEqual(e.aborted, ['partial-2']);
      assert.equal(e.errors.length, 1);
      assert.match(e.message, /403/);
      return true;
    });
  });

  it('ready() explains an unreachable server and a missing CRD', async () => {
    const noCrd = await startKubeApiServer();
    try {
      await assert.rejects(kubeProwJobClient(noCrd.kubeConfig, NS).ready(), /CRD \(prowjobs\.prow\.k8s\.io\/v1\) is not installed/);
    } finally {
      await noCrd.close();
    }
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    await assert.rejects(kubeProwJobClient(kc, NS).ready(), /unreachable/);
  });
});

describe('fileProwJobClient', () => {
  let dir: string;
  before(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'katabot-pj-')), 'prowjobs');
  });
  after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('round-trips ProwJobs as YAML files', async () => {
    const client = fileProwJobClient(dir, NS);
    await client.ready();
    const pj = prowJob({ name: 'file-1' });
    assert.equal(await client.create(pj), 'created');
    assert.equal(await client.create(pj), 'exists');
    const onDisk = parseYaml(readFileSync(join(dir, 'file-1.yaml'), 'utf8')) as ProwJob;
    assert.equal(onDisk.kind, 'ProwJob');
    assert.equal(onDisk.metadata.namespace, NS);
    assert.deepEqual(onDisk.spec, pj.spec);
    assert.deepEqual(await client.get('file-1'), onDisk);
    assert.equal(await client.get('file-404'), undefined);

    await client.create(prowJob({ name: 'file-2', status: { state: 'success', startTime: '2026-01-01T00:00:00Z', completionTime: '2026-01-01T00:01:00Z' } }));
    await client.create(prowJob({ name: 'file-3', pull: 9 }));
    assert.deepEqual(
      (await client.list(PR42)).map((p) => p.metadata.name),
      ['file-1', 'file-2'],
    );

    const updated = await client.updateStatus('file-1', () => ({ prev_report_states: { a: 'pending' } }));
    assert.deepEqual(updated?.status?.prev_report_states, { a: 'pending' });
    assert.equal(updated?.status?.state, 'triggered');
    assert.equal(updated?.metadata.resourceVersion, '2');
    assert.equal(await client.updateStatus('file-1', () => undefined), undefined);

    assert.deepEqual(await client.abortIncomplete(PR42, 'Aborted by katabot.'), ['file-1']);
    const aborted = await client.get('file-1');
    assert.equal(aborted?.status?.state, 'aborted');
    assert.equal(aborted?.status?.completionTime, undefined);
    assert.equal((await client.get('file-2'))?.status?.state, 'success');
    assert.equal((await client.get('file-3'))?.status?.state, 'triggered');
    await assert.rejects(client.create(prowJob({ name: '../escape' })), /invalid prowjob name/);
  });

  it('serialises concurrent updates of one job', async () => {
    const client = fileProwJobClient(dir, NS);
    await client.create(prowJob({ name: 'file-concurrent' }));
    await Promise.all(Array.from({ length: 10 }, (_, i) => client.updateStatus('file-concurrent', () => ({ prev_report_states: { [`r${i}`]: 'pending' } }))));
    const pj = await client.get('file-concurrent');
    assert.equal(Object.keys(pj?.status?.prev_report_states ?? {}).length, 10);
    assert.equal(pj?.metadata.resourceVersion, '11');
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
