// ProwJob building: the shape Prow's trigger gives a presubmit (pjutil.NewPresubmit), label repair, decoration merge.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProwConfig } from '../../../src/config/prow-config.ts';
import { buildPeriodicProwJob, buildPostsubmitProwJob, buildPresubmitProwJob, completePodSpec, deepMerge, entryMatches, mergedDecorationConfig, type PresubmitJobInput } from '../../../src/jobs/prowjob.ts';
import type { Presubmit, ProwConfig } from '../../../src/config/prow-types.ts';

const REPO_LINK = 'https://github.com/kata-containers/kata-containers';
const HEAD = '8f3b5c1d2e4a6b7c8d9e0f1a2b3c4d5e6f7a8b9c';
const BASE = '064678510782db5b382df478bb374aaa32e577ea';

const PROW: ProwConfig = parseProwConfig(`
pod_namespace: test-pods
plank:
  job_url_prefix_config:
    '*': https://prow.example.org/view/
  default_decoration_config_entries:
  - config:
      timeout: 2h0m0s
      grace_period: 15m0s
      utility_images: {clonerefs: clonerefs:v1, initupload: initupload:v1, entrypoint: entrypoint:v1, sidecar: sidecar:v1}
      gcs_configuration: {bucket: kata-prow, path_strategy: explicit}
      gcs_credentials_secret: gcs-credentials
  - repo: kata-containers
    config:
      timeout: 3h0m0s
  - repo: other-org
    config:
      timeout: 9h0m0s
  - repo: kata-containers/kata-containers
    cluster: tdx-baremetal
    config:
      timeout: 6h0m0s
      utility_images: {sidecar: sidecar:tdx}
`, 'config.yaml');

function input(presubmit: Presubmit, over: Partial<PresubmitJobInput> = {}): PresubmitJobInput {
  return {
    presubmit,
    prow: PROW,
    name: '0b8a3c5e-6d2f-5a1b-9c4e-7f8a9b0c1d2e',
    namespace: 'prow',
    org: 'kata-containers',
    repo: 'kata-containers',
    baseRef: 'main',
    baseSha: BASE,
    repoLink: REPO_LINK,
    pull: {
      number: 10618,
      author: 'chris-krenz',
      sha: HEAD,
      title: 'ci: trigger test subset from ok-to-test-tdx label',
      headRef: 'tdx-tests-only',
      link: `${REPO_LINK}/pull/10618`,
      authorLink: 'https://github.com/chris-krenz',
    },
    eventGuid: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    now: new Date('2026-01-02T03:04:05.678Z'),
    ...over,
  };
}

const qemu: Presubmit = {
  name: 'e2e-kata-qemu',
  always_run: true,
  decorate: true,
  labels: { 'kata.io/hypervisor': 'qemu' },
  annotations: { 'testgrid-dashboards': 'kata-containers-presubmits' },
  spec: { containers: [{ image: 'ghcr.io/kata-containers/ci/e2e:latest', command: ['run.sh'] } as never] },
};

