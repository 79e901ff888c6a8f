// KATABOT_CONFIG parsing: defaults, and exact one-line errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/errors.ts';
import { parseKatabotConfig } from '../../../src/config/katabot-config.ts';
import { compileGoRegExp } from '../../../src/config/go-regexp.ts';
import { DEFAULT_KATABOT_CONFIG } from '../../../src/config/types.ts';

const SPEC_EXAMPLE = `orgs: [kata-containers]        # members of these orgs are trusted
only_org_members: false        # true: repo collaborators are not trusted
trusted_apps: [dependabot]     # app logins without [bot]
tdx:
  label: ok-to-test-tdx
  approvers: [alice, bob]      # logins allowed to say /ok-to-test-tdx
  jobs: ".*-tdx.*"             # regex: jobs that need the label to run
  sticky: false                # false: the label is removed on every new push
deck_url: https://prow.example.org
`;

describe('parseKatabotConfig: valid files', () => {
  it("the spec's example", () => {
    assert.deepEqual(parseKatabotConfig(SPEC_EXAMPLE, 'katabot.yaml'), {
      ...DEFAULT_KATABOT_CONFIG,
      orgs: ['kata-containers'],
      trusted_apps: ['dependabot'],
      tdx: { ...DEFAULT_KATABOT_CONFIG.tdx, label: 'ok-to-test-tdx', approvers: ['alice', 'bob'], jobs: '.*-tdx.*', sticky: false },
      deck_url: 'https://prow.example.org',
    });
  });
  const cases: Array<{ name: string; text: string; check: (c: ReturnType<typeof parseKatabotConfig>) => void }> = [
    { name: 'empty file: all defaults', text: '', check: (c) => assert.deepEqual(c, DEFAULT_KATABOT_CONFIG) },
    { name: 'comments only: all defaults', text: '# nothing\n', check: (c) => assert.deepEqual(c, DEFAULT_KATABOT_CONFIG) },
    {
      name: 'partial tdx keeps the other tdx defaults',
      text: 'tdx:\n  approvers: [alice]\n',
      check: (c) => assert.deepEqual(c.tdx, { ...DEFAULT_KATABOT_CONFIG.tdx, approvers: ['alice'] }),
    },
    {
      name: 'actions: nightly workflows and dispatch names',
      text: 'actions:\n  nightly_workflows: [ci-nightly.yaml]\n  dispatch:\n    tdx-tests:\n      workflow: run-tdx.yaml\n      inputs:\n        commit-hash: "{sha}"\n        pr-number: "{pr}"\n',
      check: (c) =>
        assert.deepEqual(c.actions, {
          nightly_workflows: ['ci-nightly.yaml'],
          dispatch: { 'tdx-tests': { workflow: 'run-tdx.yaml', inputs: { 'commit-hash': '{sha}', 'pr-number': '{pr}' } } },
        }),
    },
    { name: 'a key with no value means unset', text: 'trusted_apps:\ntdx:\n', check: (c) => assert.deepEqual(c, DEFAULT_KATABOT_CONFIG) },
    { name: 'deck_url trailing slash dropped', text: 'deck_url: https://prow.example.org/\n', check: (c) => assert.equal(c.deck_url, 'https://prow.example.org') },
    { name: 'trace and report sections', text: 'trace:\n  image: tracer:1\nreport:\n  statuses: true\n', check: (c) => {
      assert.equal(c.trace.image, 'tracer:1');
      assert.deepEqual(c.trace.kata_runtime_classes, DEFAULT_KATABOT_CONFIG.trace.kata_runtime_classes);
      assert.equal(c.report.statuses, true);
    } },
    { name: 'retest section', text: 'retest:\n  github_actions: false\n', check: (c) => assert.deepEqual(c.retest, { github_actions: false }) },
    { name: 'trace.actions: workflows that run the katabot action', text: 'trace:\n  actions:\n    - workflow: ci-on-push.yaml\n      jobs: ["run-k8s-tests*"]\n      dispatch: true\n      baselines: [ci-nightly.yaml]\n', check: (c) => {
      assert.deepEqual(c.trace.actions, [{ workflow: 'ci-on-push.yaml', jobs: ['run-k8s-tests*'], dispatch: true, baselines: ['ci-nightly.yaml'] }]);
      assert.equal(c.trace.image, DEFAULT_KATABOT_CONFIG.trace.image);
    } },
    { name: 'retest re-runs GitHub Actions by default', text: '', check: (c) => assert.equal(c.retest.github_actions, true) },
  ];
  for (const c of cases) it(c.name, () => c.check(parseKatabotConfig(c.text, 'katabot.yaml')));
  it('results do not alias the defaults', () => {
    const c = parseKatabotConfig('', 'katabot.yaml');
    c.orgs.push('x');
    c.tdx.approvers.push('y');
    assert.deepEqual(DEFAULT_KATABOT_CONFIG.orgs, []);
    assert.deepEqual(DEFAULT_KATABOT_CONFIG.tdx.approvers, []);
  });
  it('the default tdx.jobs selects TDX jobs unanchored', () => {
    const re = compileGoRegExp(parseKatabotConfig('', 'katabot.yaml').tdx.jobs);
    assert.equal(re.test('e2e-kata-qemu-tdx'), true);
    assert.equal(re.test('e2e-kata-qemu'), false);
  });
});

