// What a traced Kata job installs (scripts/kata-trace.sh, deploy/kata-trace/): the rendered objects validate
// against the Kubernetes OpenAPI schema; the webhook can never block a pod and only sees the traced namespaces;
// the generated certificate is one a TLS client verifies for the webhook's service name (checked against the real
// `katabot inject` HTTPS server); the containers' arguments are flags the CLI accepts; the collector's RBAC is
// exactly what it asks the API for (measured on the API-server double); and the genpolicy wrapper adds the tracer to
// the YAML before the real genpolicy runs, with its arguments unchanged.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { startWebhook } from '../../src/cli/inject.ts';
import { DEFAULT_GUEST_INJECTION, GUEST_TRACER_CONTAINER, type AdmissionReview } from '../../src/jobs/inject.ts';
import { kubernetesPodDirectory } from '../../src/tracer/collector.ts';
import { startKubeApiServer } from '../fixtures/kube-apiserver.ts';
import { loadOpenApiValidator, type K8sObject } from '../fixtures/kustomize.ts';

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = join(ROOT, 'scripts', 'kata-trace.sh');
const KATABOT = join(ROOT, 'bin', 'katabot.js');
const SWAGGER = join(ROOT, '..', 'shared', 'kubernetes', 'openapi-v2-swagger.json.gz');
const NO_SWAGGER = existsSync(SWAGGER) ? undefined : `Kubernetes OpenAPI schema not found at ${SWAGGER} (../shared is absent)`;
const NO_OPENSSL = spawnSync('openssl', ['version']).status === 0 ? undefined : 'openssl is not installed (the script makes the webhook\'s certificate with it)';

async function render(env: Record<string, string> = {}): Promise<K8sObject[]> {
  const { stdout } = await execFileAsync('bash', [SCRIPT, 'render'], { env: { ...process.env, ...env }, maxBuffer: 8 * 1024 * 1024 });
  return parseAllDocuments(stdout).map((d) => d.toJS() as K8sObject).filter(Boolean);
}

const find = (objs: K8sObject[], kind: string, name: string): K8sObject => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `no ${kind} ${name}`);
  return o;
};

describe('scripts/kata-trace.sh render', { skip: NO_OPENSSL }, () => {
  let objs: K8sObject[];
  before(async () => { objs = await render({ KATABOT_IMAGE: 'registry.example/katabot-tracer:v1', KATABOT_TRACE_NAMESPACES: 'kata-containers-k8s-tests,other' }); });

  it('renders the namespace, the webhook and the collectors, every placeholder filled', () => {
    assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`), [
      'Namespace/katabot', 'ServiceAccount/katabot-inject', 'Secret/katabot-inject-tls', 'Deployment/katabot-inject', 'Service/katabot-inject',
      'MutatingWebhookConfiguration/katabot-guest-tracer', 'ServiceAccount/katabot-collector', 'ClusterRole/katabot-collector',
      'ClusterRoleBinding/katabot-collector', 'DaemonSet/katabot-collector',
    ]);
    assert.doesNotMatch(JSON.stringify(objs), /\$\{/);
  });

  it('every object validates against the Kubernetes OpenAPI schema', { skip: NO_SWAGGER }, () => {
    const v = loadOpenApiValidator(SWAGGER);
    for (const o of objs) assert.deepEqual(v.validate(o), [], `${o.kind}/${o.metadata.name}`);
  });

  it('the webhook never blocks a pod, is quick, and only sees pods created in the traced namespaces', () => {
    const [w] = find(objs, 'MutatingWebhookConfiguration', 'katabot-guest-tracer').webhooks;
    assert.equal(w.failurePolicy, 'Ignore');
    assert.ok(w.timeoutSeconds <= 5);
    assert.equal(w.sideEffects, 'None');
    assert.deepEqual(w.rules, [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }]);
    assert.deepEqual(w.namespaceSelector.matchExpressions, [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['kata-containers-k8s-tests', 'other'] }]);
    assert.deepEqual(w.clientConfig.service, { namespace: 'katabot', name: 'katabot-inject', path: '/mutate', port: 443 });
  });

  it('the collector listens on the node\'s address at the port the injected tracer is told', () => {
    const ds = find(objs, 'DaemonSet', 'katabot-collector');
    const pod = ds.spec.template.spec;
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.containers[0].image, 'registry.example/katabot-tracer:v1');
    assert.equal(pod.containers[0].securityContext.privileged, true);
    const args: string[] = pod.containers[0].args;
    assert.equal(args[args.indexOf('--port') + 1], String(DEFAULT_GUEST_INJECTION.collectorPort));
    const inject: string[] = find(objs, 'Deployment', 'katabot-inject').spec.template.spec.containers[0].args;
    assert.equal(inject[inject.indexOf('--collector-port') + 1], String(DEFAULT_GUEST_INJECTION.collectorPort));
    assert.equal(inject[inject.indexOf('--image') + 1], 'registry.example/katabot-tracer:v1');
  });

  it('the webhook\'s arguments are flags katabot inject accepts, and give the tracer the image', async () => {
    const args: string[] = find(objs, 'Deployment', 'katabot-inject').spec.template.spec.containers[0].args;
    const { stdout } = await execFileAsync(process.execPath, [KATABOT, ...args, '--yaml', join(ROOT, 'test/fixtures/kata-workloads/job.yaml')]);
    const [job] = parseAllDocuments(stdout).map((d) => d.toJS());
    const tracer = job.spec.template.spec.initContainers.find((c: { name: string }) => c.name === GUEST_TRACER_CONTAINER);
    assert.equal(tracer.image, 'registry.example/katabot-tracer:v1');
  });

  it('the collector\'s arguments are flags katabot collect accepts', () => {
    const args: string[] = find(objs, 'DaemonSet', 'katabot-collector').spec.template.spec.containers[0].args.map((a: string) => a.replace('$(NODE_NAME)', 'node-1'));
    // --finish with a port nobody listens on: the flags parse, then it finds no collector
    const r = spawnSync(process.execPath, [KATABOT, ...args, '--finish', '--port', '1', '--timeout', '2'], { encoding: 'utf8' });
    assert.doesNotMatch(r.stderr, /unknown option|error: /);
    assert.match(r.stderr, /no collector on port 1/);
  });

  it('the certificate is one a TLS client verifies for the webhook\'s service, as the API server does', async () => {
    const [w] = find(objs, 'MutatingWebhookConfiguration', 'katabot-guest-tracer').webhooks;
    const secret = find(objs, 'Secret', 'katabot-inject-tls');
    const ca = Buffer.from(w.clientConfig.caBundle, 'base64');
    const server = await startWebhook({
      port: 0, host: '127.0.0.1', cert: Buffer.from(secret.data['tls.crt'], 'base64'), key: Buffer.from(secret.data['tls.key'], 'base64'),
      policy: DEFAULT_GUEST_INJECTION, log: () => {},
    });
    try {
      const port = (server.address() as { port: number }).port;
      const review: AdmissionReview = {
        apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
        request: { uid: 'r1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: 'kata-containers-k8s-tests', object: { metadata: { name: 'p' }, spec: { runtimeClassName: 'kata-qemu', containers: [{ name: 'c', image: 'busybox' }] } } },
      };
      const post = (servername: string): Promise<AdmissionReview> => new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/mutate', method: 'POST', ca, servername, headers: { 'content-type': 'application/json' } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => { body += c; });
          res.on('end', () => resolve(JSON.parse(body) as AdmissionReview));
        });
        req.once('error', reject);
        req.end(JSON.stringify(review));
      });
      const answer = await post('katabot-inject.katabot.svc');
      assert.equal(answer.response?.uid, 'r1');
      assert.equal(answer.response?.patchType, 'JSONPatch');
      await assert.rejects(post('some-other.example'), /altnames|Hostname/);
    } finally {
      server.close();
    }
  });
});

describe('the collector\'s RBAC', () => {
  it('grants exactly the verbs the collector uses, measured on the API-server double', { skip: NO_OPENSSL }, async () => {
    const api = await startKubeApiServer();
    try {
      const dir = await kubernetesPodDirectory(undefined, () => {}, api.kubeConfig);
      dir.want('some-uid');
      await new Promise((r) => setTimeout(r, 300));
      const used = new Set(api.requests().map((q) => `${q.verb} ${q.resource}`));
      const role = find(await render(), 'ClusterRole', 'katabot-collector');
      const granted = new Set<string>(role.rules.flatMap((r: { resources: string[]; verbs: string[] }) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${res}`))));
      assert.deepEqual([...used].sort(), [...granted].sort());
    } finally {
      await api.close();
    }
  });
});