describe('buildPresubmitProwJob: the whole object', () => {
  it('matches what Prow trigger creates', () => {
    const pj = buildPresubmitProwJob(input(qemu));
    assert.deepEqual(pj, {
      apiVersion: 'prow.k8s.io/v1',
      kind: 'ProwJob',
      metadata: {
        name: '0b8a3c5e-6d2f-5a1b-9c4e-7f8a9b0c1d2e',
        namespace: 'prow',
        labels: {
          'created-by-prow': 'true',
          'prow.k8s.io/type': 'presubmit',
          'prow.k8s.io/job': 'e2e-kata-qemu',
          'prow.k8s.io/context': 'e2e-kata-qemu',
          'prow.k8s.io/refs.org': 'kata-containers',
          'prow.k8s.io/refs.repo': 'kata-containers',
          'prow.k8s.io/refs.base_ref': 'main',
          'prow.k8s.io/refs.pull': '10618',
          'kata.io/hypervisor': 'qemu',
          'event-GUID': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
          'prow.k8s.io/is-optional': 'false',
        },
        annotations: {
          'prow.k8s.io/job': 'e2e-kata-qemu',
          'prow.k8s.io/context': 'e2e-kata-qemu',
          'testgrid-dashboards': 'kata-containers-presubmits',
        },
      },
      spec: {
        type: 'presubmit',
        agent: 'kubernetes',
        cluster: 'default',
        namespace: 'test-pods',
        job: 'e2e-kata-qemu',
        refs: {
          org: 'kata-containers',
          repo: 'kata-containers',
          repo_link: REPO_LINK,
          base_ref: 'main',
          base_sha: BASE,
          base_link: `${REPO_LINK}/commit/${BASE}`,
          pulls: [{
            number: 10618,
            author: 'chris-krenz',
            sha: HEAD,
            title: 'ci: trigger test subset from ok-to-test-tdx label',
            head_ref: 'tdx-tests-only',
            link: `${REPO_LINK}/pull/10618`,
            commit_link: `${REPO_LINK}/pull/10618/commits/${HEAD}`,
            author_link: 'https://github.com/chris-krenz',
          }],
        },
        report: true,
        context: 'e2e-kata-qemu',
        rerun_command: '/test e2e-kata-qemu',
        pod_spec: { containers: [{ image: 'ghcr.io/kata-containers/ci/e2e:latest', command: ['run.sh'], name: '' }] },
        decoration_config: {
          timeout: '3h0m0s',
          grace_period: '15m0s',
          utility_images: { clonerefs: 'clonerefs:v1', initupload: 'initupload:v1', entrypoint: 'entrypoint:v1', sidecar: 'sidecar:v1' },
          gcs_configuration: { bucket: 'kata-prow', path_strategy: 'explicit' },
          gcs_credentials_secret: 'gcs-credentials',
        },
        prowjob_defaults: { tenant_id: 'GlobalDefaultID' },
      },
      status: { startTime: '2026-01-02T03:04:05Z', state: 'triggered' },
    });
  });

  it('does not share structure with the config (deep copies)', () => {
    const pj = buildPresubmitProwJob(input(qemu));
    (pj.spec.pod_spec?.containers[0] as { image: string }).image = 'changed';
    (pj.spec.decoration_config as { timeout: string }).timeout = 'changed';
    assert.equal((qemu.spec?.containers[0] as { image: string }).image, 'ghcr.io/kata-containers/ci/e2e:latest');
    assert.equal(PROW.plank?.default_decoration_config_entries?.[0]?.config.timeout, '2h0m0s');
    assert.equal('name' in (qemu.spec?.containers[0] as object), false);
  });
});

