// Every ProwJob katabot builds must validate against the upstream ProwJob CRD (structural schema, unknown fields
// rejected, ObjectMeta rules), for a realistic Kata job config.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfigSnapshot, type ConfigSnapshot } from '../../../src/config/load.ts';
import { prowJobName } from '../../../src/jobs/names.ts';
import { buildPeriodicProwJob, buildPostsubmitProwJob, buildPresubmitProwJob } from '../../../src/jobs/prowjob.ts';
import type { ProwJob } from '../../../src/jobs/types.ts';
import type { Presubmit } from '../../../src/config/prow-types.ts';
import { crdSkipReason, EXAMPLE_PROWJOB_PATH, loadProwJobValidator, type ProwJobValidator } from '../../fixtures/jobs/crd-schema.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'jobs');
const skip = crdSkipReason();
if (skip) console.log(`# skipping CRD validation: ${skip}`);

const ORG = 'kata-containers';
const REPO = 'kata-containers';
const REPO_LINK = `https://github.com/${ORG}/${REPO}`;

async function fixtureSnapshot(): Promise<ConfigSnapshot> {
  return loadConfigSnapshot({
    PROW_CONFIG: join(FIXTURES, 'prow-config.yaml'),
    JOB_CONFIG: join(FIXTURES, 'job-config'),
    KATABOT_CONFIG: join(FIXTURES, 'katabot.yaml'),
  });
}

function presubmitJob(snapshot: ConfigSnapshot, p: Presubmit, retest = false, extraLabels?: Record<string, string>): ProwJob {
  const headSha = '8f3b5c1d2e4a6b7c8d9e0f1a2b3c4d5e6f7a8b9c';
  return buildPresubmitProwJob({
    presubmit: p,
    prow: snapshot.prow,
    name: prowJobName(['72d3162e-cc78-11e3-81ab-4c9367dc0958', p.name, headSha, 'test']),
    namespace: snapshot.prow.prowjob_namespace ?? 'default',
    org: ORG,
    repo: REPO,
    baseRef: 'main',
    baseSha: '064678510782db5b382df478bb374aaa32e577ea',
    repoLink: REPO_LINK,
    pull: {
      number: 10618,
      author: 'chris-krenz',
      sha: headSha,
      title: 'ci: trigger test subset from ok-to-test-tdx label',
      headRef: 'tdx-tests-only',
      link: `${REPO_LINK}/pull/10618`,
      authorLink: 'https://github.com/chris-krenz',
    },
    eventGuid: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    now: new Date('2026-01-02T03:04:05.678Z'),
    retest,
    extraLabels,
  });
}

describe('ProwJob CRD validation', { skip }, () => {
  let validator: ProwJobValidator | undefined;
  const validate = (obj: unknown): string[] => {
    validator ??= loadProwJobValidator();
    return validator(obj);
  };

  it('accepts the upstream example ProwJob', () => {
    const example = parse(readFileSync(EXAMPLE_PROWJOB_PATH, 'utf8'));
    assert.deepEqual(validate(example), []);
  });

  it('rejects unknown fields and missing required ones (the validator is strict)', () => {
    const example = parse(readFileSync(EXAMPLE_PROWJOB_PATH, 'utf8')) as ProwJob;
    const unknownField = structuredClone(example);
    (unknownField.spec as Record<string, unknown>)['decorate'] = true;
    assert.ok(validate(unknownField).some((p) => p.includes('unknown field "decorate"')), 'spec.decorate is job-config syntax, not a ProwJob field');
    const noContainerName = structuredClone(example);
    delete (noContainerName.spec.pod_spec?.containers[0] as unknown as Record<string, unknown>)['name'];
    assert.ok(validate(noContainerName).some((p) => p.includes("must have required property 'name'")));
    const badLabel = structuredClone(example);
    badLabel.metadata.labels = { 'prow.k8s.io/job': 'x'.repeat(64) };
    assert.ok(validate(badLabel).some((p) => p.startsWith('metadata.labels[prow.k8s.io/job]')));
    const badState = structuredClone(example);
    badState.status = { state: 'running' as never };
    assert.ok(validate(badState).some((p) => p.startsWith('/status/state')));
  });

  it('accepts a presubmit ProwJob for every fixture presubmit, plain, retest and traced', async () => {
    const snapshot = await fixtureSnapshot();
    const presubmits = snapshot.jobs.presubmits[`${ORG}/${REPO}`] ?? [];
    assert.ok(presubmits.length >= 10, 'the fixture has a realistic number of presubmits');
    for (const p of presubmits) {
      for (const [retest, extra] of [[false, undefined], [true, undefined], [false, { 'katabot.dev/trace': 'true' }]] as const) {
        const pj = presubmitJob(snapshot, p, retest, extra);
        assert.deepEqual(validate(pj), [], `${p.name} (retest=${retest}, extra=${JSON.stringify(extra)})`);
      }
    }
  });

  it('accepts the fixture postsubmits and periodics', async () => {
    const snapshot = await fixtureSnapshot();
    for (const p of snapshot.jobs.postsubmits[`${ORG}/${REPO}`] ?? []) {
      const pj = buildPostsubmitProwJob({
        postsubmit: p, prow: snapshot.prow, name: prowJobName(['push', p.name]), namespace: 'prow', org: ORG, repo: REPO,
        baseRef: 'main', baseSha: '064678510782db5b382df478bb374aaa32e577ea', repoLink: REPO_LINK, eventGuid: 'a-guid', now: new Date(0),
      });
      assert.deepEqual(validate(pj), [], p.name);
    }
    assert.ok(snapshot.jobs.periodics.length >= 2);
    for (const p of snapshot.jobs.periodics) {
      const pj = buildPeriodicProwJob({ periodic: p, prow: snapshot.prow, name: prowJobName(['periodic', p.name]), namespace: 'prow', now: new Date(0) });
      assert.deepEqual(validate(pj), [], p.name);
    }
  });

  it('accepts a job with an over-long name, custom labels and no decoration', async () => {
    const snapshot = await fixtureSnapshot();
    const p: Presubmit = {
      name: 'run-k8s-tests-on-aks-cbl-mariner-clh-azure-runtime-rs-small-containerd-oci-distribution',
      context: 'Kata Containers CI / run-k8s-tests-on-aks / run-k8s-tests (cbl-mariner, clh-azure, small, oci-distribution)',
      labels: { 'kata.io/suite': 'k8s' },
      spec: { containers: [{ image: 'busybox' }, { image: 'busybox' }] as never },
    };
    const pj = presubmitJob(snapshot, p);
    assert.deepEqual(validate(pj), []);
  });
});