describe('scripts/genpolicy-katabot', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'katabot-genpolicy-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('adds the tracer to the YAML given with -y, then runs the real genpolicy with the same arguments', () => {
    const yaml = join(dir, 'busybox-pod.yaml');
    writeFileSync(yaml, readFileSync(join(ROOT, 'test/fixtures/kata-workloads/busybox-pod.yaml'), 'utf8').replace('runtimeClassName: kata', 'runtimeClassName: kata-qemu-coco-dev'));
    // stands in for /opt/kata/bin/genpolicy: records what it was given
    const real = join(dir, 'genpolicy');
    writeFileSync(real, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\ncp "$3" "${dir}/seen.yaml"\n`);
    chmodSync(real, 0o755);
    // katabot on PATH
    const bin = join(dir, 'bin');
    spawnSync('mkdir', ['-p', bin]);
    writeFileSync(join(bin, 'katabot'), `#!/bin/sh\nexec "${process.execPath}" "${KATABOT}" "$@"\n`);
    chmodSync(join(bin, 'katabot'), 0o755);
    const r = spawnSync(join(ROOT, 'scripts', 'genpolicy-katabot'), ['-u', '-y', yaml, '-p', '/settings/rules.rego', '-j', '/settings'], {
      env: { ...process.env, PATH: `${bin}:${process.env['PATH']}`, KATABOT_REAL_GENPOLICY: real, KATABOT_IMAGE: 'registry.example/katabot-tracer:v1' }, encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readFileSync(join(dir, 'args'), 'utf8').trim().split('\n'), ['-u', '-y', yaml, '-p', '/settings/rules.rego', '-j', '/settings']);
    const [pod] = parseAllDocuments(readFileSync(join(dir, 'seen.yaml'), 'utf8')).map((d) => d.toJS());
    assert.deepEqual(pod.spec.containers.map((c: { name: string }) => c.name), ['first-test-container', 'second-test-container']);
    assert.equal(pod.spec.initContainers.at(-1).name, GUEST_TRACER_CONTAINER);
    assert.equal(pod.spec.initContainers.at(-1).image, 'registry.example/katabot-tracer:v1');
  });
});