describe('buildPresubmitProwJob: field rules', () => {
  const longName = 'run-k8s-tests-on-aks-cbl-mariner-clh-azure-runtime-rs-small-containerd-oci-distribution';
  const cases: Array<{ name: string; job: Presubmit; over?: Partial<PresubmitJobInput>; check: (pj: ReturnType<typeof buildPresubmitProwJob>) => void }> = [
    {
      name: 'a 70+ character job name: label truncated to 63 with trailing ._- trimmed, annotation in full',
      job: { name: longName, spec: { containers: [{ name: 'test', image: 'x' }] } },
      check: (pj) => {
        assert.ok(longName.length > 70);
        const want = longName.slice(0, 63).replace(/[._-]+$/, '');
        assert.equal(pj.metadata.labels?.['prow.k8s.io/job'], want);
        assert.equal(pj.metadata.labels?.['prow.k8s.io/context'], want);
        assert.ok(!/[._-]$/.test(want) && want.length <= 63);
        assert.equal(pj.metadata.annotations?.['prow.k8s.io/job'], longName);
        assert.equal(pj.metadata.annotations?.['prow.k8s.io/context'], longName);
        assert.equal(pj.spec.job, longName);
      },
    },
    {
      name: 'a context with spaces and slashes: label becomes its filepath.Base or is dropped, annotation in full',
      job: { name: 'kata-ci', context: 'Kata Containers CI / run-k8s-tests', spec: { containers: [{ name: '', image: 'x' }] } },
      check: (pj) => {
        assert.equal(pj.metadata.labels?.['prow.k8s.io/context'], undefined, 'base " run-k8s-tests" has a space: dropped');
        assert.equal(pj.metadata.annotations?.['prow.k8s.io/context'], 'Kata Containers CI / run-k8s-tests');
        assert.equal(pj.spec.context, 'Kata Containers CI / run-k8s-tests');
      },
    },
    {
      name: 'a base ref with a slash: label becomes the last path element',
      job: qemu,
      over: { baseRef: 'release/3.2' },
      check: (pj) => {
        assert.equal(pj.metadata.labels?.['prow.k8s.io/refs.base_ref'], '3.2');
        assert.equal(pj.spec.refs?.base_ref, 'release/3.2');
      },
    },
    {
      name: 'optional, skip_report, custom context/trigger/rerun, max_concurrency, cluster, namespace',
      job: {
        name: 'e2e-kata-nvidia-gpu', optional: true, skip_report: true, context: 'kata-ci-nvidia-gpu', trigger: '(?m)^/test-gpu\\s*$',
        rerun_command: '/test-gpu', max_concurrency: 2, cluster: 'gpu', namespace: 'gpu-pods', spec: { containers: [{ name: 'test', image: 'x' }] },
      },
      check: (pj) => {
        assert.equal(pj.metadata.labels?.['prow.k8s.io/is-optional'], 'true');
        assert.equal(pj.spec.report, false);
        assert.equal(pj.spec.context, 'kata-ci-nvidia-gpu');
        assert.equal(pj.spec.rerun_command, '/test-gpu');
        assert.equal(pj.spec.max_concurrency, 2);
        assert.equal(pj.spec.cluster, 'gpu');
        assert.equal(pj.spec.namespace, 'gpu-pods');
        assert.equal(pj.spec.decoration_config, undefined, 'not decorated');
      },
    },
    {
      name: 'retest label, extra labels override the job labels, Prow labels win over both',
      job: { ...qemu, labels: { 'katabot.dev/trace': 'false', team: 'kata' } },
      over: { retest: true, extraLabels: { 'katabot.dev/trace': 'true' } },
      check: (pj) => {
        assert.equal(pj.metadata.labels?.['prow.k8s.io/retest'], 'true');
        assert.equal(pj.metadata.labels?.['katabot.dev/trace'], 'true');
        assert.equal(pj.metadata.labels?.['team'], 'kata');
        assert.equal(pj.metadata.labels?.['event-GUID'], '72d3162e-cc78-11e3-81ab-4c9367dc0958');
      },
    },
    {
      name: 'no retest label on a plain /test',
      job: qemu,
      check: (pj) => assert.equal(pj.metadata.labels?.['prow.k8s.io/retest'], undefined),
    },
    {
      name: 'job UtilityConfig fields land in refs',
      job: { ...qemu, path_alias: 'github.com/kata-containers/kata-containers', clone_depth: 1, skip_submodules: true },
      check: (pj) => {
        assert.equal(pj.spec.refs?.path_alias, 'github.com/kata-containers/kata-containers');
        assert.equal(pj.spec.refs?.['clone_depth'], 1);
        assert.equal(pj.spec.refs?.['skip_submodules'], true);
      },
    },
    {
      name: 'containers without a name get name "" (init containers too), named ones keep theirs',
      job: { name: 'j', spec: { initContainers: [{ image: 'i' }], containers: [{ image: 'a' }, { name: 'b', image: 'b' }] } as never },
      check: (pj) => {
        assert.deepEqual(pj.spec.pod_spec?.containers.map((c) => c.name), ['', 'b']);
        assert.deepEqual(pj.spec.pod_spec?.initContainers?.map((c) => c.name), ['']);
      },
    },
  ];
  for (const c of cases) it(c.name, () => c.check(buildPresubmitProwJob(input(c.job, c.over))));
});

