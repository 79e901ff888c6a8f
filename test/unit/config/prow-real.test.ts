// Real job files from kubernetes/test-infra and gardener/ci-infra (test/fixtures/prow-real, sources and commits in
// its README): decoded as Prow decodes them, every presubmit's ProwJob is the one Prow's NewPresubmit builds
// (test/fixtures/prow-real/expected, per kubernetes-sigs/prow a6194089) and validates against the ProwJob CRD.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfigSnapshot, type ConfigSnapshot } from '../../../src/config/load.ts';
import { buildPostsubmitProwJob, buildPresubmitProwJob } from '../../../src/jobs/prowjob.ts';
import type { ProwJob } from '../../../src/jobs/types.ts';
import { crdSkipReason, loadProwJobValidator } from '../../fixtures/jobs/crd-schema.ts';

const ROOT = fileURLToPath(new URL('../../fixtures/prow-real/', import.meta.url));
const SOURCES = { 'kubernetes-test-infra': 'kubernetes/test-infra', 'gardener-ci-infra': 'gardener/ci-infra' } as const;
type Source = keyof typeof SOURCES;

const snapshots = new Map<Source, Promise<ConfigSnapshot>>();
function snapshot(dir: Source): Promise<ConfigSnapshot> {
  let s = snapshots.get(dir);
  if (!s) {
    s = loadConfigSnapshot({ PROW_CONFIG: join(ROOT, dir, 'config/prow/config.yaml'), JOB_CONFIG: join(ROOT, dir, 'config/jobs') });
    snapshots.set(dir, s);
  }
  return s;
}

/** The inputs the expected ProwJobs were made with (test/fixtures/prow-real/expected). */
const INPUTS = { baseRef: 'master', baseSha: '4f0d2c8e7b3a91d5c6e2f4a8b0c9d1e3f5a7b9c1', now: new Date('2026-08-22T10:00:00Z') };

function common(s: ConfigSnapshot, orgRepo: string) {
  const [org, repo] = orgRepo.split('/') as [string, string];
  return { ...INPUTS, prow: s.prow, namespace: s.prow.prowjob_namespace ?? 'default', org, repo, repoLink: `https://github.com/${orgRepo}` };
}

function presubmitProwJob(s: ConfigSnapshot, orgRepo: string, name: string): ProwJob | undefined {
  const p = s.jobs.presubmits[orgRepo]?.find((j) => j.name === name);
  if (!p) return undefined;
  return buildPresubmitProwJob({
    ...common(s, orgRepo), presubmit: p, name: '0f4ad6a9-2f0c-5f5e-9d0e-3c3b1f0e6a11', eventGuid: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    pull: { number: 4242, author: 'octocat', sha: '9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b', title: 'Update docs', headRef: 'docs', link: `https://github.com/${orgRepo}/pull/4242`, authorLink: 'https://github.com/octocat' },
  });
}

function postsubmitProwJob(s: ConfigSnapshot, orgRepo: string, name: string): ProwJob | undefined {
  const p = s.jobs.postsubmits[orgRepo]?.find((j) => j.name === name);
  if (!p) return undefined;
  return buildPostsubmitProwJob({
    ...common(s, orgRepo), postsubmit: p, name: '5e1c0b7a-3d2f-5a4b-8c6d-9e0f1a2b3c4d', eventGuid: '9bd1c4f0-cc78-11e3-81ab-4c9367dc0958',
    baseLink: `https://github.com/${orgRepo}/compare/0d1e2f3a4b5c...4f0d2c8e7b3a`,
  });
}

/** Paths where two JSON values differ, e.g. `spec.pod_spec.containers[0].env[3].value: "3600" ≠ 3600`. */
function differences(actual: unknown, expected: unknown, path = ''): string[] {
  if (Object.is(actual, expected)) return [];
  if (typeof actual === 'object' && typeof expected === 'object' && actual !== null && expected !== null && Array.isArray(actual) === Array.isArray(expected)) {
    const keys = new Set([...Object.keys(actual), ...Object.keys(expected)]);
    return [...keys].flatMap((k) => differences((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], Array.isArray(actual) ? `${path}[${k}]` : path ? `${path}.${k}` : k));
  }
  return [`${path}: ${JSON.stringify(actual)} ≠ expected ${JSON.stringify(expected)}`];
}

