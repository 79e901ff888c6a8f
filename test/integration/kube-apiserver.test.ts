// The Kubernetes API-server double behaves like the real server, as seen through @kubernetes/client-node.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  VersionApi,
  Watch,
  makeInformer,
  setHeaderOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { startKubeApiServer, type KubeApiDouble } from '../fixtures/kube-apiserver.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHARED = join(ROOT, '..', 'shared');
const CRD = join(SHARED, 'prow', 'prowjob_customresourcedefinition.yaml');
const EXAMPLE = join(SHARED, 'prow', 'example_prowjob.yaml');
const NO_CRD = existsSync(CRD) ? undefined : `upstream ProwJob CRD not found at ${CRD} (../shared is absent)`;
if (NO_CRD) console.log(`# skipping ProwJob CRD tests: ${NO_CRD}`);

const PJ = { group: 'prow.k8s.io', version: 'v1', plural: 'prowjobs' } as const;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

/** The Status object of a failed call. */
async function statusOf(p: Promise<unknown>): Promise<{ code: number; reason?: string; message: string; details?: any }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof ApiException)) throw e;
    const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    assert.equal(body.kind, 'Status');
    assert.equal(body.code, e.code);
    return body;
  }
  assert.fail('expected the call to fail');
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function prowJob(name: string, labels: Record<string, string> = {}, extra: Record<string, unknown> = {}): any {
  return {
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: { name, labels: { 'created-by-prow': 'true', 'prow.k8s.io/type': 'presubmit', ...labels } },
    spec: { type: 'presubmit', job: 'pull-unit', agent: 'kubernetes', refs: { org: 'kata-containers', repo: 'kata-containers', pulls: [{ number: 1, author: 'a', sha: 'abc' }] } },
    status: { state: 'triggered', startTime: '2026-01-01T00:00:00Z' },
    ...extra,
  };
}

