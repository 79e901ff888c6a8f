// Sidecar injection for traced ProwJobs: the right security context per runtime, the shared volume, output to
// $ARTIFACTS/katabot/trace.jsonl, the trace label, and a pod spec that validates as a Kubernetes PodSpec (the
// schema of spec.pod_spec in the upstream ProwJob CRD) and as a whole ProwJob.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { DEFAULT_KATABOT_CONFIG } from '../../../src/config/types.ts';
import {
  KATA_TRACE_DIR, KATA_TRACE_SCRIPT, TRACER_CONTAINER, TRACE_READY_FILE, TRACE_RUNTIME_ANNOTATION, TRACE_VOLUME, WAIT_FOR_TRACER_SCRIPT, injectTracer,
} from '../../../src/jobs/trace.ts';
import type { ProwJob } from '../../../src/jobs/types.ts';
import { CRD_PATH, crdSkipReason, loadProwJobValidator, translateStructuralSchema } from '../../fixtures/jobs/crd-schema.ts';

const policy = DEFAULT_KATABOT_CONFIG.trace;

function prowJob(runtimeClassName?: string, containerName = 'test'): ProwJob {
  return {
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: {
      name: '0d1c6f5e-6d0b-4c3e-9d5a-1f2e3d4c5b6a',
      namespace: 'prow',
      labels: { 'created-by-prow': 'true', 'prow.k8s.io/job': 'kata-containers-ci-on-push', 'prow.k8s.io/type': 'presubmit' },
      annotations: { 'prow.k8s.io/job': 'kata-containers-ci-on-push' },
    },
    spec: {
      type: 'presubmit',
      agent: 'kubernetes',
      cluster: 'default',
      namespace: 'test-pods',
      job: 'kata-containers-ci-on-push',
      refs: { org: 'kata-containers', repo: 'kata-containers', base_ref: 'main', base_sha: 'a'.repeat(40), pulls: [{ number: 42, author: 'alice', sha: 'b'.repeat(40) }] },
      report: true,
      context: 'kata-containers-ci-on-push',
      rerun_command: '/test kata-containers-ci-on-push',
      decoration_config: { timeout: '2h0m0s', grace_period: '15m0s', gcs_configuration: { bucket: 's3://kata-ci-artifacts', path_strategy: 'explicit' }, s3_credentials_secret: 's3-credentials' },
      pod_spec: {
        ...(runtimeClassName ? { runtimeClassName } : {}),
        containers: [{
          name: containerName,
          image: 'quay.io/kata-containers/ci:latest',
          command: ['bash', '-c'],
          args: ['make test'],
          env: [{ name: 'GOPATH', value: '/go' }],
          resources: { requests: { cpu: '2', memory: '4Gi' } },
          securityContext: { privileged: true },
        }],
        volumes: [{ name: 'cache', emptyDir: {} }],
      },
    },
  };
}

function podSpecValidator(): (spec: unknown) => string[] {
  const crd = parse(readFileSync(CRD_PATH, 'utf8')) as { spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: Record<string, any> } }> } };
  const v1 = crd.spec.versions.find((v) => v.name === 'v1')!;
  const podSpecSchema = translateStructuralSchema(v1.schema.openAPIV3Schema['properties']['spec']['properties']['pod_spec']) as object;
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  const validate = ajv.compile(podSpecSchema);
  return (spec) => (validate(spec) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
}