describe('real Prow configurations', () => {
  it('the fixture files are the published files, unmodified (git blob ids from the README)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    let dir: Source | undefined;
    let checked = 0;
    for (const line of readme.split('\n')) {
      const heading = /^## (\S+)/.exec(line)?.[1];
      if (heading) dir = (Object.entries(SOURCES).find(([, repo]) => repo === heading)?.[0] as Source | undefined) ?? dir;
      const row = /^\| ([0-9a-f]{40}) \| (\S+) \|$/.exec(line);
      if (!row || !dir) continue;
      const bytes = readFileSync(join(ROOT, dir, row[2] as string));
      const blob = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
      assert.equal(blob, row[1], `${dir}/${row[2]}`);
      checked++;
    }
    assert.equal(checked, 16);
  });

  it('issue 13 cases decode as Prow decodes them', async () => {
    const k8s = await snapshot('kubernetes-test-infra');
    const env = presubmitProwJob(k8s, 'kubernetes/kubernetes', 'pull-kubernetes-e2e-gce-correctness')?.spec.pod_spec?.containers[0]?.env ?? [];
    // From the sig-scalability preset: `value: 3600` and `value: true` arrive as strings.
    assert.deepEqual(env.find((e) => e.name === 'LOG_DUMP_SSH_TIMEOUT_SECONDS'), { name: 'LOG_DUMP_SSH_TIMEOUT_SECONDS', value: '3600' });
    assert.deepEqual(env.find((e) => e.name === 'ENABLE_PROMETHEUS_SERVER'), { name: 'ENABLE_PROMETHEUS_SERVER', value: 'true' });
    const dra = presubmitProwJob(k8s, 'kubernetes/test-infra', 'pull-test-infra-node-crio-dra');
    assert.deepEqual(dra?.spec.pod_spec?.containers[0]?.resources?.limits, { cpu: '500m', memory: '2Gi' });
    const md = presubmitProwJob(k8s, 'kubernetes/cloud-provider-vsphere', 'pull-cloud-provider-vsphere-verify-markdown');
    assert.ok(md?.spec.pod_spec?.containers[0]?.args?.includes('.'), 'args: [.] is the string "."');
  });

  const expectedDir = join(ROOT, 'expected');
  for (const file of readdirSync(expectedDir).filter((f) => f.endsWith('.yaml')).sort()) {
    it(`expected/${file}: katabot builds the ProwJob Prow builds, field by field`, async () => {
      const expected = parse(readFileSync(join(expectedDir, file), 'utf8')) as ProwJob;
      const orgRepo = `${expected.spec.refs?.org}/${expected.spec.refs?.repo}`;
      const dir: Source = orgRepo.startsWith('gardener/') ? 'gardener-ci-infra' : 'kubernetes-test-infra';
      const s = await snapshot(dir);
      const actual = expected.spec.type === 'postsubmit' ? postsubmitProwJob(s, orgRepo, expected.spec.job) : presubmitProwJob(s, orgRepo, expected.spec.job);
      assert.ok(actual, `${expected.spec.job} is in the fixture config`);
      assert.deepEqual(differences(JSON.parse(JSON.stringify(actual)), expected), []);
    });
  }

  const skip = crdSkipReason();
  it('every presubmit and postsubmit of the fixture configs builds a ProwJob the CRD accepts', { skip }, async () => {
    const validate = loadProwJobValidator();
    let n = 0;
    for (const dir of Object.keys(SOURCES) as Source[]) {
      const s = await snapshot(dir);
      for (const [orgRepo, jobs] of Object.entries(s.jobs.presubmits)) {
        for (const p of jobs) {
          assert.deepEqual(validate(presubmitProwJob(s, orgRepo, p.name)), [], `${orgRepo} ${p.name}`);
          n++;
        }
      }
      for (const [orgRepo, jobs] of Object.entries(s.jobs.postsubmits)) {
        for (const p of jobs) {
          assert.deepEqual(validate(postsubmitProwJob(s, orgRepo, p.name)), [], `${orgRepo} ${p.name}`);
          n++;
        }
      }
    }
    assert.ok(n >= 60, `${n} jobs`);
  });
});
