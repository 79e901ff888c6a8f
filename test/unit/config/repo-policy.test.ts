// Per-repository trust settings: Prow's plugins.yaml `triggers:` as Prow's TriggerFor picks them, then
// KATABOT_CONFIG `repos:` overrides. Fixture: the real plugins.yaml of kubernetes/test-infra and gardener/ci-infra
// (test/fixtures/prow-real, commits in its README).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/errors.ts';
import { parseKatabotConfig } from '../../../src/config/katabot-config.ts';
import { externalPluginEntries, externalPluginScope, parsePluginsConfig, pluginsWarnings, prowPluginsFor, triggerFor } from '../../../src/config/plugins-config.ts';
import { repoPolicy, servesRepo } from '../../../src/config/repo-policy.ts';
import { DEFAULT_KATABOT_CONFIG } from '../../../src/config/types.ts';

const fixture = (dir: string): string => readFileSync(new URL(`../../fixtures/prow-real/${dir}/config/prow/plugins.yaml`, import.meta.url), 'utf8');
const K8S = parsePluginsConfig(fixture('kubernetes-test-infra'), 'plugins.yaml');
const GARDENER = parsePluginsConfig(fixture('gardener-ci-infra'), 'plugins.yaml');
const K8S_JOIN = 'https://git.k8s.io/community/community-membership.md#member';

describe('repoPolicy with kubernetes/test-infra plugins.yaml', () => {
  const katabot = parseKatabotConfig('orgs: [kata-containers]\ntrusted_apps: [renovate]\n', 'katabot.yaml');
  // orgs: whose members are trusted; a trigger entry trusts the repository's own org, as Prow's TrustedUser does.
  const cases: Array<{ repo: string; only: boolean; apps: string[]; workflows: boolean; join?: string; orgs: string[] }> = [
    // org entry for kubernetes: members only
    { repo: 'kubernetes/kubernetes', only: true, apps: [], workflows: false, join: K8S_JOIN, orgs: ['kubernetes'] },
    { repo: 'kubernetes-sigs/kueue', only: true, apps: [], workflows: false, join: K8S_JOIN, orgs: ['kubernetes-sigs'] },
    // a repo entry wins over the org entry, whole: kubernetes/utils does not say only_org_members
    { repo: 'kubernetes/utils', only: false, apps: [], workflows: true, join: K8S_JOIN, orgs: ['kubernetes'] },
    // the first entry naming the repo (cluster-api is in the first entry and the kubernetes-sigs org entry)
    { repo: 'kubernetes-sigs/cluster-api', only: true, apps: [], workflows: true, join: K8S_JOIN, orgs: ['kubernetes-sigs'] },
    // etcd-io and containerd are not members-only
    { repo: 'etcd-io/etcd', only: false, apps: [], workflows: true, join: 'https://github.com/etcd-io/etcd/blob/main/CONTRIBUTING.md', orgs: ['etcd-io'] },
    { repo: 'containerd/containerd', only: false, apps: [], workflows: true, join: 'https://github.com/containerd/project/blob/main/MAINTAINERS', orgs: ['containerd'] },
    { repo: 'google/cadvisor', only: false, apps: [], workflows: false, join: K8S_JOIN, orgs: ['google'] },
    // no entry: katabot's own settings
    { repo: 'containerd/nerdctl', only: false, apps: ['renovate'], workflows: true, orgs: ['kata-containers'] },
    { repo: 'kata-containers/kata-containers', only: false, apps: ['renovate'], workflows: true, orgs: ['kata-containers'] },
  ];
  for (const c of cases) {
    it(c.repo, () => {
      const [org, repo] = c.repo.split('/') as [string, string];
      const p = repoPolicy({ katabot, plugins: K8S }, org, repo);
      assert.equal(p.only_org_members, c.only);
      assert.deepEqual(p.trusted_apps, c.apps);
      assert.equal(p.retest.github_actions, c.workflows);
      assert.equal(p.join_org_url, c.join);
      assert.deepEqual(p.orgs, c.orgs);
      assert.equal(p.ignore_ok_to_test, false);
      assert.deepEqual(p.tdx, katabot.tdx, 'settings plugins.yaml does not have stay katabot’s');
      assert.deepEqual(p.repos, {});
    });
  }
});

