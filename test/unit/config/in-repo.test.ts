// Prow's in-repo config, the pure parts: where it is on, which files, decoding and validation against the central
// config (central presets apply; a name the central config uses is refused), errors that name file and line.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/errors.ts';
import { inRepoConfigAllowsCluster, inRepoConfigEnabled, inRepoConfigPaths, parseInRepoConfig, prowIgnored, touchesInRepoConfig, withInRepoJobs, type InRepoContext } from '../../../src/config/in-repo.ts';
import { loadConfigSnapshot, type ConfigSnapshot } from '../../../src/config/load.ts';
import type { ProwConfig } from '../../../src/config/prow-types.ts';

describe('in_repo_config settings', () => {
  const prow: ProwConfig = { in_repo_config: { enabled: { '*': true, 'kata-containers': false, 'kata-containers/tests': true }, allowed_clusters: { 'kata-containers': ['tdx-baremetal'] } } };
  const enabled: Array<[string, string, boolean]> = [['kata-containers', 'tests', true], ['kata-containers', 'kata-containers', false], ['confidential-containers', 'operator', true]];
  for (const [org, repo, want] of enabled) it(`enabled for ${org}/${repo}: ${want} (repo over org over *)`, () => assert.equal(inRepoConfigEnabled(prow, org, repo), want));
  it('off when not configured', () => assert.equal(inRepoConfigEnabled({}, 'o', 'r'), false));
  const clusters: Array<[ProwConfig, string, string, boolean]> = [
    [{}, 'default', 'o/r', true],
    [{}, 'other', 'o/r', false],
    [prow, 'tdx-baremetal', 'kata-containers/tests', true],
    [prow, 'tdx-baremetal', 'confidential-containers/operator', false],
    [prow, 'default', 'kata-containers/tests', true],
    [{ in_repo_config: { allowed_clusters: { '*': [] } } }, 'default', 'o/r', false],
  ];
  for (const [p, cluster, orgRepo, want] of clusters) {
    it(`cluster ${cluster} for ${orgRepo}: ${want}`, () => {
      const [org, repo] = orgRepo.split('/') as [string, string];
      assert.equal(inRepoConfigAllowsCluster(p, cluster, org, repo), want);
    });
  }
});

describe('in-repo config files', () => {
  const ignore = '# comment\n\ndrafts/\n*.tmp.yaml\n/.prow/generated/\n!keep.tmp.yaml\n';
  const cases: Array<[string, boolean]> = [
    ['.prow/drafts/a.yaml', true], ['.prow/x/drafts/a.yaml', true], ['.prow/a.tmp.yaml', true], ['.prow/keep.tmp.yaml', false],
    ['.prow/generated/j.yaml', true], ['.prow/x/generated/j.yaml', false], ['.prow/jobs.yaml', false],
  ];
  for (const [path, want] of cases) it(`.prowignore: ${path} ${want ? 'ignored' : 'kept'}`, () => assert.equal(prowIgnored(path, ignore), want));
  it('.prow/ wins over .prow.yaml; only .yaml/.yml, in path order', () => {
    assert.deepEqual(inRepoConfigPaths(['.prow/z.yaml', '.prow/README.md', '.prow/a/b.yml', '.prow/drafts/x.yaml'], 'drafts/\n'), ['.prow/a/b.yml', '.prow/z.yaml']);
    assert.deepEqual(inRepoConfigPaths(undefined), ['.prow.yaml']);
  });
  it('which changes touch it', () => {
    assert.equal(touchesInRepoConfig(['src/a.go', '.prow.yaml']), true);
    assert.equal(touchesInRepoConfig(['.prow/x.yaml']), true);
    assert.equal(touchesInRepoConfig(['.prowler.yaml', 'docs/.prow/x']), false);
  });
});

