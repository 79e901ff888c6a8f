// Prow config.yaml and job config parsing: normalisation and exact one-line errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/errors.ts';
import { readFileSync } from 'node:fs';
import { parseJobConfig, parseProwConfig, prowJobNamespace } from '../../../src/config/prow-config.ts';
import type { ProwConfig } from '../../../src/config/prow-types.ts';

const SPEC = 'spec:\n      containers:\n      - image: x';
const presubmits = (jobs: string): string => `presubmits:\n  kata-containers/kata-containers:\n${jobs}`;
const jobYaml = (name: string, extra = ''): string => `  - name: ${name}\n${extra ? `${extra}\n` : ''}    ${SPEC}\n`;

function throwsExactly(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.message, message);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
}

describe('parseJobConfig: valid configs', () => {
  it('merges files, keeps job order, concatenates a repo split over files', () => {
    const jobs = parseJobConfig([
      { path: 'a.yaml', text: presubmits(jobYaml('e2e-kata-qemu', '    always_run: true') + jobYaml('e2e-kata-clh', '    always_run: true')) },
      { path: 'b.yaml', text: presubmits(jobYaml('e2e-kata-qemu-tdx', "    run_if_changed: '^src/'")) + 'periodics:\n- name: nightly\n  cron: "0 2 * * *"\n  spec:\n    containers:\n    - image: x\n' },
      { path: 'empty.yaml', text: '' },
      { path: 'other.yaml', text: 'tide:\n  queries: []\n' },
    ]);
    assert.deepEqual(jobs.presubmits['kata-containers/kata-containers']?.map((p) => p.name), ['e2e-kata-qemu', 'e2e-kata-clh', 'e2e-kata-qemu-tdx']);
    assert.deepEqual(jobs.periodics.map((p) => p.name), ['nightly']);
    assert.deepEqual(jobs.postsubmits, {});
  });
  it('YAML 1.1 as Prow reads it: yes is true, merge keys work', () => {
    const jobs = parseJobConfig([{ path: 'a.yaml', text: `base: &base\n  decorate: yes\n  ${SPEC.replace(/\n {4}/g, '\n  ')}\n${presubmits('  - <<: *base\n    name: j\n    always_run: yes\n')}` }]);
    const j = jobs.presubmits['kata-containers/kata-containers']?.[0];
    assert.equal(j?.always_run, true);
    assert.equal(j?.decorate, true);
  });
  it('the same name on disjoint branches is allowed (Prow validates per brancher)', () => {
    const jobs = parseJobConfig([{ path: 'a.yaml', text: presubmits(jobYaml('e2e', '    branches: [main]') + jobYaml('e2e', '    branches: [stable-3.2]')) }]);
    assert.equal(jobs.presubmits['kata-containers/kata-containers']?.length, 2);
  });
  it('presets add env, volumes and mounts to jobs with matching labels', () => {
    const jobs = parseJobConfig([
      { path: 'presets.yaml', text: 'presets:\n- labels: {preset-kvm: "true"}\n  env: [{name: KVM, value: "1"}]\n  volumes: [{name: kvm, hostPath: {path: /dev/kvm}}]\n  volumeMounts: [{name: kvm, mountPath: /dev/kvm}]\n' },
      { path: 'jobs.yaml', text: presubmits(jobYaml('with', '    labels: {preset-kvm: "true"}') + jobYaml('without')) },
    ]);
    const [withPreset, without] = jobs.presubmits['kata-containers/kata-containers'] ?? [];
    assert.deepEqual(withPreset?.spec?.volumes, [{ name: 'kvm', hostPath: { path: '/dev/kvm' } }]);
    assert.deepEqual(withPreset?.spec?.containers[0]?.env, [{ name: 'KVM', value: '1' }]);
    assert.deepEqual(withPreset?.spec?.containers[0]?.volumeMounts, [{ name: 'kvm', mountPath: '/dev/kvm' }]);
    assert.equal(without?.spec?.volumes, undefined);
  });
  it('a number or boolean where Go has a string becomes that string, as Prow decodes it', () => {
    const jobs = parseJobConfig([{ path: 'a.yaml', text: presubmits(jobYaml('a', '    labels: {kata.io/tee: 1, kata.io/gpu: yes}')) }]);
    assert.deepEqual(jobs.presubmits['kata-containers/kata-containers']?.[0]?.labels, { 'kata.io/tee': '1', 'kata.io/gpu': 'true' });
  });
  it('presets add tolerations; a toleration the job already has is refused as Prow refuses it', () => {
    const preset = 'presets:\n- labels: {preset-gpu: "true"}\n  tolerations: [{key: gpu, operator: Exists}]\n';
    const jobs = parseJobConfig([{ path: 'p.yaml', text: preset }, { path: 'j.yaml', text: presubmits(jobYaml('a', '    labels: {preset-gpu: "true"}')) }]);
    assert.deepEqual(jobs.presubmits['kata-containers/kata-containers']?.[0]?.spec?.tolerations, [{ key: 'gpu', operator: 'Exists' }]);
    const dup = `    labels: {preset-gpu: "true"}\n    spec:\n      tolerations: [{key: gpu, operator: Exists}]\n      containers:\n      - image: x`;
    throwsExactly(
      () => parseJobConfig([{ path: 'p.yaml', text: preset }, { path: 'j.yaml', text: presubmits(`  - name: a\n${dup}\n`) }]),
      'j.yaml: line 3: presubmits.kata-containers/kata-containers[0]: job a failed to merge presets for podspec: toleration duplicated in pod spec: {"key":"gpu","operator":"Exists"}',
    );
  });
  it('two presets selecting the same label:value pair are refused (Prow mergeJobConfigs)', () => {
    throwsExactly(
      () => parseJobConfig([{ path: 'p.yaml', text: 'presets:\n- labels: {preset-a: "true"}\n  env: [{name: A, value: "1"}]\n' }, { path: 'q.yaml', text: 'presets:\n- labels: {preset-a: "true"}\n  env: [{name: B, value: "1"}]\n' }]),
      `q.yaml: presets[0].labels.preset-a: duplicated preset 'label:value' pair "preset-a:true" (first in p.yaml)`,
    );
  });
  it('decorate_all_jobs is reported', () => {
    assert.equal(parseJobConfig([{ path: 'a.yaml', text: 'decorate_all_jobs: true\n' }]).decorate_all_jobs, true);
  });
});

