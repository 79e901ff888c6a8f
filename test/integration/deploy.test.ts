// Deployment artifacts (deploy/, Dockerfile): every kustomize overlay renders with the real `kubectl kustomize`
// and validates against the Kubernetes OpenAPI schema; RBAC grants exactly the verbs the code uses (measured
// against the Kubernetes API double); the example job config loads with katabot's own loader; plugins.yaml has
// Prow's shape and exactly the handled events; the Deployment sets only variables katabot reads.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CustomObjectsApi, KubeConfig, makeInformer, type KubernetesObject } from '@kubernetes/client-node';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { kubeProwJobClient } from '../../src/adapters/kube.ts';
import { loadConfigSnapshot, type ConfigSnapshot } from '../../src/config/load.ts';
import { APP_ONLY_ACTIONS, eventsViaHook } from '../../src/config/plugins-config.ts';
import { REGISTRATIONS } from '../../src/handlers/index.ts';
import { buildPeriodicProwJob, buildPresubmitProwJob } from '../../src/jobs/prowjob.ts';
import { presubmitsFor } from '../../src/jobs/select.ts';
import { injectTracer, TRACER_CONTAINER } from '../../src/jobs/trace.ts';
import { LABELS, type ProwJob } from '../../src/jobs/types.ts';
import { type Presubmit } from '../../src/config/prow-types.ts';
import { isTdxJob } from '../../src/policy/tdx.ts';
import { startKubeApiServer, type KubeApiDouble } from '../fixtures/kube-apiserver.ts';
import { kustomizationDirs, kustomizeBuild, kustomizeUnavailable, loadOpenApiValidator, type K8sObject, type OpenApiValidator } from '../fixtures/kustomize.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHARED = join(ROOT, '..', 'shared');
const SWAGGER = join(SHARED, 'kubernetes', 'openapi-v2-swagger.json.gz');
const CRD = join(SHARED, 'prow', 'prowjob_customresourcedefinition.yaml');
const PROW = join(ROOT, 'deploy', 'prow');
const EXAMPLES = join(PROW, 'examples');
const ORG_REPO = 'kata-containers/kata-containers';

const NO_KUSTOMIZE = await kustomizeUnavailable();
const NO_SWAGGER = existsSync(SWAGGER) ? undefined : `Kubernetes OpenAPI schema not found at ${SWAGGER} (../shared is absent)`;
const NO_CRD = existsSync(CRD) ? undefined : `upstream ProwJob CRD not found at ${CRD} (../shared is absent)`;
if (NO_KUSTOMIZE) console.log(`# skipping rendered-manifest tests: ${NO_KUSTOMIZE}`);
if (NO_SWAGGER) console.log(`# skipping OpenAPI validation: ${NO_SWAGGER}`);
if (NO_CRD) console.log(`# skipping RBAC measurement: ${NO_CRD}`);

/** Every kustomization under deploy/, relative to the repo root (bases and components render on their own too). */
const DIRS = kustomizationDirs(join(ROOT, 'deploy'), ROOT);
const rendered = new Map<string, K8sObject[]>();

const find = (objs: readonly K8sObject[], kind: string, name: string): K8sObject | undefined => objs.find((o) => o.kind === kind && o.metadata.name === name);
const must = (objs: readonly K8sObject[], kind: string, name: string, where: string): K8sObject => {
  const o = find(objs, kind, name);
  assert.ok(o, `${where}: no ${kind} ${name}`);
  return o;
};

before(async () => {
  if (NO_KUSTOMIZE) return;
  const results = await Promise.all(DIRS.map(async (d) => [d, await kustomizeBuild(join(ROOT, d))] as const));
  for (const [d, objs] of results) rendered.set(d, objs);
});

