// Deck links: status.url, else the Spyglass URL plank would compute, else /prowjob?prowjob=<name>.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deckBaseUrl, deckLinkForProwJob, gcsPathForJob, jobUrlPrefix, pathJoin, repoPathSegment } from '../../../src/jobs/deck.ts';
import type { ProwJob } from '../../../src/jobs/types.ts';
import type { DecorationConfig, ProwConfig } from '../../../src/config/prow-types.ts';

const PROW: ProwConfig = { plank: { job_url_prefix_config: { '*': 'https://prow.k8s.io/view/' } } };

function pj(over: { type?: ProwJob['spec']['type']; dc?: DecorationConfig; buildId?: string; url?: string; org?: string; repo?: string; pull?: number }): ProwJob {
  const type = over.type ?? 'presubmit';
  return {
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: { name: '0b8a3c5e-6d2f-5a1b-9c4e-7f8a9b0c1d2e' },
    spec: {
      type,
      job: 'pull-cluster-api-provider-openstack-test',
      ...(type === 'periodic' ? {} : {
        refs: {
          org: over.org ?? 'kubernetes-sigs',
          repo: over.repo ?? 'cluster-api-provider-openstack',
          base_ref: 'main',
          ...(type === 'presubmit' || type === 'batch' ? { pulls: [{ number: over.pull ?? 541, author: 'a', sha: 'b' }] } : {}),
        },
      }),
      ...(over.dc ? { decoration_config: over.dc } : {}),
    },
    status: { state: 'pending', ...(over.buildId ? { build_id: over.buildId } : {}), ...(over.url ? { url: over.url } : {}) },
  };
}

const GCS = (extra: Record<string, unknown> = {}): DecorationConfig => ({ gcs_configuration: { bucket: 'kubernetes-jenkins', path_strategy: 'explicit', ...extra } });

