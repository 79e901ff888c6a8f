// Podman pods as traced pods: `podman pod ps --format json` / `podman pod inspect` objects (Podman 4.3, Debian) to
// pod facts, and label selectors to podman's label filters.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelFilters, podInfoFromPodman } from '../../../src/tracer/podman.ts';
import { TraceUsageError } from '../../../src/tracer/errors.ts';

const POD = '24174ce62b72626a89fb77a1ec16ac8be2e0525fc2a48e6b931e1210472c2e79';
const APP = '3541912e438a1fb600c6b64f09a6f6351b75cfc4976155a7cf2d0d3a79ea9cd4';
const INFRA = 'aea9afd534dd6572e179f291f66cdad7c2e54461235431ed8586d4294e0437e9';

describe('podInfoFromPodman', () => {
  const cases: Array<[string, Parameters<typeof podInfoFromPodman>[0]]> = [
    ['pod ps (Names)', { Id: POD, Name: 'backend', Labels: { 'app.kubernetes.io/name': 'backend' }, Containers: [{ Id: APP, Names: 'backend-app' }, { Id: INFRA, Names: '24174ce62b72-infra' }] }],
    ['pod inspect (Name)', { Id: POD, Name: 'backend', Labels: { 'app.kubernetes.io/name': 'backend' }, Containers: [{ Id: APP, Name: 'backend-app' }, { Id: INFRA, Name: '24174ce62b72-infra' }] }],
  ];
  for (const [name, raw] of cases) {
    it(name, () => {
      const info = podInfoFromPodman(raw, 'shop');
      assert.deepEqual({ ...info, containers: [...info.containers] }, {
        namespace: 'shop', name: 'backend', uid: POD, labels: { 'app.kubernetes.io/name': 'backend' },
        containers: [[APP, 'backend-app'], [INFRA, '24174ce62b72-infra']],
      });
    });
  }
  it('a pod without labels has none', () => {
    assert.equal(podInfoFromPodman({ Id: POD, Name: 'x', Labels: null, Containers: null }, 'default').labels, undefined);
  });
});

describe('labelFilters', () => {
  const cases: Array<[string, string[] | RegExp]> = [
    ['app.kubernetes.io/part-of=shop', ['--filter', 'label=app.kubernetes.io/part-of=shop']],
    ['app==web, tier', ['--filter', 'label=app=web', '--filter', 'label=tier']],
    ['app in (a,b)', /key=value or key terms/],
    ['app!=web', /key=value or key terms/],
  ];
  for (const [selector, want] of cases) {
    it(selector, () => {
      if (want instanceof RegExp) assert.throws(() => labelFilters(selector), (e: unknown) => e instanceof TraceUsageError && want.test(e.message));
      else assert.deepEqual(labelFilters(selector), want);
    });
  }
});
