// Required jobs from Kata's gatekeeper file (required-tests.yaml) and from Prow's optional flag.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseRequiredTests, pythonRegExp, RequiredMatcher, setsForChangedFiles } from '../../../src/dashboard/required.ts';

const SAMPLE = new URL('../../../../shared/kata/required-tests.yaml', import.meta.url).pathname;
const noSample = existsSync(SAMPLE) ? false : `Kata's sample is not at ${SAMPLE}`;

const FILE = `
required_tests:
  - Commit Message Check / Commit Message Check
required_regexps:
  - "periodic-run-containerd-.*"
  - "(?i)NIGHTLY-TDX"
paths:
  - "^docs/": ["static"]
  - "\\\\.md$": ["static"]
  - "^ci/openshift-ci/": []
mapping:
  test:
    names:
      - Kata Containers CI / kata-containers-ci-on-push / run-basic-amd64-tests / run-nerdctl-tests (qemu)
    regexps: "Kata Containers CI / .*run-k8s-tests-on-tdx.*|Kata Containers CI / .*zvsi.*"
    required-labels:
      - ok-to-test
  static:
    names:
      - Static checks / build-checks / check
    required-labels:
`;

describe('required-tests.yaml', () => {
  const rt = parseRequiredTests(FILE, 'required-tests.yaml');
  const m = new RequiredMatcher(rt);

  const cases: Array<[name: string, input: Parameters<RequiredMatcher['requirementOf']>[0], by: string[]]> = [
    ['a required_tests name as context', { job: 'pull-commit', context: 'Commit Message Check / Commit Message Check', type: 'presubmit' }, ['required_tests']],
    ['a required_tests name without its workflow (Kata nightly naming)', { job: 'Commit Message Check', type: 'periodic' }, ['required_tests']],
    ['required_regexps match at the start (re.match)', { job: 'periodic-run-containerd-stability', type: 'periodic' }, ['required_regexps']],
    ['required_regexps do not search', { job: 'x-periodic-run-containerd-stability', type: 'periodic' }, []],
    ['a leading (?i) flag', { job: 'nightly-tdx-qemu', type: 'periodic' }, ['required_regexps']],
    [
      'a mapping name',
      { job: 'pull-nerdctl', context: 'Kata Containers CI / kata-containers-ci-on-push / run-basic-amd64-tests / run-nerdctl-tests (qemu)', type: 'presubmit' },
      ['mapping:test'],
    ],
    ['a mapping name without its workflow', { job: 'kata-containers-ci-on-push / run-basic-amd64-tests / run-nerdctl-tests (qemu)', type: 'periodic' }, ['mapping:test']],
    ['a mapping regexp alternative', { job: 'x', context: 'Kata Containers CI / kata-containers-ci-on-push / run-k8s-tests-on-zvsi (qemu)', type: 'presubmit' }, ['mapping:test']],
    ['Prow: a presubmit that is not optional', { job: 'pull-lint', type: 'presubmit', optional: false }, ['prow']],
    ['Prow: optional', { job: 'pull-lint', type: 'presubmit', optional: true }, []],
    ['Prow: skip_report never reports', { job: 'pull-lint', type: 'presubmit', optional: false, skipReport: true }, []],
    ['Prow: unknown optional flag', { job: 'pull-lint', type: 'presubmit' }, []],
    ['Prow: not a presubmit', { job: 'periodic-lint', type: 'periodic', optional: false }, []],
    ['both sources', { job: 'pull-commit', context: 'Commit Message Check / Commit Message Check', type: 'presubmit', optional: false }, ['required_tests', 'prow']],
  ];
  for (const [name, input, by] of cases) {
    it(name, () => assert.deepEqual(m.requirementOf(input), { required: by.length > 0, by }));
  }

  it('paths: the first regexp finding a file picks its sets; a file none finds needs every set', () => {
    assert.deepEqual(setsForChangedFiles(rt, ['docs/a.md', 'README.md']), ['static']);
    assert.deepEqual(setsForChangedFiles(rt, ['ci/openshift-ci/x.sh']), []);
    assert.deepEqual(setsForChangedFiles(rt, ['docs/a.md', 'src/runtime/main.go']), ['test', 'static']);
  });

  it('mapping labels are kept', () => {
    assert.deepEqual(rt.mapping.get('test')?.labels, ['ok-to-test']);
    assert.deepEqual(rt.mapping.get('static')?.labels, []);
  });

  const errors: Array<[string, string, RegExp]> = [
    ['not a mapping', '- a\n', /^f\.yaml: must be a mapping/],
    ['a name that is not a string', 'required_tests: [1]\n', /^f\.yaml: required_tests\[0\]: must be a string$/],
    ['a bad regexp', 'required_regexps: ["("]\n', /^f\.yaml: required_regexps\[0\]: not a regular expression/],
    ['bad mapping regexps', 'mapping:\n  test:\n    regexps: 3\n', /^f\.yaml: mapping\.test\.regexps: must be a string/],
    ['YAML syntax', 'required_tests: [\n', /^f\.yaml: line \d+/],
  ];
  for (const [name, text, want] of errors) {
    it(`one-line error: ${name}`, () => assert.throws(() => parseRequiredTests(text, 'f.yaml'), (e: Error) => want.test(e.message)));
  }
});

describe('pythonRegExp', () => {
  const cases: Array<[pattern: string, anchored: boolean, text: string, want: boolean]> = [
    ['(?P<arch>amd64|s390x)-(?P=arch)', true, 's390x-s390x', true],
    ['\\Abuild\\Z', false, 'build', true],
    ['build', true, 'pre-build', false],
    ['build', false, 'pre-build', true],
    ['(?i)TDX', true, 'tdx-tests', true],
  ];
  for (const [pattern, anchored, text, want] of cases) {
    it(`${pattern} ${anchored ? 'matches' : 'searches'} ${text}: ${want}`, () => assert.equal(pythonRegExp(pattern, anchored).test(text), want));
  }
});

describe("Kata's sample required-tests.yaml", { skip: noSample }, () => {
  it('parses, and its names are required', () => {
    const rt = parseRequiredTests(readFileSync(SAMPLE, 'utf8'), SAMPLE);
    const m = new RequiredMatcher(rt);
    assert.ok(rt.tests.includes('Commit Message Check / Commit Message Check'));
    assert.ok([...rt.mapping.keys()].includes('test'));
    const ctx = 'Kata Containers CI / kata-containers-ci-on-push / run-basic-amd64-tests / run-nerdctl-tests (qemu)';
    assert.deepEqual(m.requirementOf({ job: 'j', context: ctx, type: 'presubmit' }).by, ['mapping:test']);
    assert.equal(m.requirementOf({ job: 'j', context: 'Kata Containers CI / something else', type: 'presubmit' }).required, false);
  });
});