describe('KATABOT_CONFIG repos: overrides', () => {
  const katabot = parseKatabotConfig([
    'repos:',
    '  kubernetes:',
    '    only_org_members: false',
    '    tdx: {approvers: [alice]}',
    '  kubernetes/kubernetes:',
    '    trusted_apps: [dependabot]',
    '    only_org_members: true',
    '  etcd-io/etcd:',
    '    trusted_org: kubernetes',
    '',
  ].join('\n'), 'katabot.yaml');
  it('an org override applies to its repos, over plugins.yaml', () => {
    const p = repoPolicy({ katabot, plugins: K8S }, 'kubernetes', 'utils');
    assert.equal(p.only_org_members, false);
    assert.deepEqual(p.tdx.approvers, ['alice']);
    assert.equal(p.tdx.label, DEFAULT_KATABOT_CONFIG.tdx.label);
  });
  it('a repo override wins over the org override', () => {
    const p = repoPolicy({ katabot, plugins: K8S }, 'kubernetes', 'kubernetes');
    assert.equal(p.only_org_members, true);
    assert.deepEqual(p.trusted_apps, ['dependabot']);
    assert.deepEqual(p.tdx.approvers, ['alice']);
  });
  it('trusted_org adds a second trusted org, as Prow trusts members of both', () => {
    const p = repoPolicy({ katabot, plugins: K8S }, 'etcd-io', 'etcd');
    assert.deepEqual(p.orgs, ['etcd-io', 'kubernetes']);
    assert.equal(p.trusted_org, 'kubernetes');
  });
  it('without plugins.yaml, overrides apply over the top-level settings', () => {
    const p = repoPolicy({ katabot }, 'kubernetes', 'kubernetes');
    assert.equal(p.only_org_members, true);
    assert.equal(p.retest.github_actions, true);
  });
  const errors: Array<[string, string]> = [
    ['repos:\n  kubernetes/kubernetes:\n    only_org_members: yes please\n', 'katabot.yaml: repos.kubernetes/kubernetes.only_org_members: must be true or false'],
    ['repos:\n  kubernetes:\n    orgz: [a]\n', 'katabot.yaml: repos.kubernetes.orgz: unknown key (allowed: orgs, only_org_members, trusted_apps, ignore_ok_to_test, trusted_org, join_org_url, tdx, report, retest)'],
    ['repos:\n  "not a repo":\n    only_org_members: true\n', 'katabot.yaml: repos.not a repo: keys must be an org or org/repo'],
    ['repos:\n  kata-containers:\n    tdx: {jobs: "("}\n', 'katabot.yaml: repos.kata-containers.tdx.jobs: must be a valid regular expression: missing closing ): `(`'],
    ['repos: [kubernetes]\n', 'katabot.yaml: repos: must be a mapping of org or org/repo to settings'],
  ];
  for (const [text, message] of errors) {
    it(`refuses: ${message}`, () => assert.throws(() => parseKatabotConfig(text, 'katabot.yaml'), (e: unknown) => e instanceof ConfigError && e.message === message));
  }
});

describe('plugins.yaml', () => {
  it('gardener: trusted apps for the org', () => {
    assert.deepEqual(triggerFor(GARDENER, 'gardener', 'gardener'), { trusted_apps: ['dependabot'], repos: ['gardener'], join_org_url: 'https://gardener.cloud/docs/contribute/code/roles/' });
    assert.deepEqual(repoPolicy({ katabot: DEFAULT_KATABOT_CONFIG, plugins: GARDENER }, 'gardener', 'etcd-druid').trusted_apps, ['dependabot']);
  });
  it("external plugins: the hook's scope and events, endpoint defaulted", () => {
    assert.deepEqual(externalPluginScope(K8S, 'cherrypicker').orgs, []);
    assert.ok(externalPluginScope(K8S, 'cherrypicker').repos.includes('kubernetes/cloud-provider-vsphere'));
    assert.deepEqual(externalPluginEntries(K8S, 'needs-rebase', 'kubernetes', 'kubernetes'), [{ name: 'needs-rebase', endpoint: 'http://needs-rebase', events: ['issue_comment', 'pull_request'] }]);
    assert.deepEqual(externalPluginScope(GARDENER, 'cla-assistant'), { orgs: ['gardener'], repos: [] });
  });
  it("Prow's own plugins per repo, old and new forms", () => {
    assert.ok(prowPluginsFor(K8S, 'kubernetes', 'kubernetes').includes('trigger'));
    const old = parsePluginsConfig('plugins:\n  kata-containers: [trigger, hold]\n  kata-containers/tests: {plugins: [lgtm]}\n', 'p.yaml');
    assert.deepEqual(prowPluginsFor(old, 'kata-containers', 'tests'), ['trigger', 'hold', 'lgtm']);
  });
  const KATA = `external_plugins:
  kata-containers:
  - name: katabot
    endpoint: http://katabot.prow:3000
    events: [issue_comment, pull_request]
  kata-containers/ci:
  - name: needs-rebase
plugins:
  kata-containers:
    excluded_repos: [ci]
    plugins: [trigger, lgtm]
`;
  it('katabot serves what the hook forwards to it; warnings name missing events and a competing trigger', () => {
    const plugins = parsePluginsConfig(KATA, 'plugins.yaml');
    const katabot = DEFAULT_KATABOT_CONFIG;
    assert.equal(servesRepo({ katabot, plugins }, 'kata-containers', 'kata-containers'), true);
    assert.equal(servesRepo({ katabot, plugins }, 'confidential-containers', 'operator'), false);
    assert.equal(servesRepo({ katabot, plugins: K8S }, 'anything', 'at-all'), true, 'katabot not listed: a plain GitHub App');
    assert.equal(servesRepo({ katabot }, 'anything', 'at-all'), true);
    assert.deepEqual(pluginsWarnings(plugins, 'katabot', ['issue_comment', 'pull_request', 'push', 'check_run']), [
      "plugins.yaml: external_plugins.kata-containers: Prow's hook does not send katabot push, check_run events (add them, or list no events to get all)",
      "plugins.yaml: plugins.kata-containers: Prow's trigger is enabled where katabot serves too; both would start jobs (disable trigger there)",
    ]);
  });
  it('refuses an external plugin named for both an org and one of its repos (Prow validateExternalPlugins)', () => {
    assert.throws(() => parsePluginsConfig('external_plugins:\n  o: [{name: katabot}]\n  o/r: [{name: katabot}]\n', 'p.yaml'), { message: 'p.yaml: external_plugins.o/r: external plugins katabot are listed for both o/r and o' });
  });
});