describe('parseInRepoConfig', () => {
  let central: ConfigSnapshot;
  let ctx: InRepoContext;
  before(async () => {
    central = await loadConfigSnapshot({ JOB_CONFIG: new URL('../../fixtures/jobs/job-config', import.meta.url).pathname });
    ctx = { prow: { in_repo_config: { enabled: { 'kata-containers': true } } }, jobs: central.jobs, org: 'kata-containers', repo: 'kata-containers' };
  });
  const job = (name: string, extra = ''): string => `- name: ${name}\n  always_run: true\n${extra}  spec:\n    containers:\n    - image: alpine\n      env: [{name: RETRIES, value: 3}]\n`;

  it("decodes as Prow does; central presets and the files' own apply; jobs follow the central ones", () => {
    const files = [
      { path: '.prow/a.yaml', text: `presets:\n- labels: {preset-local: "true"}\n  env: [{name: LOCAL, value: true}]\npresubmits:\n${job('in-repo-kvm', '  labels: {preset-kata-kvm: "true", preset-local: "true"}\n')}` },
      { path: '.prow/b.yaml', text: `postsubmits:\n${job('in-repo-post').replace('  always_run: true\n', '')}` },
    ];
    const jobs = parseInRepoConfig(files, ctx);
    const kvm = jobs.presubmits[0];
    // Own env first, then presets in order: the central preset-kata-kvm, then the file's preset-local.
    assert.deepEqual(kvm?.spec?.containers[0]?.env, [{ name: 'RETRIES', value: '3' }, { name: 'KATA_KVM_DEVICE', value: '/dev/kvm' }, { name: 'LOCAL', value: 'true' }]);
    assert.deepEqual(kvm?.spec?.volumes, [{ name: 'dev-kvm', hostPath: { path: '/dev/kvm', type: 'CharDevice' } }]);
    assert.deepEqual(jobs.postsubmits.map((p) => p.name), ['in-repo-post']);
    const merged = withInRepoJobs(central.jobs, 'kata-containers', 'kata-containers', jobs);
    assert.equal(merged.presubmits.at(-1)?.name, 'in-repo-kvm');
    assert.equal(merged.presubmits.length, (central.jobs.presubmits['kata-containers/kata-containers'] ?? []).length + 1);
  });

  const errors: Array<{ name: string; files: Array<{ path: string; text: string }>; message: string }> = [
    { name: 'broken YAML names file and line', files: [{ path: '.prow.yaml', text: 'presubmits:\n- name: a\n  always_run: true\n  spec: {containers: [\n' }], message: '.prow.yaml: line 5, column 1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]' },
    { name: 'a type error names file, line and key', files: [{ path: '.prow.yaml', text: `presubmits:\n${job('a', '  optional: "maybe"\n')}` }], message: '.prow.yaml: line 4, column 13: presubmits[0].optional: must be true or false, got a string' },
    { name: 'a job check names file and line', files: [{ path: '.prow/jobs.yaml', text: `presubmits:\n${job('bad name')}` }], message: '.prow/jobs.yaml: line 2, column 9: presubmits[0].name: "bad name" must match ^[A-Za-z0-9-._]+$' },
    { name: 'a name the central config uses is refused', files: [{ path: '.prow/jobs.yaml', text: `presubmits:\n${job('static-checks')}` }], message: '.prow/jobs.yaml: line 2: presubmits[0].name: duplicate presubmit "static-checks" for the same branches (first defined at the central job config: presubmits.kata-containers/kata-containers[0])' },
    { name: 'a name another in-repo file uses is refused', files: [{ path: '.prow/a.yaml', text: `presubmits:\n${job('mine')}` }, { path: '.prow/b.yaml', text: `presubmits:\n${job('mine')}` }], message: '.prow/b.yaml: line 2: presubmits[0].name: duplicate presubmit "mine" for the same branches (first defined at .prow/a.yaml: presubmits[0])' },
    { name: 'a cluster allowed_clusters does not list is refused', files: [{ path: '.prow.yaml', text: `presubmits:\n${job('a', '  cluster: tdx-baremetal\n')}` }], message: '.prow.yaml: line 2: presubmits[0].cluster: cluster "tdx-baremetal" is not allowed for repository kata-containers/kata-containers' },
  ];
  for (const c of errors) {
    it(c.name, () => {
      assert.throws(() => parseInRepoConfig(c.files, ctx), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.equal(e.message, c.message);
        return true;
      });
    });
  }
});
