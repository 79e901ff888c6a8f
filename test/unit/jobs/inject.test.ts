// katabot inject (src/jobs/inject.ts): the decision as a table; the webhook's JSON patch applied (RFC 6902, the
// API-server double's implementation) to the pods of Kata's own runtime-class test workloads
// (test/fixtures/kata-workloads, real files with their source named), each result validated against the
// Kubernetes OpenAPI schema with containers[0] untouched; and the genpolicy YAML injection.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import {
  DEFAULT_GUEST_INJECTION, GUEST_TRACER_ANNOTATION, GUEST_TRACER_CONTAINER, INJECTED, annotationReason, decideInjection,
  injectIntoWorkload, reviewResponse, type AdmissionReview, type GuestInjectionPolicy, type InjectionDecision,
} from '../../../src/jobs/inject.ts';
import { applyJsonPatch } from '../../fixtures/kube-apiserver.ts';
import { loadOpenApiValidator, type K8sObject, type OpenApiValidator } from '../../fixtures/kustomize.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WORKLOADS = join(ROOT, 'test', 'fixtures', 'kata-workloads');
const SWAGGER = join(ROOT, '..', 'shared', 'kubernetes', 'openapi-v2-swagger.json.gz');
const NO_SWAGGER = existsSync(SWAGGER) ? undefined : `Kubernetes OpenAPI schema not found at ${SWAGGER} (../shared is absent)`;
const NS = 'kata-containers-k8s-tests';
const policy: GuestInjectionPolicy = { ...DEFAULT_GUEST_INJECTION, image: 'registry.example/katabot-tracer:test' };

const pod = (spec: Partial<V1Pod['spec']> & object, metadata: V1Pod['metadata'] = { name: 'p' }): V1Pod => ({
  metadata, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
});

describe('decideInjection', () => {
  const cases: Array<{ name: string; pod: V1Pod; ns?: string; want: InjectionDecision['action']; detail?: string }> = [
    { name: 'a Kata pod in the test namespace', pod: pod({ runtimeClassName: 'kata-qemu' }), ns: NS, want: 'inject' },
    { name: 'the alias class kata', pod: pod({ runtimeClassName: 'kata' }), ns: NS, want: 'inject' },
    { name: 'a runtime-rs class', pod: pod({ runtimeClassName: 'kata-clh-runtime-rs' }), ns: NS, want: 'inject' },
    { name: 'a runc pod (no runtime class)', pod: pod({}), ns: NS, want: 'skip', detail: 'no runtimeClassName' },
    { name: 'another runtime class', pod: pod({ runtimeClassName: 'gvisor' }), ns: NS, want: 'skip', detail: 'runtime class gvisor is not a traced Kata class' },
    { name: 'a Kata pod in another namespace', pod: pod({ runtimeClassName: 'kata-qemu' }), ns: 'default', want: 'skip', detail: 'namespace default is not traced' },
    { name: 'the namespace from the pod when the request has none', pod: pod({ runtimeClassName: 'kata-qemu' }, { name: 'p', namespace: NS }), want: 'inject' },
    { name: 'a TDX guest: annotated, not injected', pod: pod({ runtimeClassName: 'kata-qemu-tdx' }), ns: NS, want: 'annotate', detail: 'confidential' },
    { name: 'an SNP guest on runtime-rs', pod: pod({ runtimeClassName: 'kata-qemu-snp-runtime-rs' }), ns: NS, want: 'annotate', detail: 'confidential' },
    { name: 'a pod with host namespaces', pod: pod({ runtimeClassName: 'kata-qemu', hostNetwork: true }), ns: NS, want: 'annotate', detail: 'host namespaces' },
    {
      name: 'a pod that already has the tracer (the genpolicy wrapper added it)',
      pod: pod({ runtimeClassName: 'kata-qemu', initContainers: [{ name: GUEST_TRACER_CONTAINER, image: 'x' }] }), ns: NS, want: 'skip', detail: 'already has the guest tracer',
    },
    {
      name: 'a pod whose annotation says it was decided already',
      pod: pod({ runtimeClassName: 'kata-qemu-tdx' }, { name: 'p', annotations: { [GUEST_TRACER_ANNOTATION]: 'not traced: confidential' } }), ns: NS, want: 'skip', detail: 'already decided',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decideInjection(c.pod, c.ns, policy);
      assert.equal(d.action, c.want);
      if (c.detail) assert.equal(d.action === 'skip' ? d.why : d.action === 'annotate' ? d.reason : '', c.detail);
    });
  }
  it('every namespace when none is configured', () => {
    assert.equal(decideInjection(pod({ runtimeClassName: 'kata-fc' }), 'anything', { ...policy, namespaces: [] }).action, 'inject');
  });
});