describe('parseKatabotConfig: exact one-line errors', () => {
  const cases: Array<{ name: string; text: string; message: string }> = [
    { name: 'approvers not a list', text: 'tdx:\n  approvers: alice\n', message: 'katabot.yaml: tdx.approvers: must be an array of strings' },
    { name: 'approvers with a number', text: 'tdx:\n  approvers: [alice, 7]\n', message: 'katabot.yaml: tdx.approvers: must be an array of strings' },
    { name: 'approver with @', text: 'tdx:\n  approvers: ["@alice"]\n', message: 'katabot.yaml: tdx.approvers[0]: must be a GitHub login (without @)' },
    { name: 'unknown top-level key', text: 'org: [kata-containers]\n', message: 'katabot.yaml: org: unknown key (allowed: orgs, only_org_members, trusted_apps, ignore_ok_to_test, trusted_org, join_org_url, tdx, report, retest, trace, deck_url, external_plugin_name, repos, actions)' },
    { name: 'unknown nested key', text: 'tdx:\n  approver: [alice]\n', message: 'katabot.yaml: tdx.approver: unknown key (allowed: label, approvers, jobs, sticky, status, status_context)' },
    { name: 'dispatch without a workflow', text: 'actions:\n  dispatch:\n    tdx:\n      ref: main\n', message: 'katabot.yaml: actions.dispatch.tdx: must be a mapping with workflow, and optionally ref and inputs' },
    { name: 'dispatch input not text', text: 'actions:\n  dispatch:\n    tdx:\n      workflow: ci.yaml\n      inputs: {pr: [1]}\n', message: 'katabot.yaml: actions.dispatch.tdx.inputs: must be a mapping of input name → text' },
    { name: 'nightly workflows not a list', text: 'actions:\n  nightly_workflows: ci-nightly.yaml\n', message: 'katabot.yaml: actions.nightly_workflows: must be an array of workflow file names' },
    { name: 'boolean as string', text: 'only_org_members: "no"\n', message: 'katabot.yaml: only_org_members: must be true or false' },
    { name: 'tdx not a mapping', text: 'tdx: yes\n', message: 'katabot.yaml: tdx: must be a mapping' },
    { name: 'empty label', text: 'tdx:\n  label: ""\n', message: 'katabot.yaml: tdx.label: must be a non-empty string' },
    { name: 'bad tdx.jobs regex', text: 'tdx:\n  jobs: "*-tdx"\n', message: 'katabot.yaml: tdx.jobs: must be a valid regular expression: missing argument to repetition operator: `*`' },
    { name: 'trusted app with [bot]', text: 'trusted_apps: ["dependabot[bot]"]\n', message: 'katabot.yaml: trusted_apps[0]: must be a GitHub App name without the [bot] suffix' },
    { name: 'trace.actions workflow not a file name', text: 'trace:\n  actions:\n    - workflow: .github/workflows/ci.yaml\n      jobs: [k8s]\n', message: 'katabot.yaml: trace.actions[0].workflow: must be a workflow file name such as ci.yaml' },
    { name: 'trace.actions without jobs', text: 'trace:\n  actions:\n    - workflow: ci.yaml\n', message: 'katabot.yaml: trace.actions[0]: must be a mapping with workflow and jobs' },
    { name: 'trace.actions with no job', text: 'trace:\n  actions:\n    - workflow: ci.yaml\n      jobs: []\n', message: 'katabot.yaml: trace.actions[0].jobs: must be a non-empty array of job names or globs' },
    { name: 'deck_url not http', text: 'deck_url: prow.example.org\n', message: 'katabot.yaml: deck_url: must be an http(s) URL' },
    { name: 'top level a list', text: '- a\n', message: 'katabot.yaml: must be a mapping' },
    { name: 'YAML syntax error names the line', text: 'orgs: [kata-containers\ntdx:\n  label: x\n', message: 'katabot.yaml: line 2, column 1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]' },
    { name: 'duplicate key names the line', text: 'orgs: []\norgs: [a]\n', message: 'katabot.yaml: line 2, column 1: YAML syntax error: Map keys must be unique' },
    { name: 'tab indentation names the line', text: 'tdx:\n\tlabel: x\n', message: 'katabot.yaml: line 2, column 1: YAML syntax error: Tabs are not allowed as indentation' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(() => parseKatabotConfig(c.text, 'katabot.yaml'), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.message, c.message);
        assert.ok(!err.message.includes('\n'));
        return true;
      });
    });
  }
  it('names the file as given', () => {
    assert.throws(() => parseKatabotConfig('tdx: 1', '/etc/katabot/katabot.yaml'), { message: '/etc/katabot/katabot.yaml: tdx: must be a mapping' });
  });
});