describe('kube-apiserver double: core protocol', () => {
  let kube: KubeApiDouble;
  let core: CoreV1Api;
  before(async () => {
    kube = await startKubeApiServer({ bookmarkIntervalMs: 50 });
    core = kube.kubeConfig.makeApiClient(CoreV1Api);
  });
  after(() => kube.close());

  it('serves discovery, version and health; rejects missing credentials', async () => {
    const v = await kube.kubeConfig.makeApiClient(VersionApi).getCode();
    assert.equal(v.major, '1');
    const apis = (await (await fetch(`${kube.url}/apis`, { headers: { authorization: `Bearer ${kube.token}` } })).json()) as any;
    assert.ok(apis.groups.some((g: any) => g.name === 'batch'));
    assert.equal(await (await fetch(`${kube.url}/readyz`)).text(), 'ok');
    const denied = await fetch(`${kube.url}/api/v1/namespaces/default/configmaps`);
    assert.equal(denied.status, 401);
    assert.match(readFileSync(kube.kubeconfigPath, 'utf8'), new RegExp(kube.url));
  });

  it('creates, gets, lists, replaces, patches and deletes with real status codes', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cm1', labels: { app: 'a', tier: 'x' } }, data: { k: 'v' } } });
    assert.ok(created.metadata?.uid);
    assert.ok(created.metadata?.resourceVersion);
    assert.match(String(created.metadata?.creationTimestamp?.toISOString()), /^\d{4}-/);

    const dup = await statusOf(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cm1' } } }));
    assert.equal(dup.code, 409);
    assert.equal(dup.reason, 'AlreadyExists');
    assert.equal(dup.message, 'configmaps "cm1" already exists');
    assert.deepEqual(dup.details, { name: 'cm1', kind: 'configmaps' });

    const got = await core.readNamespacedConfigMap({ namespace: 'default', name: 'cm1' });
    assert.equal(got.data?.['k'], 'v');
    const missing = await statusOf(core.readNamespacedConfigMap({ namespace: 'default', name: 'nope' }));
    assert.equal(missing.code, 404);
    assert.equal(missing.reason, 'NotFound');

    const stale = created.metadata!.resourceVersion!;
    const replaced = await core.replaceNamespacedConfigMap({ namespace: 'default', name: 'cm1', body: { ...got, data: { k: 'v2' } } });
    assert.notEqual(replaced.metadata?.resourceVersion, stale);
    const c = await statusOf(core.replaceNamespacedConfigMap({ namespace: 'default', name: 'cm1', body: { ...got, metadata: { ...got.metadata, resourceVersion: stale }, data: { k: 'v3' } } }));
    assert.equal(c.code, 409);
    assert.equal(c.reason, 'Conflict');
    assert.match(c.message, /the object has been modified/);

    const patched = await core.patchNamespacedConfigMap({ namespace: 'default', name: 'cm1', body: { data: { extra: 'e' } } }, merge);
    assert.deepEqual(patched.data, { k: 'v2', extra: 'e' });
    const jp = await core.patchNamespacedConfigMap({ namespace: 'default', name: 'cm1', body: [{ op: 'remove', path: '/data/extra' }] }, jsonPatch);
    assert.deepEqual(jp.data, { k: 'v2' });
    const failedTest = await statusOf(
      core.patchNamespacedConfigMap({ namespace: 'default', name: 'cm1', body: [{ op: 'test', path: '/metadata/resourceVersion', value: stale }, { op: 'remove', path: '/data' }] }, jsonPatch),
    );
    assert.equal(failedTest.code, 422);

    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'cm1' });
    assert.equal((await statusOf(core.readNamespacedConfigMap({ namespace: 'default', name: 'cm1' }))).code, 404);
  });

  it('supports generateName and validates object names and label values', async () => {
    const g = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { generateName: 'gen-' } } });
    assert.match(g.metadata!.name!, /^gen-[a-z0-9]{5}$/);
    const badName = await statusOf(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'Bad_Name' } } }));
    assert.equal(badName.code, 422);
    assert.equal(badName.details.causes[0].field, 'metadata.name');
    const longLabel = await statusOf(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'll', labels: { l: 'x'.repeat(64) } } } }));
    assert.equal(longLabel.code, 422);
    assert.match(longLabel.message, /metadata\.labels: Invalid value: "x+": must be no more than 63 characters/);
  });

  const selectorCases: Array<{ selector: string; want: string[] }> = [
    { selector: 'app=web', want: ['s-a', 's-b'] },
    { selector: 'app==web,tier=front', want: ['s-a'] },
    { selector: 'app!=web', want: ['s-c', 's-d'] },
    { selector: 'tier in (front, back)', want: ['s-a', 's-b', 's-c'] },
    { selector: 'tier notin (front)', want: ['s-b', 's-c', 's-d'] },
    { selector: 'tier', want: ['s-a', 's-b', 's-c'] },
    { selector: '!tier', want: ['s-d'] },
    { selector: 'app=web,!tier', want: [] },
  ];
  describe('label selectors', () => {
    before(async () => {
      const mk = (name: string, labels: Record<string, string>) => core.createNamespacedConfigMap({ namespace: 'sel', body: { metadata: { name, labels } } });
      await mk('s-a', { app: 'web', tier: 'front' });
      await mk('s-b', { app: 'web', tier: 'back' });
      await mk('s-c', { app: 'db', tier: 'back' });
      await mk('s-d', { app: 'db' });
    });
    for (const c of selectorCases) {
      it(c.selector, async () => {
        const list = await core.listNamespacedConfigMap({ namespace: 'sel', labelSelector: c.selector });
        assert.deepEqual(
          list.items.map((i) => i.metadata?.name),
          c.want,
        );
      });
    }
    it('fieldSelector metadata.name, limit/continue and a bad selector', async () => {
      const one = await core.listNamespacedConfigMap({ namespace: 'sel', fieldSelector: 'metadata.name=s-c' });
      assert.deepEqual(
        one.items.map((i) => i.metadata?.name),
        ['s-c'],
      );
      const page1 = await core.listNamespacedConfigMap({ namespace: 'sel', limit: 3 });
      assert.equal(page1.items.length, 3);
      assert.ok(page1.metadata?._continue);
      const page2 = await core.listNamespacedConfigMap({ namespace: 'sel', limit: 3, _continue: page1.metadata!._continue! });
      assert.deepEqual(
        page2.items.map((i) => i.metadata?.name),
        ['s-d'],
      );
      assert.equal((await statusOf(core.listNamespacedConfigMap({ namespace: 'sel', labelSelector: 'a in b' }))).code, 400);
    });
  });

  it('stores batch/v1 jobs, apps/v1 daemonsets and deployments, coordination leases; garbage-collects dependents', async () => {
    const batch = kube.kubeConfig.makeApiClient(BatchV1Api);
    const apps = kube.kubeConfig.makeApiClient(AppsV1Api);
    const coord = kube.kubeConfig.makeApiClient(CoordinationV1Api);
    const template = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
    const job = await batch.createNamespacedJob({ namespace: 'ci', body: { metadata: { name: 'j1' }, spec: { template: { spec: { ...template.spec, restartPolicy: 'Never' } } } } });
    assert.equal(job.metadata?.generation, 1);
    await apps.createNamespacedDaemonSet({ namespace: 'ci', body: { metadata: { name: 'ds1' }, spec: { selector: { matchLabels: { app: 'x' } }, template } } });
    await apps.createNamespacedDeployment({ namespace: 'ci', body: { metadata: { name: 'd1' }, spec: { selector: { matchLabels: { app: 'x' } }, template } } });
    await coord.createNamespacedLease({ namespace: 'ci', body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'me' } } });
    assert.equal((await apps.listNamespacedDaemonSet({ namespace: 'ci' })).items.length, 1);
    assert.equal((await coord.readNamespacedLease({ namespace: 'ci', name: 'leader' })).spec?.holderIdentity, 'me');
    const invalid = await statusOf(batch.createNamespacedJob({ namespace: 'ci', body: { metadata: { name: 'j2' }, spec: {} as any } }));
    assert.equal(invalid.code, 422);
    assert.equal(invalid.details.causes[0].field, 'spec.template');

    const owner = { apiVersion: 'batch/v1', kind: 'Job', name: 'j1', uid: job.metadata!.uid! };
    await core.createNamespacedPod({ namespace: 'ci', body: { metadata: { name: 'j1-pod', ownerReferences: [owner] }, spec: template.spec } });
    await batch.deleteNamespacedJob({ namespace: 'ci', name: 'j1', propagationPolicy: 'Background' });
    assert.deepEqual(kube.objects('pods', 'ci'), []);
  });

  it('watch: selector transitions, bookmarks, initial events, timeoutSeconds', async () => {
    await core.createNamespacedConfigMap({ namespace: 'wt', body: { metadata: { name: 'w-a', labels: { app: 'w' } } } });
    const events: string[] = [];
    let ended = false;
    const ctl = await new Watch(kube.kubeConfig).watch(
      '/api/v1/namespaces/wt/configmaps',
      { labelSelector: 'app=w', allowWatchBookmarks: true, sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', timeoutSeconds: 1 },
      (type, obj) => events.push(type === 'BOOKMARK' ? `BOOKMARK ${obj.metadata.annotations?.['k8s.io/initial-events-end'] ?? ''}`.trim() : `${type} ${obj.metadata.name} ${obj.kind}`),
      () => {
        ended = true;
      },
    );
    await until('initial events', () => events.length >= 2);
    assert.deepEqual(events.slice(0, 2), ['ADDED w-a ConfigMap', 'BOOKMARK true']);
    await core.patchNamespacedConfigMap({ namespace: 'wt', name: 'w-a', body: { metadata: { labels: { app: 'other' } } } }, merge);
    await core.patchNamespacedConfigMap({ namespace: 'wt', name: 'w-a', body: { metadata: { labels: { app: 'w' } } } }, merge);
    // A periodic bookmark can arrive before the re-entry event is streamed: wait for both.
    await until('periodic bookmark', () => events.filter((e) => e === 'BOOKMARK').length > 0);
    await until('re-entry event', () => events.filter((e) => !e.startsWith('BOOKMARK')).length >= 3);
    assert.deepEqual(
      events.filter((e) => !e.startsWith('BOOKMARK')),
      ['ADDED w-a ConfigMap', 'DELETED w-a ConfigMap', 'ADDED w-a ConfigMap'],
      'leaving and re-entering the selector look like delete and add',
    );
    await until('timeoutSeconds to end the stream', () => ended, 3000);
    ctl.abort();
  });

  it('deletes objects with finalizers in two steps', async () => {
    await core.createNamespacedConfigMap({ namespace: 'fin', body: { metadata: { name: 'f', finalizers: ['katabot.dev/test'] } } });
    await core.deleteNamespacedConfigMap({ namespace: 'fin', name: 'f' });
    const marked = await core.readNamespacedConfigMap({ namespace: 'fin', name: 'f' });
    assert.ok(marked.metadata?.deletionTimestamp);
    await core.patchNamespacedConfigMap({ namespace: 'fin', name: 'f', body: { metadata: { finalizers: null } } }, merge);
    assert.equal(kube.object('configmaps', 'fin', 'f'), undefined);
  });

  it('deletes a collection by label selector', async () => {
    for (const [name, app] of [['dc-1', 'x'], ['dc-2', 'x'], ['dc-3', 'y']] as const) await core.createNamespacedConfigMap({ namespace: 'dc', body: { metadata: { name, labels: { app } } } });
    await core.deleteCollectionNamespacedConfigMap({ namespace: 'dc', labelSelector: 'app=x' });
    assert.deepEqual(
      kube.objects('configmaps', 'dc').map((o) => o.metadata.name),
      ['dc-3'],
    );
  });

  it('injects faults: status codes with Retry-After, connection resets, lost responses', async () => {
    kube.faults.failNext({ verb: 'create', resource: 'configmaps', status: 429, retryAfterSeconds: 2 });
    const tooMany = await statusOf(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'f1' } } }));
    assert.equal(tooMany.code, 429);
    assert.equal(tooMany.reason, 'TooManyRequests');
    assert.equal(tooMany.details.retryAfterSeconds, 2);
    assert.equal(kube.object('configmaps', 'default', 'f1'), undefined);

    kube.faults.failNext({ verb: 'get', status: 'reset' });
    await assert.rejects(core.readNamespacedConfigMap({ namespace: 'default', name: 'x' }), (e: any) => !(e instanceof ApiException));

    kube.faults.failNext({ verb: 'create', resource: 'ConfigMap', status: 500, after: true });
    assert.equal((await statusOf(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'f2' } } }))).code, 500);
    assert.ok(kube.object('configmaps', 'default', 'f2'), 'the create happened although the client saw 500');
    assert.equal(kube.faults.pending(), 0);

    let closed = 0;
    const stop = kube.faults.closeWatchesEvery(30);
    const ctl = await new Watch(kube.kubeConfig).watch('/api/v1/namespaces/default/configmaps', {}, () => undefined, () => {
      closed += 1;
    });
    await until('the periodic close', () => closed === 1);
    stop();
    ctl.abort();
    assert.equal(kube.requests({ verb: 'create', resource: 'configmaps', name: undefined }).filter((r) => r.fault).length, 2);
  });
});