describe('reviewResponse', () => {
  const review = (object: unknown, extra: Partial<NonNullable<AdmissionReview['request']>> = {}): AdmissionReview => ({
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: { uid: 'u-1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: NS, object, ...extra },
  });
  const decodePatch = (r: AdmissionReview): Array<{ op: string; path: string; value: any }> => JSON.parse(Buffer.from(r.response!.patch!, 'base64').toString('utf8'));

  it('answers with the request uid, allowed, and a base64 JSON patch', () => {
    const { review: r } = reviewResponse(review(pod({ runtimeClassName: 'kata-qemu' })), policy);
    assert.equal(r.response!.uid, 'u-1');
    assert.equal(r.response!.allowed, true);
    assert.equal(r.response!.patchType, 'JSONPatch');
    assert.deepEqual(decodePatch(r).map((o) => `${o.op} ${o.path}`), ['add /spec/initContainers', 'add /metadata/annotations']);
  });

  it('appends to existing init containers and escapes the annotation key', () => {
    const p = pod({ runtimeClassName: 'kata-qemu', initContainers: [{ name: 'init', image: 'busybox' }] }, { name: 'p', annotations: { a: 'b' } });
    assert.deepEqual(decodePatch(reviewResponse(review(p), policy).review).map((o) => `${o.op} ${o.path}`), [
      'add /spec/initContainers/-', 'add /metadata/annotations/katabot.dev~1guest-tracer',
    ]);
  });

  const allowedWithout: Array<{ name: string; r: AdmissionReview }> = [
    { name: 'an UPDATE', r: review(pod({ runtimeClassName: 'kata-qemu' }), { operation: 'UPDATE' }) },
    { name: 'not a pod', r: review({ spec: {} }, { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }) },
    { name: 'a request without an object', r: review(undefined) },
    { name: 'a review without a request', r: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' } },
    { name: 'a runc pod', r: review(pod({})) },
  ];
  for (const c of allowedWithout) {
    it(`allows ${c.name} unchanged`, () => {
      const { review: r } = reviewResponse(c.r, policy);
      assert.equal(r.response!.allowed, true);
      assert.equal(r.response!.patch, undefined);
    });
  }

  it('a confidential guest only gets the annotation, which names the reason', () => {
    const ops = decodePatch(reviewResponse(review(pod({ runtimeClassName: 'kata-qemu-snp' })), policy).review);
    assert.deepEqual(ops, [{ op: 'add', path: '/metadata/annotations', value: { [GUEST_TRACER_ANNOTATION]: 'not traced: confidential' } }]);
    assert.equal(annotationReason(ops[0]!.value[GUEST_TRACER_ANNOTATION]), 'confidential');
    assert.equal(annotationReason(INJECTED), undefined);
  });
});

/** Pods the test workloads create (templates become pods), with the runtime class the tests would set. */
function workloadPods(file: string, runtimeClass: string): Array<{ what: string; pod: K8sObject }> {
  const out: Array<{ what: string; pod: K8sObject }> = [];
  for (const d of parseAllDocuments(readFileSync(join(WORKLOADS, file), 'utf8'))) {
    const doc = d.toJS() as K8sObject | null;
    if (!doc) continue;
    const template = doc.kind === 'Pod' ? doc : doc.kind === 'CronJob' ? doc.spec.jobTemplate.spec.template : doc.spec?.template;
    if (!template?.spec) continue;
    const spec = structuredClone(template.spec);
    if (spec.runtimeClassName) spec.runtimeClassName = runtimeClass;
    out.push({
      what: `${doc.kind} ${doc.metadata.name}`,
      pod: { apiVersion: 'v1', kind: 'Pod', metadata: { name: doc.kind === 'Pod' ? doc.metadata.name : `${doc.metadata.name}-x2x7q`, namespace: NS, ...(template.metadata?.labels ? { labels: template.metadata.labels } : {}), ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}) }, spec },
    });
  }
  return out;
}