describe('kustomize overlays', { skip: NO_KUSTOMIZE }, () => {
  it('finds the Prow install, its base, the Redis, the tracer and the AKS overlay', () => {
    for (const d of ['deploy/prow/base', 'deploy/prow/redis', 'deploy/prow/overlays/prow', 'deploy/prow/tracer', 'deploy/aks/kustomize'])
      assert.ok(DIRS.includes(d), `${d} has no kustomization.yaml (found: ${DIRS.join(', ')})`);
  });

  it('every overlay renders to uniquely named objects', () => {
    for (const [dir, objs] of rendered) {
      assert.ok(objs.length > 0, `${dir} renders nothing`);
      const keys = objs.map((o) => `${o.apiVersion}/${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
      assert.equal(new Set(keys).size, keys.length, `${dir}: duplicate objects`);
    }
  });

  describe('every object validates against the Kubernetes OpenAPI schema, unknown fields rejected', { skip: NO_SWAGGER }, () => {
    let validator: OpenApiValidator;
    before(() => {
      validator = loadOpenApiValidator(SWAGGER);
    });

    it('the validator rejects an unknown field, a wrong type and a missing required field', () => {
      const deploy = structuredClone(must(rendered.get('deploy/prow/overlays/prow')!, 'Deployment', 'katabot', 'overlays/prow'));
      assert.deepEqual(validator.validate(deploy), []);
      deploy.spec.template.spec.containers[0].livenesProbe = {};
      deploy.spec.replicas = 'two';
      delete deploy.spec.selector;
      const errors = validator.validate(deploy).join('\n');
      assert.match(errors, /unknown field "livenesProbe"/);
      assert.match(errors, /\/spec\/replicas: must be integer/);
      assert.match(errors, /must have required property 'selector'/);
    });

    for (const dir of DIRS) {
      it(dir, () => {
        const problems: string[] = [];
        for (const o of rendered.get(dir) ?? []) {
          for (const e of validator.validate(o)) problems.push(`${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name} ${e}`);
        }
        assert.deepEqual(problems, []);
      });
    }
  });

  it('nothing is cluster-wide: no ClusterRole or ClusterRoleBinding, and every namespaced object has a namespace in installable overlays', () => {
    for (const [dir, objs] of rendered) {
      for (const o of objs) assert.ok(!/^Cluster/.test(o.kind), `${dir}: ${o.kind} ${o.metadata.name}`);
      if (dir.endsWith('/base') || dir === 'deploy/prow/redis') continue; // namespaced by the overlay that uses them
      for (const o of objs) if (o.kind !== 'Namespace') assert.ok(o.metadata.namespace, `${dir}: ${o.kind} ${o.metadata.name} has no namespace`);
    }
  });

  describe('the katabot Deployment', () => {
    const overlays = ['deploy/prow/overlays/prow', 'deploy/aks/kustomize'];
    for (const dir of overlays) {
      it(`${dir}: 2 replicas, probes, resources, non-root, read-only root, a writable /tmp`, () => {
        const objs = rendered.get(dir)!;
        const d = must(objs, 'Deployment', 'katabot', dir);
        assert.equal(d.spec.replicas, 2);
        const pod = d.spec.template.spec;
        const c = pod.containers.find((x: { name: string }) => x.name === 'katabot');
        assert.equal(c.livenessProbe.httpGet.path, '/healthz');
        assert.equal(c.readinessProbe.httpGet.path, '/readyz');
        assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory);
        assert.equal(pod.securityContext.runAsNonRoot, true);
        assert.ok(pod.securityContext.runAsUser > 0);
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
        const tmp = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/tmp');
        assert.ok(tmp, 'no /tmp mount');
        assert.ok(pod.volumes.find((v: { name: string }) => v.name === tmp.name).emptyDir, '/tmp is not an emptyDir');
        assert.equal(pod.serviceAccountName, 'katabot');
        assert.ok(find(objs, 'ServiceAccount', 'katabot'));
      });

      it(`${dir}: sets only variables katabot reads and the README documents`, () => {
        const envTs = readFileSync(join(ROOT, 'src/config/env.ts'), 'utf8');
        const reads = new Set([...envTs.matchAll(/env\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!));
        const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
        const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Endpoints'));
        const documented = new Set(table.split('\n').filter((l) => l.startsWith('| `')).flatMap((l) => [...l.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!)));
        const d = must(rendered.get(dir)!, 'Deployment', 'katabot', dir);
        const c = d.spec.template.spec.containers.find((x: { name: string }) => x.name === 'katabot');
        const names: string[] = c.env.map((e: { name: string }) => e.name);
        assert.deepEqual(names.filter((n) => !reads.has(n)), [], 'set but not read by src/config/env.ts');
        assert.deepEqual(names.filter((n) => !documented.has(n)), [], "set but not in README's configuration table");
        assert.equal(c.envFrom, undefined, 'envFrom would set variables nobody reviewed');
      });

      it(`${dir}: every file path in the environment lies in a mounted ConfigMap or Secret key`, () => {
        const objs = rendered.get(dir)!;
        const d = must(objs, 'Deployment', 'katabot', dir);
        const pod = d.spec.template.spec;
        const c = pod.containers.find((x: { name: string }) => x.name === 'katabot');
        const paths = (c.env as Array<{ name: string; value?: string }>).filter((e) => e.value?.startsWith('/'));
        assert.ok(paths.length >= 5);
        for (const { name, value } of paths) {
          const mount = (c.volumeMounts as Array<{ name: string; mountPath: string }>).find((m) => value === m.mountPath || value!.startsWith(`${m.mountPath}/`));
          assert.ok(mount, `${name}=${value} is not under a volume mount`);
          const vol = pod.volumes.find((v: { name: string }) => v.name === mount.name);
          const rest = value!.slice(mount.mountPath.length + 1);
          const source = vol.configMap ?? vol.secret;
          assert.ok(source, `${name}: volume ${vol.name} is neither a ConfigMap nor a Secret`);
          if (rest === '') continue; // a directory: JOB_CONFIG
          if (source.items) assert.ok(source.items.some((i: { path: string }) => i.path === rest), `${name}: ${rest} is not an item of ${vol.name}`);
          if (vol.configMap) {
            const cm = find(objs, 'ConfigMap', vol.configMap.name);
            // Prow's own ConfigMaps (config, job-config, plugins) exist in the cluster already; ours must carry the key.
            if (cm) assert.ok(rest in (cm.data ?? {}), `${name}: ConfigMap ${cm.metadata.name} has no key ${rest}`);
            else assert.ok(['config', 'job-config', 'plugins'].includes(vol.configMap.name), `${name}: ConfigMap ${vol.configMap.name} is neither rendered nor Prow's`);
          }
        }
      });

      it(`${dir}: the Role is in the ProwJob namespace, which is the Deployment's`, () => {
        const objs = rendered.get(dir)!;
        const d = must(objs, 'Deployment', 'katabot', dir);
        const c = d.spec.template.spec.containers.find((x: { name: string }) => x.name === 'katabot');
        const ns = c.env.find((e: { name: string }) => e.name === 'PROWJOB_NAMESPACE');
        assert.equal(ns.valueFrom.fieldRef.fieldPath, 'metadata.namespace');
        const role = must(objs, 'Role', 'katabot', dir);
        const binding = must(objs, 'RoleBinding', 'katabot', dir);
        assert.equal(role.metadata.namespace, d.metadata.namespace);
        assert.equal(binding.metadata.namespace, d.metadata.namespace);
        assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'katabot' });
        assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'katabot', namespace: d.metadata.namespace }]);
      });
    }
  });

  it('the Redis StatefulSet persists with an append-only file on a volume claim', () => {
    const objs = rendered.get('deploy/prow/overlays/prow')!;
    const sts = must(objs, 'StatefulSet', 'katabot-redis', 'overlays/prow');
    const conf = must(objs, 'ConfigMap', 'katabot-redis', 'overlays/prow').data['redis.conf'] as string;
    assert.match(conf, /^appendonly yes$/m);
    assert.match(conf, /^maxmemory-policy noeviction$/m, 'BullMQ needs noeviction');
    assert.match(conf, /^dir \/data$/m);
    const c = sts.spec.template.spec.containers[0];
    assert.ok(c.volumeMounts.some((m: { name: string; mountPath: string }) => m.name === 'data' && m.mountPath === '/data'));
    assert.equal(sts.spec.volumeClaimTemplates[0].metadata.name, 'data');
    assert.ok(find(objs, 'Service', 'katabot-redis'));
  });

  it('the tracer DaemonSet has what `katabot trace --pod` needs on a runc node', () => {
    const objs = rendered.get('deploy/prow/tracer')!;
    const ds = must(objs, 'DaemonSet', 'katabot-tracer', 'tracer');
    const pod = ds.spec.template.spec;
    assert.equal(pod.hostPID, true);
    const c = pod.containers[0];
    assert.equal(c.securityContext.privileged, true);
    const hostPaths = new Map<string, string>(pod.volumes.filter((v: any) => v.hostPath).map((v: any) => [v.name, v.hostPath.path]));
    const mounted = new Map<string, string>(c.volumeMounts.map((m: any) => [hostPaths.get(m.name), m.mountPath]));
    assert.equal(mounted.get('/sys/fs/cgroup'), '/sys/fs/cgroup');
    assert.equal(mounted.get('/sys/kernel/debug'), '/sys/kernel/debug');
    assert.match(c.image, /katabot-tracer/);
    const role = must(objs, 'Role', 'katabot-tracer', 'tracer');
    assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('RBAC grants exactly the verbs the code uses', { skip: NO_KUSTOMIZE ?? NO_CRD }, () => {
  let kube: KubeApiDouble;
  let dir: string;
  before(async () => {
    kube = await startKubeApiServer({ crds: [CRD] });
    dir = mkdtempSync(join(tmpdir(), 'katabot-deploy-'));
  });
  after(async () => {
    await kube?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The kubeconfig the Deployment mounts, pointed at the double: same auth provider, the double's token in the token file. */
  function shippedKubeConfig(objs: K8sObject[]): KubeConfig {
    const text = must(objs, 'ConfigMap', 'katabot-kubeconfig', 'overlays/prow').data.config as string;
    const cfg = parseYaml(text) as any;
    assert.equal(cfg.users[0].user['auth-provider'].name, 'tokenFile');
    assert.equal(cfg.users[0].user['auth-provider'].config.tokenFile, '/var/run/secrets/kubernetes.io/serviceaccount/token');
    assert.equal(cfg.clusters[0].cluster['certificate-authority'], '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt');
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, kube.token);
    cfg.clusters[0].cluster = { server: kube.url, 'insecure-skip-tls-verify': true }; // the double speaks plain HTTP
    cfg.users[0].user['auth-provider'].config.tokenFile = tokenFile;
    const path = join(dir, 'kubeconfig');
    writeFileSync(path, JSON.stringify(cfg));
    const kc = new KubeConfig();
    kc.loadFromFile(path); // as src/server/app.ts does with KUBECONFIG
    return kc;
  }

  it('katabot (kubeProwJobClient) and a ProwJob informer use create, get, list, watch and patch on prowjobs in one namespace', async () => {
    const objs = rendered.get('deploy/prow/overlays/prow')!;
    const ns = must(objs, 'Deployment', 'katabot', 'overlays/prow').metadata.namespace!;
    const kc = shippedKubeConfig(objs);
    const snapshot = await exampleSnapshot();
    const presubmit = presubmitsFor(snapshot.jobs, 'kata-containers', 'kata-containers').find((p) => p.name === 'pull-kata-containers-e2e-qemu')!;
    const pj = buildExample(snapshot, presubmit, 'c0ffee00-0000-4000-8000-000000000001', ns);
    kube.clearRequests();

    // Everything the adapter offers, as the handlers use it.
    const client = kubeProwJobClient(kc, ns);
    await client.ready();
    assert.equal(await client.create(pj), 'created');
    assert.equal(await client.create(pj), 'exists');
    assert.ok(await client.get(pj.metadata.name));
    const selector = { [LABELS.org]: 'kata-containers', [LABELS.repo]: 'kata-containers', [LABELS.pull]: '42' };
    assert.equal((await client.list(selector)).length, 1);
    assert.ok(await client.updateStatus(pj.metadata.name, () => ({ state: 'pending' })));
    assert.deepEqual(await client.abortIncomplete(selector, 'Aborted by katabot.'), [pj.metadata.name]);

    // The reporter follows ProwJobs with an informer: client-node's makeInformer lists, then watches.
    const api = kc.makeApiClient(CustomObjectsApi);
    const informer = makeInformer<KubernetesObject>(kc, `/apis/prow.k8s.io/v1/namespaces/${ns}/prowjobs`, () =>
      api.listNamespacedCustomObject({ group: 'prow.k8s.io', version: 'v1', namespace: ns, plural: 'prowjobs' }),
    );
    await informer.start();
    for (let i = 0; i < 100 && kube.watchCount() === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await informer.stop();

    const requests = kube.requests().filter((r) => r.verb !== 'nonresource');
    assert.ok(requests.length > 0);
    assert.deepEqual([...new Set(requests.map((r) => `${r.group}/${r.resource}`))], ['prow.k8s.io/prowjobs'], 'only ProwJobs are touched');
    assert.deepEqual([...new Set(requests.map((r) => r.namespace))], [ns], 'every request is namespaced to the ProwJob namespace');
    assert.deepEqual(requests.filter((r) => r.status === 401 || r.status === 403), [], 'the shipped kubeconfig authenticates');
    const used = [...new Set(requests.map((r) => r.verb))].sort();

    const role = must(objs, 'Role', 'katabot', 'overlays/prow');
    assert.equal(role.rules.length, 1);
    const [rule] = role.rules;
    assert.deepEqual(rule.apiGroups, ['prow.k8s.io']);
    assert.deepEqual(rule.resources, ['prowjobs']);
    assert.equal(rule.resourceNames, undefined);
    assert.deepEqual([...rule.verbs].sort(), used);
    assert.deepEqual(used, ['create', 'get', 'list', 'patch', 'watch']);
  });
});

// ---------------------------------------------------------------------------------------------------------------

async function exampleSnapshot(katabotConfig = join(PROW, 'base', 'katabot.yaml')): Promise<ConfigSnapshot> {
  return loadConfigSnapshot({ PROW_CONFIG: join(EXAMPLES, 'config.yaml'), JOB_CONFIG: join(EXAMPLES, 'job-config'), KATABOT_CONFIG: katabotConfig });
}

function buildExample(s: ConfigSnapshot, presubmit: Presubmit, name: string, namespace = 'prow'): ProwJob {
  return buildPresubmitProwJob({
    presubmit,
    prow: s.prow,
    name,
    namespace,
    org: 'kata-containers',
    repo: 'kata-containers',
    baseRef: 'main',
    baseSha: 'b'.repeat(40),
    repoLink: 'https://github.com/kata-containers/kata-containers',
    pull: {
      number: 42,
      author: 'alice',
      sha: 'a'.repeat(40),
      title: 'runtime: fix it',
      headRef: 'fix',
      link: 'https://github.com/kata-containers/kata-containers/pull/42',
      authorLink: 'https://github.com/alice',
    },
    eventGuid: 'c0ffee00-0000-4000-8000-00000000beef',
    now: new Date('2026-01-01T00:00:00Z'),
  });
}

describe('the example job config', () => {
  let s: ConfigSnapshot;
  let presubmits: Presubmit[];
  before(async () => {
    s = await exampleSnapshot();
    presubmits = presubmitsFor(s.jobs, 'kata-containers', 'kata-containers');
  });

  it("loads with katabot's loader: a Kata presubmit, a TDX presubmit, a traced variant and a nightly periodic", () => {
    assert.deepEqual(presubmits.map((p) => p.name).sort(), ['pull-kata-containers-e2e-qemu', 'pull-kata-containers-e2e-qemu-tdx', 'pull-kata-containers-e2e-qemu-traced']);
    assert.deepEqual((s.jobs.periodics ?? []).map((p) => p.name), ['periodic-kata-containers-e2e-qemu-nightly']);
    assert.match((s.jobs.periodics ?? [])[0]!.cron ?? '', /^\S+ \S+ \* \* \*$/, 'nightly: once a day');
    assert.deepEqual(Object.keys(s.jobs.presubmits ?? {}), [ORG_REPO]);
  });

  it('only the TDX job is gated by the ok-to-test-tdx label', () => {
    assert.deepEqual(presubmits.filter((p) => isTdxJob(s.katabot, p.name)).map((p) => p.name), ['pull-kata-containers-e2e-qemu-tdx']);
    assert.equal(s.katabot.tdx.label, 'ok-to-test-tdx');
  });

  it("every presubmit and the periodic become ProwJobs with Prow's decoration", () => {
    for (const p of presubmits) {
      const pj = buildExample(s, p, 'c0ffee00-0000-4000-8000-000000000002');
      assert.ok(pj.spec.decoration_config?.utility_images?.entrypoint, `${p.name}: not decorated`);
      assert.equal(pj.spec.namespace, 'test-pods');
    }
    const periodic = buildPeriodicProwJob({ periodic: s.jobs.periodics![0]!, prow: s.prow, name: 'c0ffee00-0000-4000-8000-000000000003', namespace: 'prow', now: new Date('2026-01-01T00:00:00Z') } as never);
    assert.equal(periodic.spec.type, 'periodic');
  });

  it('the traced variant is exactly what /trace makes of the Kata presubmit', () => {
    const plain = buildExample(s, presubmits.find((p) => p.name === 'pull-kata-containers-e2e-qemu')!, 'c0ffee00-0000-4000-8000-000000000004');
    const traced = buildExample(s, presubmits.find((p) => p.name === 'pull-kata-containers-e2e-qemu-traced')!, 'c0ffee00-0000-4000-8000-000000000005');
    assert.deepEqual(traced.spec.pod_spec, injectTracer(plain, s.katabot.trace).spec.pod_spec);
    assert.deepEqual(injectTracer(traced, s.katabot.trace).spec.pod_spec, traced.spec.pod_spec, 'recognised as already traced');
    assert.equal(traced.metadata.labels?.[LABELS.trace], 'true');
    const tracer = traced.spec.pod_spec!.containers.find((c) => c.name === TRACER_CONTAINER)!;
    assert.equal(tracer.image, s.katabot.trace.image);
  });

  it('the KATABOT_CONFIG ConfigMap of every overlay loads', { skip: NO_KUSTOMIZE }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'katabot-config-'));
    try {
      for (const [d, objs] of rendered) {
        const cm = find(objs, 'ConfigMap', 'katabot-config');
        if (!cm) continue;
        const file = join(dir, `${d.replaceAll('/', '_')}.yaml`);
        writeFileSync(file, cm.data['katabot.yaml']);
        const loaded = await exampleSnapshot(file);
        assert.ok(loaded.katabot.orgs.length > 0, `${d}: no orgs`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});


/**
 * Whether GitHub delivers `event.action` to repository and organization webhooks (which Prow's hook receives), from
 * GitHub's own webhook documentation as shipped in @octokit/openapi-webhooks-types: some actions ("Repository and
 * organization webhooks only receive payloads for the `created` and `completed` event types") reach only the
 * GitHub App concerned, e.g. check_run.rerequested.
 */
const WEBHOOK_DOCS = readFileSync(join(ROOT, 'node_modules', '@octokit', 'openapi-webhooks-types', 'types.d.ts'), 'utf8');
function deliveredToRepoWebhooks(eventAction: string): boolean {
  const [event, action] = eventAction.split('.') as [string, string | undefined];
  // An event without actions (push) reaches every webhook subscribed to it.
  if (action === undefined) return new RegExp(`\\n  "?${event.replaceAll('_', '-')}"?: \\{`).test(WEBHOOK_DOCS);
  const key = `"${event.replaceAll('_', '-')}-${action.replaceAll('_', '-')}": {`;
  const at = WEBHOOK_DOCS.indexOf(key);
  assert.ok(at >= 0, `GitHub's webhook docs have no ${eventAction}`);
  const doc = WEBHOOK_DOCS.slice(at, WEBHOOK_DOCS.indexOf('*/', at));
  const only = /Repository and organization webhooks only receive payloads for the (.*?) event types?/.exec(doc);
  if (!only) return true;
  return [...only[1]!.matchAll(/`([a-z_]+)`/g)].some((m) => m[1] === action);
}

// ---------------------------------------------------------------------------------------------------------------

describe('plugins.yaml', () => {
  const text = readFileSync(join(PROW, 'plugins.yaml'), 'utf8');
  const cfg = parseYaml(text) as { external_plugins?: unknown };

  it("has Prow's shape: external_plugins: {org or org/repo: [{name, endpoint, events}]}", () => {
    assert.deepEqual(Object.keys(cfg), ['external_plugins']);
    const ep = cfg.external_plugins as Record<string, unknown>;
    assert.ok(ep && typeof ep === 'object' && !Array.isArray(ep));
    const names = new Map<string, string[]>();
    for (const [key, list] of Object.entries(ep)) {
      assert.match(key, /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)?$/, `key ${key}`);
      assert.ok(Array.isArray(list), `${key}: not a list`);
      for (const p of list as Array<Record<string, unknown>>) {
        assert.deepEqual(Object.keys(p).filter((k) => !['name', 'endpoint', 'events'].includes(k)), [], `${key}: unknown fields`);
        assert.equal(typeof p['name'], 'string');
        if (p['endpoint'] !== undefined) assert.doesNotThrow(() => new URL(String(p['endpoint'])));
        if (p['events'] !== undefined) assert.ok(Array.isArray(p['events']) && p['events'].every((e) => typeof e === 'string'));
        const org = key.split('/')[0]!;
        names.set(`${org}:${String(p['name'])}`, [...(names.get(`${org}:${String(p['name'])}`) ?? []), key]);
      }
    }
    // Prow's validateExternalPlugins: a plugin may not be configured for an org and one of its repos.
    for (const [k, keys] of names) assert.ok(!(keys.some((x) => !x.includes('/')) && keys.some((x) => x.includes('/'))), `${k} at org and repo level`);
  });

  it('registers katabot for exactly the handled events that repository webhooks deliver (the rest come from the App)', () => {
    const entries = Object.values(cfg.external_plugins as Record<string, Array<{ name: string; events?: string[] }>>).flat().filter((p) => p.name === 'katabot');
    assert.ok(entries.length > 0);
    const registered = Object.values(REGISTRATIONS).flat() as string[];
    const viaHook = [...new Set(registered.filter(deliveredToRepoWebhooks).map((ea) => ea.split('.')[0]!))].sort();
    const appOnly = [...new Set(registered.map((ea) => ea.split('.')[0]!))].filter((e) => !viaHook.includes(e)).sort();
    for (const e of entries) assert.deepEqual([...(e.events ?? [])].sort(), viaHook);
    // katabot's own list (its start-up warning about plugins.yaml) agrees with GitHub's docs.
    for (const ea of registered) assert.equal(!APP_ONLY_ACTIONS.has(ea), deliveredToRepoWebhooks(ea), ea);
    assert.deepEqual(eventsViaHook(registered), viaHook);
    // Documented for the admin: these reach katabot through the GitHub App's own webhook.
    const readme = readFileSync(join(PROW, 'README.md'), 'utf8');
    for (const e of appOnly) assert.ok(readme.includes(`\`${e}\``), `deploy/prow/README.md does not explain where ${e} comes from`);
  });

  it("the endpoint is the katabot Service's port in the Prow overlay, which reaches the container's PORT", { skip: NO_KUSTOMIZE }, () => {
    const objs = rendered.get('deploy/prow/overlays/prow')!;
    const entries = Object.values(cfg.external_plugins as Record<string, Array<{ name: string; endpoint: string }>>).flat().filter((p) => p.name === 'katabot');
    for (const { endpoint } of entries) {
      const url = new URL(endpoint);
      const [svcName, ns, svc] = url.hostname.split('.');
      assert.equal(svc, 'svc', `${endpoint}: not a cluster Service address`);
      const service = must(objs, 'Service', svcName!, 'overlays/prow');
      assert.equal(service.metadata.namespace, ns);
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      const sp = service.spec.ports.find((p: { port: number }) => p.port === port);
      assert.ok(sp, `Service ${svcName} has no port ${port}`);
      const d = must(objs, 'Deployment', 'katabot', 'overlays/prow');
      assert.deepEqual(service.spec.selector, d.spec.selector.matchLabels);
      const c = d.spec.template.spec.containers.find((x: { name: string }) => x.name === 'katabot');
      const cp = c.ports.find((p: { name: string; containerPort: number }) => p.name === sp.targetPort || p.containerPort === sp.targetPort);
      assert.ok(cp, `targetPort ${sp.targetPort} is no container port`);
      assert.equal(String(cp.containerPort), c.env.find((e: { name: string }) => e.name === 'PORT').value);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  // Stages: FROM <image> AS <name>, with the instructions that follow each.
  const stages: Array<{ from: string; name: string; body: string[] }> = [];
  for (const l of lines) {
    const m = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(l);
    if (m) stages.push({ from: m[1]!, name: m[2] ?? '', body: [] });
    else stages.at(-1)?.body.push(l);
  }
  const stage = (name: string) => {
    const s = stages.find((x) => x.name === name);
    assert.ok(s, `no stage ${name}`);
    return s;
  };
  const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1] ?? '';

  it('is multi-stage on Node 24 slim', () => {
    assert.match(nodeImage, /^node:24(\.\d+)*-[a-z]+-slim$/);
    assert.deepEqual(stages.map((s) => s.name), ['build', 'deps', 'tracer', 'katabot']);
    for (const s of stages) assert.equal(s.from, '${NODE_IMAGE}');
  });

  it('builds with dev dependencies, ships production ones only', () => {
    assert.ok(stage('build').body.some((l) => /^RUN npm ci\b/.test(l) && !l.includes('--omit=dev')));
    assert.ok(stage('build').body.includes('RUN npm run build'));
    assert.ok(stage('deps').body.some((l) => /^RUN npm ci --omit=dev\b/.test(l)));
    for (const name of ['katabot', 'tracer']) {
      const body = stage(name).body;
      assert.ok(body.includes('COPY --from=deps /app/node_modules ./node_modules'), `${name}: node_modules not from deps`);
      assert.ok(body.includes('COPY --from=build /app/dist ./dist'), `${name}: dist not from build`);
      assert.ok(!body.some((l) => /^COPY\s+(\.\/)?src\b/.test(l)), `${name}: ships src/ (bin/katabot.js would run the TypeScript)`);
    }
  });

  it('the default (last) stage is the bot, non-root, running the built JS', () => {
    const bot = stages.at(-1)!;
    assert.equal(bot.name, 'katabot');
    const user = bot.body.filter((l) => l.startsWith('USER ')).at(-1);
    assert.ok(user && !/^USER\s+(root|0)(:|$)/.test(user), `runs as ${user ?? 'root'}`);
    assert.ok(bot.body.includes('ENTRYPOINT ["node", "/app/bin/katabot.js"]'));
    assert.ok(bot.body.includes('CMD ["serve"]'));
  });

  it('the tracer target has bpftrace and `katabot` on PATH (the sidecar command)', () => {
    const body = stage('tracer').body.join('\n');
    assert.match(body, /apt-get install[^\n]*\bbpftrace\b/);
    assert.match(body, /ln -s \/app\/bin\/katabot\.js \/usr\/local\/bin\/katabot/);
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const s of stages) {
      for (const l of s.body.filter((x) => x.startsWith('COPY ') && !x.includes('--from='))) {
        const parts = l.split(/\s+/).slice(1, -1);
        for (const p of parts) {
          assert.ok(existsSync(join(ROOT, p)), `${l}: ${p} does not exist`);
          assert.ok(!ignored.includes(p), `${l}: ${p} is in .dockerignore`);
        }
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('deploy/aks', () => {
  const TF = join(ROOT, 'deploy', 'aks', 'terraform');
  const files = existsSync(TF) ? readdirSync(TF).filter((f) => f.endsWith('.tf')) : [];
  const hcl = files.map((f) => readFileSync(join(TF, f), 'utf8')).join('\n');

  it('Terraform declares the cluster, an optional TDX confidential pool, Redis, artifact storage and a workload identity', () => {
    for (const r of [
      'azurerm_kubernetes_cluster',
      'azurerm_kubernetes_cluster_node_pool',
      'azurerm_redis_cache',
      'azurerm_storage_account',
      'azurerm_storage_container',
      'azurerm_user_assigned_identity',
      'azurerm_federated_identity_credential',
    ])
      assert.match(hcl, new RegExp(`resource "${r}" "`), r);
    const pool = /resource "azurerm_kubernetes_cluster_node_pool" "tdx" \{([\s\S]*?)\n\}/.exec(hcl)?.[1] ?? '';
    assert.match(pool, /count\s*=\s*var\.tdx_pool_enabled \? 1 : 0/);
    assert.match(hcl, /variable "tdx_vm_size"[\s\S]*?default\s*=\s*"Standard_(DC|EC)\d+es_v5"/);
    assert.match(hcl, /oidc_issuer_enabled\s*=\s*true/);
    assert.match(hcl, /workload_identity_enabled\s*=\s*true/);
  });

  it('every var.X is declared, and every declared variable is used', () => {
    const declared = new Set([...hcl.matchAll(/^variable "([a-z0-9_]+)"/gm)].map((m) => m[1]!));
    const used = new Set([...hcl.matchAll(/\bvar\.([a-z0-9_]+)/g)].map((m) => m[1]!));
    assert.deepEqual([...used].filter((v) => !declared.has(v)), [], 'used, not declared');
    assert.deepEqual([...declared].filter((v) => !used.has(v)), [], 'declared, not used');
  });

  it('the federated credential names the ServiceAccount the AKS overlay renders', { skip: NO_KUSTOMIZE }, () => {
    // Interpolations of variables resolve to their defaults.
    const defaults = new Map([...hcl.matchAll(/^variable "([a-z0-9_]+)" \{[^}]*?default\s*=\s*"([^"]*)"/gm)].map((m) => [m[1]!, m[2]!]));
    const resolved = hcl.replace(/\$\{var\.([a-z0-9_]+)\}/g, (whole, v: string) => defaults.get(v) ?? whole);
    const subject = /subject\s*=\s*"system:serviceaccount:([a-z0-9-]+):([a-z0-9-]+)"/.exec(resolved);
    assert.ok(subject, 'no federated subject');
    const objs = rendered.get('deploy/aks/kustomize')!;
    const sa = must(objs, 'ServiceAccount', subject[2]!, 'aks/kustomize');
    assert.equal(sa.metadata.namespace, subject[1]);
    assert.ok(sa.metadata.annotations?.['azure.workload.identity/client-id']);
    const d = must(objs, 'Deployment', 'katabot', 'aks/kustomize');
    assert.equal(d.spec.template.metadata.labels['azure.workload.identity/use'], 'true');
  });

  it('COST.md: every total is the sum of its lines', () => {
    const cost = readFileSync(join(ROOT, 'deploy', 'aks', 'COST.md'), 'utf8');
    const money = (cell: string): number => Number(cell.replace(/[^0-9.]/g, ''));
    let tables = 0;
    for (const block of cost.split(/\n(?=\| *item *\|)/i).slice(1)) {
      const rows = block.split('\n').filter((l) => l.startsWith('|')).slice(2).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
      const total = rows.find((r) => /total/i.test(r[0]!));
      assert.ok(total, 'a cost table without a total row');
      const sum = rows.filter((r) => r !== total).reduce((acc, r) => acc + money(r.at(-1)!), 0);
      assert.ok(Math.abs(sum - money(total.at(-1)!)) < 0.02, `total ${total.at(-1)} ≠ sum ${sum.toFixed(2)}`);
      tables++;
    }
    assert.ok(tables >= 2, 'a minimal and a realistic estimate');
  });
});

// Keep the YAML import used for multi-document sanity of deploy/ sources (comments, anchors): every source file parses.
describe('deploy/ YAML sources', () => {
  it('every YAML file under deploy/ parses', () => {
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : []));
    for (const f of walk(join(ROOT, 'deploy'))) {
      for (const d of parseAllDocuments(readFileSync(f, 'utf8'))) assert.deepEqual(d.errors.map((e) => e.message), [], f);
    }
  });
});