describe('kube-apiserver double: ProwJob CRD', { skip: NO_CRD }, () => {
  let kube: KubeApiDouble;
  let api: CustomObjectsApi;
  before(async () => {
    kube = await startKubeApiServer({ crds: [CRD], historyLimit: 50 });
    api = kube.kubeConfig.makeApiClient(CustomObjectsApi);
  });
  after(() => kube.close());

  it('accepts the upstream example ProwJob', async () => {
    const example = parseYaml(readFileSync(EXAMPLE, 'utf8'));
    // server-populated fields cannot be sent on create (as with kubectl create)
    for (const f of ['resourceVersion', 'uid', 'creationTimestamp', 'generation']) delete example.metadata[f];
    const created = await api.createNamespacedCustomObject({ ...PJ, namespace: 'default', body: example });
    assert.equal(created.metadata.name, 'test-job2');
    assert.equal(created.spec.pod_spec.containers[0].resources.limits.cpu, '100m');
    const got = await api.getNamespacedCustomObject({ ...PJ, namespace: 'default', name: 'test-job2' });
    assert.deepEqual(got.spec, created.spec);
  });

  it('rejects an invalid ProwJob with 422 Invalid and a cause per field path', async () => {
    const bad = prowJob('bad1');
    bad.spec.type = 'nightly';
    delete bad.spec.job;
    bad.spec.max_concurrency = 'two';
    bad.spec.refs.pulls[0].number = 'one';
    const s = await statusOf(api.createNamespacedCustomObject({ ...PJ, namespace: 'default', body: bad }));
    assert.equal(s.code, 422);
    assert.equal(s.reason, 'Invalid');
    assert.match(s.message, /^ProwJob\.prow\.k8s\.io "bad1" is invalid: \[/);
    const fields = s.details.causes.map((c: any) => `${c.field} ${c.reason}`).sort();
    assert.deepEqual(fields, [
      'spec.job FieldValueRequired',
      'spec.max_concurrency FieldValueTypeInvalid',
      'spec.refs.pulls[0].number FieldValueTypeInvalid',
      'spec.type FieldValueNotSupported',
    ]);
    const done = prowJob('bad2');
    done.status = { state: 'success', startTime: '2026-01-01T00:00:00Z' }; // final states require completionTime
    const s2 = await statusOf(api.createNamespacedCustomObject({ ...PJ, namespace: 'default', body: done }));
    assert.equal(s2.code, 422);
    assert.ok(s2.details.causes.some((c: any) => c.field === 'status.completionTime' && c.reason === 'FieldValueRequired'));
    const ts = prowJob('bad3');
    ts.status.startTime = 'yesterday';
    const s3 = await statusOf(api.createNamespacedCustomObject({ ...PJ, namespace: 'default', body: ts }));
    assert.deepEqual(
      s3.details.causes.map((c: any) => c.field),
      ['status.startTime'],
    );
  });

  it('treats unknown fields like the real server: Strict → 400, Ignore → pruned, Warn → pruned with a warning', async () => {
    const extra = prowJob('unknown1');
    extra.spec.decorate = true;
    extra.spec.refs.bogus = 1;
    const s = await statusOf(api.createNamespacedCustomObject({ ...PJ, namespace: 'default', body: extra }));
    assert.equal(s.code, 400);
    assert.equal(s.reason, 'BadRequest');
    // every unknown field, in document order, like the real decoder
    assert.match(s.message, /strict decoding error: unknown field "spec\.refs\.bogus", unknown field "spec\.decorate"$/);
    const pruned = await api.createNamespacedCustomObject({ ...PJ, namespace: 'default', body: extra, fieldValidation: 'Ignore' });
    assert.equal(pruned.spec.decorate, undefined);
    assert.equal(pruned.spec.refs.bogus, undefined);
    const res = await fetch(`${kube.url}/apis/prow.k8s.io/v1/namespaces/default/prowjobs?fieldValidation=Warn`, {
      method: 'POST',
      headers: { authorization: `Bearer ${kube.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...extra, metadata: { name: 'unknown2' } }),
    });
    assert.equal(res.status, 201);
    assert.match(String(res.headers.get('warning')), /unknown field \\"spec\.decorate\\"/);
  });

  it('merge-patch: resourceVersion in the patch is a precondition; PUT requires one', async () => {
    const created = await api.createNamespacedCustomObject({ ...PJ, namespace: 'default', body: prowJob('mp1') });
    const rv = created.metadata.resourceVersion;
    const p1 = await api.patchNamespacedCustomObject({ ...PJ, namespace: 'default', name: 'mp1', body: { metadata: { resourceVersion: rv }, status: { state: 'pending' } } }, merge);
    assert.equal(p1.status.state, 'pending');
    assert.equal(p1.status.startTime, '2026-01-01T00:00:00Z', 'merge-patch keeps other fields');
    assert.equal(p1.metadata.generation, 2, 'no status subresource: status changes bump generation');
    const stale = await statusOf(api.patchNamespacedCustomObject({ ...PJ, namespace: 'default', name: 'mp1', body: { metadata: { resourceVersion: rv }, status: { state: 'aborted' } } }, merge));
    assert.equal(stale.code, 409);
    assert.equal(stale.reason, 'Conflict');
    assert.equal(stale.message, 'Operation cannot be fulfilled on prowjobs.prow.k8s.io "mp1": the object has been modified; please apply your changes to the latest version and try again');
    const unconditional = await api.patchNamespacedCustomObject({ ...PJ, namespace: 'default', name: 'mp1', body: { status: { description: 'x' } } }, merge);
    assert.equal(unconditional.status.description, 'x');
    const noop = await api.patchNamespacedCustomObject({ ...PJ, namespace: 'default', name: 'mp1', body: { status: { description: 'x' } } }, merge);
    assert.equal(noop.metadata.resourceVersion, unconditional.metadata.resourceVersion, 'a no-op patch does not write');
    const invalidPatch = await statusOf(api.patchNamespacedCustomObject({ ...PJ, namespace: 'default', name: 'mp1', body: { status: { state: 'exploded' } } }, merge));
    assert.equal(invalidPatch.code, 422);
    assert.equal(invalidPatch.details.causes[0].field, 'status.state');
    const smp = await statusOf(
      api.patchNamespacedCustomObject({ ...PJ, namespace: 'default', name: 'mp1', body: { status: {} } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)),
    );
    assert.equal(smp.code, 415);
    const { metadata, ...rest } = noop;
    const noRv = await statusOf(api.replaceNamespacedCustomObject({ ...PJ, namespace: 'default', name: 'mp1', body: { ...rest, metadata: { name: metadata.name } } }));
    assert.equal(noRv.code, 422);
    assert.equal(noRv.details.causes[0].field, 'metadata.resourceVersion');
    const replaced = await api.replaceNamespacedCustomObject({ ...PJ, namespace: 'default', name: 'mp1', body: { ...noop, status: { ...noop.status, state: 'pending', description: 'y' } } });
    assert.equal(replaced.status.description, 'y');
    assert.equal((await statusOf(api.replaceNamespacedCustomObject({ ...PJ, namespace: 'default', name: 'mp1', body: noop }))).code, 409);
    assert.equal((await statusOf(api.getNamespacedCustomObject({ ...PJ, namespace: 'default', name: 'mp1/status' } as any))).code, 404);
  });

  it('lists by label selector, per namespace and cluster-wide', async () => {
    await api.createNamespacedCustomObject({ ...PJ, namespace: 'prow', body: prowJob('l1', { 'prow.k8s.io/refs.pull': '7' }) });
    await api.createNamespacedCustomObject({ ...PJ, namespace: 'prow', body: prowJob('l2', { 'prow.k8s.io/refs.pull': '8' }) });
    await api.createNamespacedCustomObject({ ...PJ, namespace: 'other', body: prowJob('l3', { 'prow.k8s.io/refs.pull': '7' }) });
    const ns = await api.listNamespacedCustomObject({ ...PJ, namespace: 'prow', labelSelector: 'prow.k8s.io/refs.pull=7' });
    assert.equal(ns.kind, 'ProwJobList');
    assert.deepEqual(
      ns.items.map((i: any) => i.metadata.name),
      ['l1'],
    );
    assert.equal(ns.items[0].kind, 'ProwJob');
    const all = await api.listClusterCustomObject({ ...PJ, labelSelector: 'prow.k8s.io/refs.pull=7' });
    assert.deepEqual(all.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`).sort(), ['other/l3', 'prow/l1']);
    assert.ok(Number(all.metadata.resourceVersion) > 0);
  });

  it('watch streams ADDED/MODIFIED/DELETED from a resourceVersion, and 410 Expired when it is too old', async () => {
    const start = (await api.listNamespacedCustomObject({ ...PJ, namespace: 'w' })).metadata.resourceVersion;
    const events: string[] = [];
    let done: unknown = 'open';
    const watch = new Watch(kube.kubeConfig);
    const ctl = await watch.watch(
      '/apis/prow.k8s.io/v1/namespaces/w/prowjobs',
      { resourceVersion: start, allowWatchBookmarks: true },
      (type, obj) => events.push(`${type} ${obj.metadata?.name ?? ''} ${obj.status?.state ?? ''}`.trim()),
      (err) => {
        done = err;
      },
    );
    await api.createNamespacedCustomObject({ ...PJ, namespace: 'w', body: prowJob('w1') });
    await api.patchNamespacedCustomObject({ ...PJ, namespace: 'w', name: 'w1', body: { status: { state: 'pending' } } }, merge);
    await api.deleteNamespacedCustomObject({ ...PJ, namespace: 'w', name: 'w1' });
    await until('three events', () => events.length >= 3);
    assert.deepEqual(events, ['ADDED w1 triggered', 'MODIFIED w1 pending', 'DELETED w1 pending']);
    ctl.abort();

    kube.faults.compact();
    const old: string[] = [];
    let oldDone: unknown = 'open';
    await watch.watch(
      '/apis/prow.k8s.io/v1/namespaces/w/prowjobs',
      { resourceVersion: start },
      (type, obj) => old.push(`${type} ${obj.code} ${obj.reason}`),
      (err) => {
        oldDone = err;
      },
    );
    await until('the stream to end', () => oldDone !== 'open');
    assert.deepEqual(old, ['ERROR 410 Expired']);
    assert.equal(oldDone, null);
    void done;
  });

  it('informer: add/update/delete, survives closed watches, re-lists after 410', async () => {
    const path = '/apis/prow.k8s.io/v1/namespaces/inf/prowjobs';
    const informer = makeInformer<KubernetesObject & { status?: { state?: string } }>(kube.kubeConfig, path, () => api.listNamespacedCustomObject({ ...PJ, namespace: 'inf' }));
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name} ${o.status?.state}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await api.createNamespacedCustomObject({ ...PJ, namespace: 'inf', body: prowJob('i1') });
    await informer.start();
    try {
      await until('initial list', () => seen.includes('add i1'));
      await api.createNamespacedCustomObject({ ...PJ, namespace: 'inf', body: prowJob('i2') });
      await api.patchNamespacedCustomObject({ ...PJ, namespace: 'inf', name: 'i1', body: { status: { state: 'pending' } } }, merge);
      await until('add + update', () => seen.includes('add i2') && seen.includes('update i1 pending'));

      const lists = () => kube.requests({ verb: 'list', resource: 'prowjobs', namespace: 'inf' }).length;
      const listsBefore = lists();
      assert.equal(kube.faults.closeAllWatches(), 1);
      await until('re-watch', () => kube.watchCount() === 1);
      await api.deleteNamespacedCustomObject({ ...PJ, namespace: 'inf', name: 'i2' });
      await until('delete after reconnect', () => seen.includes('delete i2'));
      assert.equal(lists(), listsBefore, 'a closed watch resumes from its resourceVersion without re-listing');

      // While the informer reconnects (its watch held back 300 ms), i1 is deleted and history compacted:
      // its resourceVersion is too old, the server answers 410, and the informer re-lists to find i1 gone.
      kube.faults.failNext({ verb: 'watch', resource: 'prowjobs', namespace: 'inf', delayMs: 300 });
      kube.faults.closeAllWatches();
      await api.deleteNamespacedCustomObject({ ...PJ, namespace: 'inf', name: 'i1' });
      kube.faults.compact();
      await until('delete via re-list', () => seen.includes('delete i1'), 8000);
      assert.equal(lists(), listsBefore + 1, 'the 410 made the informer re-list');
      await api.createNamespacedCustomObject({ ...PJ, namespace: 'inf', body: prowJob('i3') });
      await until('watching again', () => seen.includes('add i3'));
      assert.deepEqual(errors, []);
    } finally {
      await informer.stop();
    }
  });
});