describe('parseJobConfig: exact one-line errors', () => {
  const cases: Array<{ name: string; text: string; message: string }> = [
    { name: 'name with a space', text: presubmits(jobYaml('"e2e kata"')), message: `jobs.yaml: line 3, column 11: presubmits.kata-containers/kata-containers[0].name: "e2e kata" must match ^[A-Za-z0-9-._]+$` },
    { name: 'missing name', text: presubmits(`  - always_run: true\n    ${SPEC}\n`), message: `jobs.yaml: line 3, column 5: presubmits.kata-containers/kata-containers[0].name: is required` },
    { name: 'trigger without rerun_command', text: presubmits(jobYaml('gpu', "    trigger: '(?m)^/test-gpu'")), message: `jobs.yaml: line 3, column 5: presubmits.kata-containers/kata-containers[0].rerun_command: trigger and rerun_command must be set together (or neither, for the /test <name> defaults)` },
    { name: 'rerun_command without trigger', text: presubmits(jobYaml('gpu', '    rerun_command: /test-gpu')), message: `jobs.yaml: line 3, column 5: presubmits.kata-containers/kata-containers[0].trigger: trigger and rerun_command must be set together (or neither, for the /test <name> defaults)` },
    { name: 'rerun_command not matching trigger', text: presubmits(jobYaml('gpu', "    trigger: '(?m)^/test-gpu$'\n    rerun_command: /test gpu")), message: `jobs.yaml: line 5, column 20: presubmits.kata-containers/kata-containers[0].rerun_command: "/test gpu" does not match trigger "(?m)^/test-gpu$"` },
    { name: 'always_run with run_if_changed', text: presubmits(jobYaml('ok') + jobYaml('bad', "    always_run: true\n    run_if_changed: '^src/'")), message: `jobs.yaml: line 9, column 21: presubmits.kata-containers/kata-containers[1].run_if_changed: always_run and run_if_changed are mutually exclusive` },
    { name: 'always_run with skip_if_only_changed', text: presubmits(jobYaml('bad', "    always_run: true\n    skip_if_only_changed: '^docs/'")), message: `jobs.yaml: line 5, column 27: presubmits.kata-containers/kata-containers[0].skip_if_only_changed: always_run and skip_if_only_changed are mutually exclusive` },
    { name: 'both change rules', text: presubmits(jobYaml('bad', "    run_if_changed: a\n    skip_if_only_changed: b")), message: `jobs.yaml: line 5, column 27: presubmits.kata-containers/kata-containers[0].skip_if_only_changed: run_if_changed and skip_if_only_changed are mutually exclusive` },
    { name: 'bad run_if_changed regex', text: presubmits(jobYaml('a') + jobYaml('b') + jobYaml('c') + jobYaml('bad', "    run_if_changed: '^src/(runtime'")), message: `jobs.yaml: line 16, column 21: presubmits.kata-containers/kata-containers[3].run_if_changed: invalid regular expression "^src/(runtime": missing closing ): \`^src/(runtime\`` },
    { name: 'look-ahead is not RE2', text: presubmits(jobYaml('bad', "    run_if_changed: '^(?!docs/)'")), message: `jobs.yaml: line 4, column 21: presubmits.kata-containers/kata-containers[0].run_if_changed: invalid regular expression "^(?!docs/)": invalid or unsupported Perl syntax: \`(?!\`` },
    { name: 'bad branches regex', text: presubmits(jobYaml('bad', "    branches: ['stable-[']")), message: `jobs.yaml: line 4, column 15: presubmits.kata-containers/kata-containers[0].branches: invalid regular expression "stable-[": missing closing ]: \`[\`` },
    { name: 'duplicate name', text: presubmits(jobYaml('e2e-kata-qemu') + jobYaml('e2e-kata-qemu')), message: `jobs.yaml: line 7: presubmits.kata-containers/kata-containers[1].name: duplicate presubmit "e2e-kata-qemu" for the same branches (first defined at jobs.yaml: presubmits.kata-containers/kata-containers[0])` },
    { name: 'duplicate name on overlapping branches', text: presubmits(jobYaml('e2e', '    branches: [main]') + jobYaml('e2e', "    skip_branches: ['^stable-']")), message: `jobs.yaml: line 8: presubmits.kata-containers/kata-containers[1].name: duplicate presubmit "e2e" for the same branches (first defined at jobs.yaml: presubmits.kata-containers/kata-containers[0])` },
    { name: 'always_run not a boolean', text: presubmits(jobYaml('a', '    always_run: "true"')), message: `jobs.yaml: line 4, column 17: presubmits.kata-containers/kata-containers[0].always_run: must be true or false, got a string` },
    { name: 'branches not a list', text: presubmits(jobYaml('a', '    branches: main')), message: `jobs.yaml: line 4, column 15: presubmits.kata-containers/kata-containers[0].branches: must be a list, got a string` },
    { name: 'label value a list', text: presubmits(jobYaml('a', '    labels: {kata.io/tee: [tdx]}')), message: `jobs.yaml: line 4, column 27: presubmits.kata-containers/kata-containers[0].labels.kata.io/tee: must be a string, got a list` },
    { name: 'invalid label value', text: presubmits(jobYaml('a', '    labels: {team: "kata ci"}')), message: `jobs.yaml: line 4, column 20: presubmits.kata-containers/kata-containers[0].labels.team: value "kata ci" is not a valid Kubernetes label value (63 characters or fewer: alphanumerics, '-', '_', '.', starting and ending alphanumeric)` },
    { name: 'reserved label', text: presubmits(jobYaml('a', '    labels: {created-by-prow: "true"}')), message: `jobs.yaml: line 4, column 31: presubmits.kata-containers/kata-containers[0].labels.created-by-prow: is reserved for Prow` },
    { name: 'no spec', text: presubmits('  - name: a\n    always_run: true\n'), message: `jobs.yaml: line 3, column 5: presubmits.kata-containers/kata-containers[0].spec: is required for a job run by the kubernetes agent` },
    { name: 'no containers', text: presubmits('  - name: a\n    spec: {}\n'), message: `jobs.yaml: line 4, column 11: presubmits.kata-containers/kata-containers[0].spec.containers: must list at least one container` },
    { name: 'max_concurrency negative', text: presubmits(jobYaml('a', '    max_concurrency: -1')), message: `jobs.yaml: line 4, column 22: presubmits.kata-containers/kata-containers[0].max_concurrency: must be a non-negative integer, got -1` },
    { name: 'bad path_strategy', text: presubmits(jobYaml('a', '    decoration_config: {gcs_configuration: {path_strategy: flat}}')), message: `jobs.yaml: line 4, column 60: presubmits.kata-containers/kata-containers[0].decoration_config.gcs_configuration.path_strategy: must be one of legacy, single, explicit, got "flat"` },
    { name: 'repo key without a slash', text: 'presubmits:\n  kata-containers:\n  - name: a\n', message: 'jobs.yaml: line 3, column 3: presubmits.kata-containers: keys must be org/repo' },
    { name: 'jobs not a list', text: 'presubmits:\n  kata-containers/kata-containers: {name: a}\n', message: `jobs.yaml: line 2, column 36: presubmits.kata-containers/kata-containers: must be a list, got a mapping` },
    { name: 'periodic without a schedule', text: `periodics:\n- name: p\n  spec:\n    containers:\n    - image: x\n`, message: 'jobs.yaml: line 2, column 3: periodics[0]: a periodic needs exactly one of cron, interval and minimum_interval' },
    { name: 'postsubmit rules', text: `postsubmits:\n  kata-containers/kata-containers:\n  - name: p\n    always_run: true\n    run_if_changed: x\n    ${SPEC}\n`, message: 'jobs.yaml: line 5, column 21: postsubmits.kata-containers/kata-containers[0].run_if_changed: always_run and run_if_changed are mutually exclusive' },
    { name: 'YAML syntax error', text: 'presubmits:\n  kata-containers/kata-containers:\n  - name: a\n   always_run: true\n', message: 'jobs.yaml: line 4, column 1: YAML syntax error: Sequence item without - indicator' },
  ];
  for (const c of cases) it(c.name, () => throwsExactly(() => parseJobConfig([{ path: 'jobs.yaml', text: c.text }]), c.message));
  it('a duplicate across files names the second file and the first', () => {
    throwsExactly(
      () => parseJobConfig([{ path: 'a.yaml', text: presubmits(jobYaml('e2e')) }, { path: 'sub/b.yaml', text: presubmits(jobYaml('x') + jobYaml('e2e')) }]),
      'sub/b.yaml: line 7: presubmits.kata-containers/kata-containers[1].name: duplicate presubmit "e2e" for the same branches (first defined at a.yaml: presubmits.kata-containers/kata-containers[0])',
    );
  });
});