describe('decoration config merge (plank.default_decoration_config_entries)', () => {
  const cases: Array<{ name: string; job: Presubmit; prow?: ProwConfig; org?: string; want: Record<string, unknown> | undefined }> = [
    { name: 'global then org entry', job: { ...qemu, decoration_config: undefined }, want: { timeout: '3h0m0s', sidecar: 'sidecar:v1', bucket: 'kata-prow' } },
    { name: 'cluster-specific repo entry applies on that cluster', job: { ...qemu, cluster: 'tdx-baremetal' }, want: { timeout: '6h0m0s', sidecar: 'sidecar:tdx', bucket: 'kata-prow' } },
    { name: "the job's own decoration_config wins, deep-merged", job: { ...qemu, cluster: 'tdx-baremetal', decoration_config: { timeout: '8h0m0s', gcs_configuration: { path_prefix: 'tdx' } } }, want: { timeout: '8h0m0s', sidecar: 'sidecar:tdx', bucket: 'kata-prow', path_prefix: 'tdx' } },
    { name: 'entries of another org do not apply', job: qemu, org: 'confidential-containers', want: { timeout: '2h0m0s', sidecar: 'sidecar:v1', bucket: 'kata-prow' } },
    { name: 'decorate: false → no decoration_config', job: { ...qemu, decorate: false }, want: undefined },
    { name: 'decorate unset → no decoration_config', job: { ...qemu, decorate: undefined }, want: undefined },
    { name: 'decorate unset with decorate_all_jobs → decorated', job: { ...qemu, decorate: undefined }, prow: { ...PROW, decorate_all_jobs: true }, want: { timeout: '3h0m0s', sidecar: 'sidecar:v1', bucket: 'kata-prow' } },
    { name: 'decorate: false beats decorate_all_jobs', job: { ...qemu, decorate: false }, prow: { ...PROW, decorate_all_jobs: true }, want: undefined },
    { name: 'decorated with no defaults at all → {}', job: qemu, prow: {}, want: {} },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const pj = buildPresubmitProwJob(input(c.job, { prow: c.prow ?? PROW, org: c.org ?? 'kata-containers' }));
      const dc = pj.spec.decoration_config;
      if (c.want === undefined) return assert.equal(dc, undefined);
      if (Object.keys(c.want).length === 0) return assert.deepEqual(dc, {});
      assert.ok(dc);
      const got: Record<string, unknown> = { timeout: dc.timeout, sidecar: dc.utility_images?.sidecar, bucket: dc.gcs_configuration?.bucket };
      if ('path_prefix' in c.want) got['path_prefix'] = dc.gcs_configuration?.path_prefix;
      assert.deepEqual(got, c.want);
    });
  }

  it('the older map form merges *, then org, then org/repo', () => {
    const prow = parseProwConfig(`
plank:
  default_decoration_configs:
    kata-containers/kata-containers: {timeout: 4h0m0s}
    '*': {timeout: 1h0m0s, grace_period: 10m0s}
    kata-containers: {timeout: 3h0m0s, grace_period: 20m0s}
`, 'config.yaml');
    assert.deepEqual(prow.plank?.default_decoration_config_entries?.map((e) => e.repo), ['*', 'kata-containers', 'kata-containers/kata-containers']);
    assert.deepEqual(mergedDecorationConfig(prow, 'kata-containers/kata-containers', 'default', undefined), { timeout: '4h0m0s', grace_period: '20m0s' });
    assert.deepEqual(mergedDecorationConfig(prow, 'kata-containers/tests', 'default', undefined), { timeout: '3h0m0s', grace_period: '20m0s' });
  });

  const matchCases: Array<{ entry: { repo?: string; cluster?: string }; repo: string; cluster: string; want: boolean }> = [
    { entry: {}, repo: 'o/r', cluster: 'default', want: true },
    { entry: { repo: '*' }, repo: 'o/r', cluster: 'c', want: true },
    { entry: { repo: 'o' }, repo: 'o/r', cluster: 'c', want: true },
    { entry: { repo: 'o/r' }, repo: 'o/r', cluster: 'c', want: true },
    { entry: { repo: 'o/other' }, repo: 'o/r', cluster: 'c', want: false },
    { entry: { repo: 'ox' }, repo: 'o/r', cluster: 'c', want: false },
    { entry: { cluster: 'c' }, repo: 'o/r', cluster: 'c', want: true },
    { entry: { cluster: '*' }, repo: 'o/r', cluster: 'c', want: true },
    { entry: { cluster: 'd' }, repo: 'o/r', cluster: 'c', want: false },
  ];
  for (const c of matchCases) {
    it(`entryMatches ${JSON.stringify(c.entry)} ${c.repo}@${c.cluster}`, () => assert.equal(entryMatches(c.entry, c.repo, c.cluster), c.want));
  }

  it('deepMerge: objects merge, lists and scalars replace, undefined/null do not override', () => {
    assert.deepEqual(
      deepMerge<Record<string, unknown>>({ a: { x: 1, y: 2 }, l: [1, 2], s: 'a', k: 1 }, { a: { y: 3 }, l: [3], s: undefined, k: null }),
      { a: { x: 1, y: 3 }, l: [3], s: 'a', k: 1 },
    );
  });
});

