// The policy katabot applies to one repository: KATABOT_CONFIG's global settings, then Prow's plugins.yaml
// trigger entry for the repository (as Prow's trigger would use it), then KATABOT_CONFIG's `repos:` overrides for the
// org and for the repository. Pure.
import { externalPluginScope, triggerFor, type PluginsConfig } from './plugins-config.ts';
import type { KatabotConfig, RepoOverride } from './types.ts';

/** What repoPolicy reads: a ConfigSnapshot has both. */
export interface PolicySources {
  katabot: KatabotConfig;
  /** PLUGIN_CONFIG, when set. */
  plugins?: PluginsConfig | undefined;
}

function applyOverride(policy: KatabotConfig, o: RepoOverride | undefined): void {
  if (!o) return;
  if (o.orgs !== undefined) policy.orgs = [...o.orgs];
  if (o.only_org_members !== undefined) policy.only_org_members = o.only_org_members;
  if (o.trusted_apps !== undefined) policy.trusted_apps = [...o.trusted_apps];
  if (o.ignore_ok_to_test !== undefined) policy.ignore_ok_to_test = o.ignore_ok_to_test;
  if (o.trusted_org !== undefined) policy.trusted_org = o.trusted_org;
  if (o.join_org_url !== undefined) policy.join_org_url = o.join_org_url;
  if (o.tdx) policy.tdx = { ...policy.tdx, ...o.tdx };
  if (o.report) policy.report = { ...policy.report, ...o.report };
  if (o.retest) policy.retest = { ...policy.retest, ...o.retest };
}

/**
 * The effective policy for `org/repo`:
 * 1. KATABOT_CONFIG's top-level settings;
 * 2. when plugins.yaml has a `triggers:` entry for the repository (Prow's TriggerFor: an `org/repo` entry before an
 *    `org` entry, taken whole), its settings replace katabot's trust settings, with Prow's defaults for what it
 *    leaves out: only_org_members, trusted_apps, ignore_ok_to_test, trusted_org, join_org_url, and
 *    trigger_github_workflows as `retest.github_actions`; the repository's org is trusted;
 * 3. KATABOT_CONFIG `repos.<org>`, then `repos.<org>/<repo>` (the repository's keys win).
 * With no orgs set, the repository's own org is trusted (Prow's default); a trusted_org adds its members (Prow's
 * second org). Keys are matched exactly, as Prow does.
 */
export function repoPolicy(config: PolicySources, org: string, repo: string): KatabotConfig {
  // Every delivery asks, intake included; a config snapshot is replaced on reload, never changed, so the answer
  // for a repository is computed once per snapshot (and frozen, since callers share it).
  let perRepo = memo.get(config);
  if (!perRepo) memo.set(config, (perRepo = new Map()));
  const key = `${org}/${repo}`;
  let policy = perRepo.get(key);
  if (!policy) perRepo.set(key, (policy = deepFreeze(computePolicy(config, org, repo))));
  return policy;
}

const memo = new WeakMap<PolicySources, Map<string, KatabotConfig>>();

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function computePolicy(config: PolicySources, org: string, repo: string): KatabotConfig {
  const policy: KatabotConfig = structuredClone(config.katabot);
  policy.repos = {};
  const trigger = config.plugins ? triggerFor(config.plugins, org, repo) : undefined;
  if (trigger) {
    policy.orgs = [];
    policy.only_org_members = trigger.only_org_members ?? false;
    policy.trusted_apps = [...(trigger.trusted_apps ?? [])];
    policy.ignore_ok_to_test = trigger.ignore_ok_to_test ?? false;
    policy.retest = { ...policy.retest, github_actions: trigger.trigger_github_workflows ?? false };
    delete policy.trusted_org;
    delete policy.join_org_url;
    if (trigger.trusted_org) policy.trusted_org = trigger.trusted_org;
    if (trigger.join_org_url) policy.join_org_url = trigger.join_org_url;
  }
  applyOverride(policy, config.katabot.repos[org]);
  applyOverride(policy, config.katabot.repos[`${org}/${repo}`]);
  // Prow trusts the members of the repository's own org (TrustedUser's first org) unless told otherwise.
  if (policy.orgs.length === 0) policy.orgs = [org];
  if (policy.trusted_org && !policy.orgs.includes(policy.trusted_org)) policy.orgs = [...policy.orgs, policy.trusted_org];
  return policy;
}

/**
 * Whether katabot acts on `org/repo`: when plugins.yaml lists katabot (`external_plugin_name`) under
 * `external_plugins`, only on the orgs and repositories listed there, as Prow's hook forwards events only for them;
 * otherwise (no PLUGIN_CONFIG, or katabot not listed: a plain GitHub App) on every repository it receives events for.
 */
export function servesRepo(config: PolicySources, org: string, repo: string): boolean {
  if (!config.plugins) return true;
  const scope = externalPluginScope(config.plugins, config.katabot.external_plugin_name);
  if (scope.orgs.length === 0 && scope.repos.length === 0) return true;
  return scope.orgs.includes(org) || scope.repos.includes(`${org}/${repo}`);
}