describe('parseProwConfig', () => {
  it('reads namespaces and plank, ignores everything else', () => {
    const c = parseProwConfig('prowjob_namespace: prow\npod_namespace: test-pods\ntide: {sync_period: 1m}\nplank:\n  job_url_prefix_config: {"*": "https://prow.example/view/"}\n', 'config.yaml');
    assert.equal(c.prowjob_namespace, 'prow');
    assert.equal(c.pod_namespace, 'test-pods');
    assert.deepEqual(c.plank?.job_url_prefix_config, { '*': 'https://prow.example/view/' });
    assert.deepEqual(c['tide'], { sync_period: '1m' });
  });
  it('empty file', () => assert.deepEqual(parseProwConfig('', 'config.yaml'), {}));
  it('the deprecated plank.job_url_prefix becomes the * prefix', () => {
    assert.deepEqual(parseProwConfig('plank:\n  job_url_prefix: https://old.example/view/\n', 'config.yaml').plank?.job_url_prefix_config, { '*': 'https://old.example/view/' });
  });
  const errors: Array<{ name: string; text: string; message: string }> = [
    { name: 'both decoration forms', text: 'plank:\n  default_decoration_configs: {"*": {timeout: 1h}}\n  default_decoration_config_entries: [{config: {timeout: 1h}}]\n', message: 'config.yaml: line 2, column 31: plank.default_decoration_configs: plank.default_decoration_configs and plank.default_decoration_config_entries are mutually exclusive, use one or the other' },
    { name: 'entry without config', text: 'plank:\n  default_decoration_config_entries:\n  - repo: kata-containers\n', message: 'config.yaml: line 3, column 5: plank.default_decoration_config_entries[0].config: is required' },
    { name: 'bad path strategy in an entry', text: 'plank:\n  default_decoration_config_entries:\n  - config: {gcs_configuration: {path_strategy: x}}\n', message: 'config.yaml: line 3, column 49: plank.default_decoration_config_entries[0].config.gcs_configuration.path_strategy: must be one of legacy, single, explicit, got "x"' },
    { name: 'job URL prefix not a URL', text: 'plank:\n  job_url_prefix_config: {"*": prow.example/view/}\n', message: 'config.yaml: line 2, column 32: plank.job_url_prefix_config.*: must be an http(s) URL, got "prow.example/view/"' },
    { name: 'namespace not a name', text: 'pod_namespace: Test_Pods\n', message: 'config.yaml: line 1, column 16: pod_namespace: must be a Kubernetes namespace name, got "Test_Pods"' },
    { name: 'plank not a mapping', text: 'plank: []\n', message: 'config.yaml: line 1, column 8: plank: must be a mapping, got a list' },
    { name: 'not a mapping', text: '42\n', message: 'config.yaml: line 1, column 1: must be a mapping, got an integer' },
  ];
  for (const c of errors) it(c.name, () => throwsExactly(() => parseProwConfig(c.text, 'config.yaml'), c.message));
});

describe('prowJobNamespace', () => {
  const gardener = parseProwConfig(readFileSync(new URL('../../fixtures/prow-real/gardener-ci-infra/config/prow/config.yaml', import.meta.url), 'utf8'), 'config.yaml');
  const cases: Array<[string, string | undefined, ProwConfig, string]> = [
    ["gardener's config.yaml sets prow", undefined, gardener, 'prow'],
    ['PROWJOB_NAMESPACE overrides it', 'ci-jobs', gardener, 'ci-jobs'],
    ['neither: Prow\'s default', undefined, {}, 'default'],
  ];
  for (const [name, env, prow, want] of cases) it(name, () => assert.equal(prowJobNamespace(env, prow), want));
});