describe('injectTracer', () => {
  it('Kata pod: tracer inside the guest with a shared PID namespace, privileged, no host mounts', () => {
    const pj = injectTracer(prowJob('kata-qemu'), policy);
    const pod = pj.spec.pod_spec!;
    assert.equal(pod.shareProcessNamespace, true);
    assert.equal(pod.hostPID, undefined);
    const tracer = pod.containers.find((c) => c.name === TRACER_CONTAINER)!;
    assert.equal(tracer.image, policy.image);
    assert.equal(tracer.securityContext?.privileged, true);
    assert.ok(!pod.volumes!.some((v) => v.hostPath), 'a hostPath in a Kata pod would come from the host, not the guest');
    assert.equal(pj.metadata.annotations?.[TRACE_RUNTIME_ANNOTATION], 'kata');
    assert.deepEqual(tracer.env?.find((e) => e.name === 'KATABOT_TRACE_RUNTIME'), { name: 'KATABOT_TRACE_RUNTIME', value: 'kata' });
  });

  it('runc pod: host PID namespace, privileged, host cgroup tree read-only for attribution', () => {
    const pj = injectTracer(prowJob(), policy);
    const pod = pj.spec.pod_spec!;
    assert.equal(pod.hostPID, true);
    assert.equal(pod.shareProcessNamespace, undefined);
    const tracer = pod.containers.find((c) => c.name === TRACER_CONTAINER)!;
    assert.equal(tracer.securityContext?.privileged, true);
    assert.ok(tracer.args!.includes('--cgroup-root'));
    assert.deepEqual(pod.volumes!.find((v) => v.hostPath)?.hostPath, { path: '/sys/fs/cgroup', type: 'Directory' });
    assert.equal(pj.metadata.annotations?.[TRACE_RUNTIME_ANNOTATION], 'runc');
  });

  it('runc pod: the Kata tracing scripts are copied into the shared volume and named in the test containers\' env', () => {
    const pod = injectTracer(prowJob(), policy).spec.pod_spec!;
    const init = pod.initContainers!.find((c) => c.name === 'katabot-kata-trace')!;
    assert.equal(init.image, policy.image);
    assert.match(init.command!.join(' '), new RegExp(`cp -r /app/scripts /app/deploy ${KATA_TRACE_DIR}/`));
    assert.deepEqual(init.volumeMounts, [{ name: TRACE_VOLUME, mountPath: '/var/run/katabot' }]);
    const env = pod.containers[0]!.env!;
    assert.deepEqual(env.find((e) => e.name === 'KATABOT_KATA_TRACE'), { name: 'KATABOT_KATA_TRACE', value: KATA_TRACE_SCRIPT });
    assert.deepEqual(env.find((e) => e.name === 'KATABOT_IMAGE'), { name: 'KATABOT_IMAGE', value: policy.image });
    assert.deepEqual(env.find((e) => e.name === 'GOPATH'), { name: 'GOPATH', value: '/go' }, 'the job\'s own env is kept');
    // a Kata job pod is not where a cluster is built: no scripts
    assert.equal(injectTracer(prowJob('kata-qemu'), policy).spec.pod_spec!.initContainers, undefined);
  });

  it('writes to $ARTIFACTS/katabot/trace.jsonl and stops on the test container\'s Prow marker file', () => {
    const tracer = injectTracer(prowJob(), policy).spec.pod_spec!.containers.find((c) => c.name === TRACER_CONTAINER)!;
    assert.deepEqual(tracer.command, ['katabot']);
    const args = tracer.args!;
    assert.equal(args[args.indexOf('--out') + 1], '$ARTIFACTS/katabot/trace.jsonl');
    assert.ok(args.includes('--sidecar'));
    assert.equal(args[args.indexOf('--until-file') + 1], '/logs/test-marker.txt');
    assert.equal(args[args.indexOf('--ready-file') + 1], TRACE_READY_FILE);
  });

  it('shares an emptyDir with the test container, which waits for the tracer then runs its own command', () => {
    const pod = injectTracer(prowJob(), policy).spec.pod_spec!;
    assert.deepEqual(pod.volumes!.find((v) => v.name === TRACE_VOLUME), { name: TRACE_VOLUME, emptyDir: {} });
    const test = pod.containers[0]!;
    assert.equal(test.name, 'test');
    assert.ok(test.volumeMounts!.some((m) => m.name === TRACE_VOLUME));
    assert.deepEqual(test.command, ['/bin/sh', '-c', WAIT_FOR_TRACER_SCRIPT, 'katabot-wait-for-tracer', 'bash', '-c', 'make test']);
    assert.equal(test.args, undefined);
    assert.ok(pod.volumes!.some((v) => v.name === 'cache'), 'existing volumes are kept');
  });

  it('labels the ProwJob katabot.dev/trace=true and leaves the input untouched', () => {
    const input = prowJob('kata-clh');
    const before = structuredClone(input);
    const pj = injectTracer(input, policy);
    assert.equal(pj.metadata.labels?.['katabot.dev/trace'], 'true');
    assert.equal(pj.metadata.labels?.['prow.k8s.io/job'], 'kata-containers-ci-on-push');
    assert.deepEqual(input, before);
  });

  it('names an unnamed test container (Prow names marker files after containers) and is idempotent', () => {
    const once = injectTracer(prowJob(undefined, ''), policy);
    assert.equal(once.spec.pod_spec!.containers[0]!.name, 'test');
    const twice = injectTracer(once, policy);
    assert.deepEqual(twice, once);
  });

  it('refuses jobs it cannot trace', () => {
    const noPod = prowJob();
    delete noPod.spec.pod_spec;
    assert.throws(() => injectTracer(noPod, policy), /no pod_spec/);
    const undecorated = prowJob();
    delete undecorated.spec.decoration_config;
    assert.throws(() => injectTracer(undecorated, policy), /not decorated/);
  });

  const skip = crdSkipReason();
  it('produces a pod_spec that validates as a Kubernetes PodSpec (CRD spec.pod_spec) and a valid ProwJob', { skip }, () => {
    const validatePodSpec = podSpecValidator();
    const validateProwJob = loadProwJobValidator();
    for (const runtime of [undefined, 'kata-qemu-tdx']) {
      const pj = injectTracer(prowJob(runtime), policy);
      assert.deepEqual(validatePodSpec(pj.spec.pod_spec), [], `runtime ${runtime ?? 'runc'}`);
      assert.deepEqual(validateProwJob(pj), [], `runtime ${runtime ?? 'runc'}`);
    }
    // the validator is not vacuous: a typo'd field is caught
    const bad = injectTracer(prowJob(), policy);
    (bad.spec.pod_spec as unknown as Record<string, unknown>)['hostPid'] = true;
    assert.notDeepEqual(validatePodSpec(bad.spec.pod_spec), []);
  });
});
