// Instances as Kubernetes objects: which workload for which target, what the agent's pod needs (privileged,
// hostPID, the program from the ConfigMap, the node), the shapes validated against the Kubernetes OpenAPI schema,
// and reading start state and `list` rows back from objects.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { builtinPackage } from '../../../src/bpf/builtin.ts';
import {
  AGENT_PATHS, PACKAGE_LABELS, buildConfigMap, buildPackageConfigMap, buildWorkload, instanceRows, instanceStart, newInstanceId, podStartState,
  type InstanceSpec, type InstanceTarget,
} from '../../../src/bpf/cluster.ts';
import { parsePackageYaml, type BpfPackage } from '../../../src/bpf/package.ts';
import { loadOpenApiValidator, type OpenApiValidator } from '../../fixtures/kustomize.ts';

const SWAGGER = join(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'kubernetes', 'openapi-v2-swagger.json.gz');
const NO_SWAGGER = existsSync(SWAGGER) ? undefined : `Kubernetes OpenAPI schema not found at ${SWAGGER} (../shared is absent)`;
if (NO_SWAGGER) console.log(`# skipping OpenAPI validation: ${NO_SWAGGER}`);

const PKG: BpfPackage = {
  meta: parsePackageYaml('name: syscount\nversion: 1.2.0+build.5\nparameters: [{name: skip_comm, default: ""}]\nevents: [{name: syscalls, map: "@syscalls", keys: [comm]}]\n', 'p'),
  source: 'tracepoint:raw_syscalls:sys_enter /${in_scope}/ { @syscalls[comm] = count(); }\n',
  origin: { kind: 'repo', path: '/repo/.katabot/probes/syscount' },
};

function spec(target: InstanceTarget, o: Partial<InstanceSpec> = {}): InstanceSpec {
  return { id: 'syscount-x2b4k', revision: 1, namespace: 'tracing', pkg: PKG, params: { skip_comm: 'sh' }, target, image: 'ghcr.io/k/katabot-tracer:v1', ...o };
}

const TARGETS: Array<[string, InstanceTarget, 'Job' | 'DaemonSet', string[] | undefined]> = [
  ['one node', { kind: 'nodes', nodes: ['worker-1'] }, 'Job', ['worker-1']],
  ['a pod (its node)', { kind: 'pod', namespace: 'test-pods', name: 'p', uid: 'u-1', node: 'worker-2' }, 'Job', ['worker-2']],
  ['several nodes', { kind: 'nodes', nodes: ['a', 'b'] }, 'DaemonSet', ['a', 'b']],
  ['all nodes', { kind: 'all-nodes' }, 'DaemonSet', undefined],
];

describe('instance objects', () => {
  for (const [what, target, kind, nodes] of TARGETS) {
    it(`${what}: a ${kind}, privileged, hostPID, the program from its ConfigMap${nodes ? `, on ${nodes.join(',')}` : ''}`, () => {
      const s = spec(target, { durationSeconds: 60 });
      const w = buildWorkload(s);
      assert.equal(w.kind, kind);
      const pod = w.object.spec!.template.spec!;
      assert.equal(pod.hostPID, true);
      assert.equal(pod.restartPolicy, kind === 'Job' ? 'Never' : 'Always');
      const c = pod.containers[0]!;
      assert.equal(c.securityContext?.privileged, true);
      assert.deepEqual(c.command, ['katabot']);
      assert.equal(c.args![0], 'bpf');
      assert.equal(c.args![1], 'agent');
      assert.ok(c.args!.includes('--duration'));
      assert.equal(c.terminationMessagePath, AGENT_PATHS.terminationLog);
      assert.deepEqual(c.readinessProbe?.exec?.command, ['test', '-e', AGENT_PATHS.ready]);
      const cmVolume = pod.volumes!.find((v) => v.configMap)!;
      assert.equal(cmVolume.configMap!.name, 'katabot-bpf-syscount-x2b4k-r1');
      assert.equal(c.volumeMounts!.find((m) => m.name === cmVolume.name)!.mountPath, AGENT_PATHS.package);
      const values = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values;
      assert.deepEqual(values, nodes);
      if (target.kind === 'pod') assert.deepEqual(c.args!.slice(c.args!.indexOf('--pod')), ['--pod', 'p', '--namespace', 'test-pods', '--pod-uid', 'u-1', '--duration', '60']);
      assert.equal(w.object.metadata!.labels![PACKAGE_LABELS.version], '1.2.0_build.5', 'a semver + is not a label character');
      assert.equal(w.object.metadata!.annotations!['katabot.dev/bpf-package-ref'], 'syscount@1.2.0+build.5');
    });
  }

  it('the ConfigMap holds the program, its metadata and parameters; a built-in only its name', () => {
    const cm = buildConfigMap(spec({ kind: 'all-nodes' }));
    assert.deepEqual(Object.keys(cm.data!).sort(), ['package.yaml', 'params.json', 'program.bt']);
    assert.equal(cm.data!['program.bt'], PKG.source);
    assert.deepEqual(JSON.parse(cm.data!['params.json']!), { skip_comm: 'sh' });
    assert.deepEqual(parsePackageYaml(cm.data!['package.yaml']!, 'cm').events, PKG.meta.events);
    const builtin = buildConfigMap(spec({ kind: 'all-nodes' }, { pkg: builtinPackage('tcp')!, params: {} }));
    assert.deepEqual(Object.keys(builtin.data!).sort(), ['builtin', 'package.yaml', 'params.json']);
    assert.equal(builtin.data!['builtin'], 'tcp');
  });

  it('instance ids keep object names DNS labels', () => {
    const id = newInstanceId('a'.repeat(40), 'x2b4k');
    assert.ok(`katabot-bpf-${id}-r999`.length <= 63, id);
  });

  describe('validate against the Kubernetes OpenAPI schema, unknown fields rejected', { skip: NO_SWAGGER }, () => {
    let validator: OpenApiValidator;
    before(() => { validator = loadOpenApiValidator(SWAGGER); });
    for (const [what, target] of TARGETS) {
      it(what, () => {
        const s = spec(target, { durationSeconds: 30 });
        const objs = [buildConfigMap(s), buildWorkload(s).object, buildPackageConfigMap(PKG, 'tracing')];
        for (const o of objs) assert.deepEqual(validator.validate(o as never), [], `${o.kind}`);
      });
    }
  });
});