describe('the webhook patch on Kata\'s runtime-class test workloads', () => {
  const files = readdirSync(WORKLOADS).filter((f) => f.endsWith('.yaml')).sort();
  let validator: OpenApiValidator | undefined;
  before(() => {
    if (!NO_SWAGGER) validator = loadOpenApiValidator(SWAGGER);
  });

  it('has the fixtures', () => assert.ok(files.length >= 10, files.join(', ')));

  for (const file of files) {
    for (const { what, pod: p } of workloadPods(file, 'kata-qemu')) {
      it(`${file}: ${what}`, () => {
        const { review: r, decision } = reviewResponse({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: NS, object: p } }, policy);
        assert.equal(decision.action, 'inject');
        const patched = applyJsonPatch(p, JSON.parse(Buffer.from(r.response!.patch!, 'base64').toString('utf8'))) as K8sObject;
        // the tests' targets stay where they are
        assert.deepEqual(patched.spec.containers, p.spec.containers);
        const inits = patched.spec.initContainers as V1Container[];
        assert.deepEqual(inits.slice(0, -1), p.spec.initContainers ?? []);
        const tracer = inits[inits.length - 1]!;
        assert.equal(tracer.name, GUEST_TRACER_CONTAINER);
        assert.equal(tracer.restartPolicy, 'Always');
        assert.equal(tracer.resources, undefined, 'Kata sizes the VM from resources: the tracer has none');
        assert.equal(patched.metadata.annotations?.[GUEST_TRACER_ANNOTATION], INJECTED);
        for (const [k, v] of Object.entries(p.metadata.annotations ?? {})) assert.equal(patched.metadata.annotations?.[k], v);
        if (validator) assert.deepEqual(validator.validate(patched), [], `${file}: the patched pod does not validate`);
      });
    }
  }

  it('the patched pods validate against the Kubernetes OpenAPI schema', { skip: NO_SWAGGER }, () => {
    // the validator is real: an unknown field in the tracer is caught
    const p = workloadPods('busybox-pod.yaml', 'kata-qemu')[0]!.pod;
    const { review: r } = reviewResponse({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', operation: 'CREATE', namespace: NS, object: p } }, policy);
    const patched = applyJsonPatch(p, JSON.parse(Buffer.from(r.response!.patch!, 'base64').toString('utf8'))) as K8sObject;
    patched.spec.initContainers[0].restartPolicyy = 'Always';
    assert.notDeepEqual(validator!.validate(patched), []);
  });
});

describe('injectIntoWorkload (the genpolicy wrapper)', () => {
  const docsOf = (file: string): K8sObject[] => parseAllDocuments(readFileSync(join(WORKLOADS, file), 'utf8')).map((d) => d.toJS() as K8sObject).filter(Boolean);
  const cases: Array<{ file: string; templateOf: (d: K8sObject) => { metadata?: any; spec: any } }> = [
    { file: 'busybox-pod.yaml', templateOf: (d) => d as any },
    { file: 'job.yaml', templateOf: (d) => d.spec.template },
    { file: 'nginx-deployment.yaml', templateOf: (d) => d.spec.template },
    { file: 'cron-job.yaml', templateOf: (d) => d.spec.jobTemplate.spec.template },
    { file: 'replication-controller.yaml', templateOf: (d) => d.spec.template },
    { file: 'k8s-policy-pod.yaml', templateOf: (d) => d as any },
  ];
  for (const c of cases) {
    it(`${c.file}: the tracer joins the pod template, once`, () => {
      const docs = docsOf(c.file).filter((d) => ['Pod', 'Job', 'Deployment', 'CronJob', 'ReplicationController'].includes(d.kind));
      assert.ok(docs.length > 0);
      for (const doc of docs) {
        const before = structuredClone(c.templateOf(doc).spec.containers);
        assert.equal(injectIntoWorkload(doc, policy).action, 'inject');
        const t = c.templateOf(doc);
        assert.deepEqual(t.spec.containers, before);
        assert.equal(t.spec.initContainers.at(-1).name, GUEST_TRACER_CONTAINER);
        assert.equal(t.metadata.annotations[GUEST_TRACER_ANNOTATION], INJECTED);
        // running the wrapper twice changes nothing more
        assert.equal(injectIntoWorkload(doc, policy).action, 'skip');
        assert.equal(c.templateOf(doc).spec.initContainers.filter((x: V1Container) => x.name === GUEST_TRACER_CONTAINER).length, 1);
      }
    });
  }
  it('leaves a ConfigMap alone', () => {
    assert.equal(injectIntoWorkload({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: {} }, policy).action, 'skip');
  });
  it('annotates a confidential template without adding the tracer', () => {
    const [doc] = docsOf('busybox-pod.yaml') as [K8sObject];
    doc.spec.runtimeClassName = 'kata-qemu-tdx';
    assert.equal(injectIntoWorkload(doc, policy).action, 'annotate');
    assert.equal(doc.spec.initContainers, undefined);
    assert.equal(doc.metadata.annotations?.[GUEST_TRACER_ANNOTATION], 'not traced: confidential');
  });
});