describe('deckLinkForProwJob', () => {
  const cases: Array<{ name: string; job: ProwJob; prow?: ProwConfig; deckUrl?: string; want: string | undefined }> = [
    { name: 'status.url wins', job: pj({ url: 'https://prow.example/view/x', dc: GCS(), buildId: '1' }), want: 'https://prow.example/view/x' },
    {
      name: "Prow's own example: explicit strategy presubmit",
      job: pj({ dc: GCS(), buildId: '1247344427123347459' }),
      want: 'https://prow.k8s.io/view/gs/kubernetes-jenkins/pr-logs/pull/kubernetes-sigs_cluster-api-provider-openstack/541/pull-cluster-api-provider-openstack-test/1247344427123347459',
    },
    {
      name: 'legacy strategy, default org and repo: no segment',
      job: pj({ org: 'kubernetes', repo: 'kubernetes', dc: GCS({ path_strategy: 'legacy', default_org: 'kubernetes', default_repo: 'kubernetes' }), buildId: '7' }),
      want: 'https://prow.k8s.io/view/gs/kubernetes-jenkins/pr-logs/pull/541/pull-cluster-api-provider-openstack-test/7',
    },
    {
      name: 'legacy strategy, default org: repo only',
      job: pj({ org: 'kubernetes', repo: 'test-infra', dc: GCS({ path_strategy: 'legacy', default_org: 'kubernetes', default_repo: 'kubernetes' }), buildId: '7' }),
      want: 'https://prow.k8s.io/view/gs/kubernetes-jenkins/pr-logs/pull/test-infra/541/pull-cluster-api-provider-openstack-test/7',
    },
    {
      name: 'single strategy, default org but other repo: org_repo',
      job: pj({ org: 'kubernetes', repo: 'test-infra', dc: GCS({ path_strategy: 'single', default_org: 'kubernetes', default_repo: 'kubernetes' }), buildId: '7' }),
      want: 'https://prow.k8s.io/view/gs/kubernetes-jenkins/pr-logs/pull/kubernetes_test-infra/541/pull-cluster-api-provider-openstack-test/7',
    },
    {
      name: 'periodic and path_prefix, s3 bucket',
      job: pj({ type: 'periodic', dc: { gcs_configuration: { bucket: 's3://kata-logs', path_strategy: 'explicit', path_prefix: 'kata' } }, buildId: '9' }),
      want: 'https://prow.k8s.io/view/s3/kata-logs/kata/logs/pull-cluster-api-provider-openstack-test/9',
    },
    {
      name: 'postsubmit',
      job: pj({ type: 'postsubmit', dc: GCS(), buildId: '9' }),
      want: 'https://prow.k8s.io/view/gs/kubernetes-jenkins/logs/pull-cluster-api-provider-openstack-test/9',
    },
    {
      name: 'batch',
      job: pj({ type: 'batch', dc: GCS(), buildId: '9' }),
      want: 'https://prow.k8s.io/view/gs/kubernetes-jenkins/pr-logs/pull/batch/pull-cluster-api-provider-openstack-test/9',
    },
    {
      name: 'a job_url_prefix in the job gcs config wins, with its gcs/ suffix dropped',
      job: pj({ dc: GCS({ job_url_prefix: 'https://other.example/view/gcs/' }), buildId: '3' }),
      want: 'https://other.example/view/gs/kubernetes-jenkins/pr-logs/pull/kubernetes-sigs_cluster-api-provider-openstack/541/pull-cluster-api-provider-openstack-test/3',
    },
    {
      name: 'org/repo prefix beats org beats *',
      job: pj({ dc: GCS(), buildId: '3' }),
      prow: { plank: { job_url_prefix_config: { '*': 'https://a/view/', 'kubernetes-sigs': 'https://b/view/', 'kubernetes-sigs/cluster-api-provider-openstack': 'https://c/view/' } } },
      want: 'https://c/view/gs/kubernetes-jenkins/pr-logs/pull/kubernetes-sigs_cluster-api-provider-openstack/541/pull-cluster-api-provider-openstack-test/3',
    },
    {
      name: 'storage provider segment disabled',
      job: pj({ dc: GCS(), buildId: '3' }),
      prow: { plank: { job_url_prefix_config: { '*': 'https://prow.k8s.io/view/' }, jobURLPrefixDisableAppendStorageProvider: true } },
      want: 'https://prow.k8s.io/view/kubernetes-jenkins/pr-logs/pull/kubernetes-sigs_cluster-api-provider-openstack/541/pull-cluster-api-provider-openstack-test/3',
    },
    { name: 'no build id yet: Deck prowjob page from the prefix host', job: pj({ dc: GCS() }), want: 'https://prow.k8s.io/prowjob?prowjob=0b8a3c5e-6d2f-5a1b-9c4e-7f8a9b0c1d2e' },
    { name: 'katabot deck_url wins for the prowjob page', job: pj({ dc: GCS() }), deckUrl: 'https://prow.katacontainers.example/', want: 'https://prow.katacontainers.example/prowjob?prowjob=0b8a3c5e-6d2f-5a1b-9c4e-7f8a9b0c1d2e' },
    { name: 'undecorated with a build id: prowjob page', job: pj({ buildId: '5' }), want: 'https://prow.k8s.io/prowjob?prowjob=0b8a3c5e-6d2f-5a1b-9c4e-7f8a9b0c1d2e' },
    { name: 'nothing known', job: pj({}), prow: {}, want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.equal(deckLinkForProwJob(c.job, c.prow ?? PROW, c.deckUrl), c.want));
});

describe('helpers', () => {
  it('pathJoin behaves as Go path.Join', () => {
    assert.equal(pathJoin('/view/', 'gs', 'b', 'x/y'), '/view/gs/b/x/y');
    assert.equal(pathJoin('a', '', 'b'), 'a/b');
    assert.equal(pathJoin('', ''), '');
    assert.equal(pathJoin('a/../b', './c/'), 'b/c');
  });
  it('repoPathSegment replaces / in repo names', () => {
    assert.equal(repoPathSegment({ path_strategy: 'explicit' }, 'o', 'a/b'), 'o_a_b');
  });
  it('gcsPathForJob needs a build id', () => assert.equal(gcsPathForJob(pj({ dc: GCS() })), undefined));
  it('legacy plank.job_url_prefix is honoured', () => {
    assert.equal(jobUrlPrefix(pj({}), { plank: { job_url_prefix: 'https://legacy/view/' } }), 'https://legacy/view/');
  });
  it('deckBaseUrl strips trailing slashes', () => assert.equal(deckBaseUrl(pj({}), {}, 'https://d.example//'), 'https://d.example'));
});