function pod(status: V1Pod['status'], extra: Partial<V1Pod['metadata']> = {}): V1Pod {
  return { metadata: { name: 'p1', labels: { [PACKAGE_LABELS.instance]: 'syscount-x2b4k', [PACKAGE_LABELS.revision]: '1' }, ...extra }, spec: { containers: [], nodeName: 'n1' }, status };
}
const cs = (state: object, o: object = {}): NonNullable<V1Pod['status']>['containerStatuses'] => [{ name: 'bpftrace', ready: false, restartCount: 0, image: 'i', imageID: '', state, ...o }];

describe('podStartState', () => {
  const cases: Array<[string, V1Pod['status'], ReturnType<typeof podStartState>]> = [
    ['no status yet', undefined, { state: 'pending' }],
    ['not scheduled', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' }] }, { state: 'pending', reason: 'not scheduled: 0/3 nodes are available' }],
    ['pulling', { phase: 'Pending', containerStatuses: cs({ waiting: { reason: 'ContainerCreating' } }) }, { state: 'pending', reason: 'ContainerCreating' }],
    ['running, probes not yet attached', { phase: 'Running', containerStatuses: cs({ running: {} }) }, { state: 'pending', reason: 'Running' }],
    ['attached (ready)', { phase: 'Running', containerStatuses: cs({ running: {} }, { ready: true }) }, { state: 'ready' }],
    ['compile error (termination message)', { phase: 'Failed', containerStatuses: cs({ terminated: { exitCode: 1, message: 'program.bt:3:21: error: syntax error' } }) }, { state: 'failed', reason: 'program.bt:3:21: error: syntax error' }],
    ['crash looping (DaemonSet)', { phase: 'Running', containerStatuses: cs({ waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } }, { lastState: { terminated: { exitCode: 1, message: 'no BTF' } } }) }, { state: 'failed', reason: 'no BTF' }],
    ['image missing', { phase: 'Pending', containerStatuses: cs({ waiting: { reason: 'ImagePullBackOff', message: 'not found' } }) }, { state: 'failed', reason: 'ImagePullBackOff: not found' }],
    ['done (a --duration that ended)', { phase: 'Succeeded', containerStatuses: cs({ terminated: { exitCode: 0 } }) }, { state: 'succeeded' }],
  ];
  for (const [what, status, want] of cases) it(what, () => assert.deepEqual(podStartState(pod(status)), want));

  it('a DaemonSet has started when every node it counted runs the probes', () => {
    const ds = (desired: number | undefined): Parameters<typeof instanceStart>[0] => ({
      kind: 'DaemonSet', object: { metadata: { generation: 1 }, spec: { selector: {}, template: {} }, ...(desired !== undefined ? { status: { desiredNumberScheduled: desired, currentNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0, observedGeneration: 1 } } : {}) },
    });
    const ready = pod({ phase: 'Running', containerStatuses: cs({ running: {} }, { ready: true }) });
    assert.deepEqual(instanceStart(ds(undefined), [ready]), { done: false });
    assert.deepEqual(instanceStart(ds(2), [ready]), { done: false });
    assert.deepEqual(instanceStart(ds(1), [ready]), { done: true, ok: true });
    assert.deepEqual(instanceStart(ds(0), []), { done: true, ok: false, reason: 'no node matches: the DaemonSet schedules no pod' });
  });
});

describe('instanceRows', () => {
  it('shows each instance at its newest revision with a workload', () => {
    const s1 = spec({ kind: 'nodes', nodes: ['n1'] });
    const s2 = spec({ kind: 'nodes', nodes: ['n1'] }, { revision: 2 });
    const job1 = { ...buildWorkload(s1).object, metadata: { ...buildWorkload(s1).object.metadata, creationTimestamp: new Date('2025-01-01T00:00:00Z') } };
    const rows = instanceRows({
      configMaps: [buildConfigMap(s1), buildConfigMap(s2)],
      jobs: [job1 as never],
      daemonSets: [],
      pods: [pod({ phase: 'Running', containerStatuses: cs({ running: {} }, { ready: true }) })],
    });
    assert.deepEqual(rows, [{
      id: 'syscount-x2b4k', revision: 1, package: 'syscount', version: '1.2.0+build.5', target: 'node/n1', nodes: ['n1'],
      created: '2025-01-01T00:00:00.000Z', state: 'Running', workload: { kind: 'Job', name: 'katabot-bpf-syscount-x2b4k-r1' }, pods: ['p1'],
    }]);
  });
});