describe('pod namespace default', () => {
  it('is the prow config pod_namespace', () => assert.equal(buildPresubmitProwJob(input(qemu)).spec.namespace, 'test-pods'));
  it("is Prow's own default, \"default\", when pod_namespace is unset", () => {
    assert.equal(buildPresubmitProwJob(input(qemu, { prow: {} })).spec.namespace, 'default');
  });
});

describe('completePodSpec', () => {
  it('keeps an absent spec absent', () => assert.equal(completePodSpec(undefined), undefined));
});

describe('postsubmit and periodic builders', () => {
  it('postsubmit: refs without pulls, no rerun_command, refs labels without pull', () => {
    const pj = buildPostsubmitProwJob({
      postsubmit: { name: 'post-kata-static-tarball-amd64', decorate: true, spec: { containers: [{ name: '', image: 'x' }] } },
      prow: PROW, name: 'n', namespace: 'prow', org: 'kata-containers', repo: 'kata-containers', baseRef: 'main', baseSha: BASE,
      repoLink: REPO_LINK, eventGuid: 'g', now: new Date(0),
    });
    assert.equal(pj.spec.type, 'postsubmit');
    assert.equal(pj.spec.refs?.pulls, undefined);
    assert.equal(pj.spec.rerun_command, undefined);
    assert.equal(pj.metadata.labels?.['prow.k8s.io/refs.pull'], undefined);
    assert.equal(pj.metadata.labels?.['prow.k8s.io/refs.base_ref'], 'main');
    assert.equal(pj.metadata.labels?.['event-GUID'], 'g');
  });
  it('periodic: no refs, labels from extra_refs[0], empty context', () => {
    const pj = buildPeriodicProwJob({
      periodic: { name: 'periodic-kata-qemu-nightly', cron: '0 2 * * *', decorate: true, extra_refs: [{ org: 'kata-containers', repo: 'kata-containers', base_ref: 'main' }], spec: { containers: [{ name: '', image: 'x' }] } },
      prow: PROW, name: 'n', namespace: 'prow', now: new Date(0),
    });
    assert.equal(pj.spec.type, 'periodic');
    assert.equal(pj.spec.refs, undefined);
    assert.equal(pj.spec.report, true);
    assert.equal(pj.metadata.labels?.['prow.k8s.io/refs.org'], 'kata-containers');
    assert.equal(pj.metadata.labels?.['prow.k8s.io/context'], '');
    assert.equal(pj.metadata.annotations?.['prow.k8s.io/context'], '');
    assert.equal(pj.spec.decoration_config?.timeout, '3h0m0s');
  });
});
