// Where ProwJobs go: config.yaml's prowjob_namespace (gardener/ci-infra's real config sets `prow`), unless
// PROWJOB_NAMESPACE overrides it. The kube client and the reporter's watch both use it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { prowJobName } from '../../src/jobs/names.ts';
import type { ProwJob } from '../../src/jobs/types.ts';
import { startHarness, type Harness } from './harness.ts';

const GARDENER_CONFIG = readFileSync(new URL('../fixtures/prow-real/gardener-ci-infra/config/prow/config.yaml', import.meta.url), 'utf8');

function prowJob(name: string, namespace: string): ProwJob {
  return {
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: { name, namespace, labels: { 'created-by-prow': 'true' } },
    spec: { type: 'periodic', job: 'ci-gardener-unit', agent: 'kubernetes', report: true },
    status: { state: 'triggered', startTime: '2026-08-22T10:00:00Z' },
  };
}

describe('ProwJob namespace', () => {
  describe('PROWJOB_NAMESPACE unset: config.yaml decides', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ env: { PROWJOB_NAMESPACE: '' }, prowYaml: GARDENER_CONFIG });
    });
    after(() => h.close());
    it("ProwJobs land in gardener's prowjob_namespace (prow), not default", async () => {
      assert.equal(h.bot.deps.prowjobs.namespace, 'prow');
      const name = prowJobName(['namespace-test']);
      await h.bot.deps.prowjobs.create(prowJob(name, 'prow'));
      assert.ok(h.kube.objects('prowjobs', 'prow').some((o) => (o as ProwJob).metadata.name === name));
      assert.deepEqual(h.kube.objects('prowjobs', 'default'), []);
    });
  });

  describe('PROWJOB_NAMESPACE set: it wins over config.yaml', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ env: { PROWJOB_NAMESPACE: 'ci-jobs' }, prowYaml: GARDENER_CONFIG });
    });
    after(() => h.close());
    it('the environment overrides', () => assert.equal(h.bot.deps.prowjobs.namespace, 'ci-jobs'));
  });
});
