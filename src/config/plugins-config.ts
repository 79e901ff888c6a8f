// PLUGIN_CONFIG: Prow's plugins.yaml, the parts katabot reads (kubernetes-sigs/prow a6194089 pkg/plugins/config.go):
// `triggers:` (who is trusted per org/repo), `external_plugins:` (which repos Prow's hook forwards to katabot, with
// which events) and `plugins:` (where Prow's own trigger still runs). Decoded as Prow decodes it. Pure.
import { ConfigError } from './errors.ts';
import { decodeGoYaml } from './go-yaml.ts';

/** One `triggers:` entry (Prow's plugins.Trigger). */
export interface TriggerEntry {
  /** `org` or `org/repo` */
  repos?: string[];
  trusted_apps?: string[];
  trusted_org?: string;
  join_org_url?: string;
  only_org_members?: boolean;
  ignore_ok_to_test?: boolean;
  trigger_github_workflows?: boolean;
}

/** One `external_plugins:` entry (Prow's plugins.ExternalPlugin); endpoint defaults to http://<name>. */
export interface ExternalPluginEntry {
  name: string;
  endpoint: string;
  /** Events Prow's hook forwards; empty: all of them. */
  events: string[];
}

export interface PluginsConfig {
  triggers: TriggerEntry[];
  /** `org` or `org/repo` → external plugins */
  external_plugins: Record<string, ExternalPluginEntry[]>;
  /** `org` or `org/repo` → Prow's own plugins enabled there */
  plugins: Record<string, { plugins: string[]; excluded_repos: string[] }>;
}

const EMPTY: PluginsConfig = { triggers: [], external_plugins: {}, plugins: {} };

/**
 * Parses plugins.yaml. Checks what Prow's validation checks for these sections: an external plugin named both for
 * an org and for one of its repos is refused (validateExternalPlugins).
 */
export function parsePluginsConfig(text: string, file: string): PluginsConfig {
  const raw = decodeGoYaml(text, file, { struct: 'PluginsConfiguration' }).value as
    | { triggers?: TriggerEntry[]; external_plugins?: Record<string, Array<Partial<ExternalPluginEntry>>>; plugins?: unknown }
    | undefined;
  if (raw === undefined) return structuredClone(EMPTY);
  const out: PluginsConfig = { triggers: raw.triggers ?? [], external_plugins: {}, plugins: {} };
  for (const [key, list] of Object.entries(raw.external_plugins ?? {})) {
    out.external_plugins[key] = (list ?? []).map((p, i) => {
      if (!p.name) throw new ConfigError(file, ['external_plugins', key, i, 'name'], 'is required');
      return { name: p.name, endpoint: p.endpoint || `http://${p.name}`, events: p.events ?? [] };
    });
  }
  for (const [key, list] of Object.entries(out.external_plugins)) {
    const slash = key.indexOf('/');
    if (slash < 0) continue;
    const orgNames = new Set((out.external_plugins[key.slice(0, slash)] ?? []).map((p) => p.name));
    const dupes = list.filter((p) => orgNames.has(p.name)).map((p) => p.name);
    if (dupes.length > 0) throw new ConfigError(file, ['external_plugins', key], `external plugins ${dupes.join(', ')} are listed for both ${key} and ${key.slice(0, slash)}`);
  }
  out.plugins = prowPlugins(raw.plugins, file);
  return out;
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * `plugins:` as Prow's Plugins.UnmarshalJSON reads it: `{org: {plugins: [...], excluded_repos: [...]}}`, or the
 * older `{org: [...]}`.
 */
function prowPlugins(raw: unknown, file: string): PluginsConfig['plugins'] {
  const out: PluginsConfig['plugins'] = {};
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(file, ['plugins'], 'must be a mapping of org or org/repo to plugins');
  for (const [key, v] of Object.entries(raw)) {
    if (v === null) continue;
    if (isStringList(v)) {
      out[key] = { plugins: v, excluded_repos: [] };
      continue;
    }
    const entry = v as { plugins?: unknown; excluded_repos?: unknown };
    if (typeof v !== 'object' || Array.isArray(v) || (entry.plugins !== undefined && !isStringList(entry.plugins)) || (entry.excluded_repos !== undefined && !isStringList(entry.excluded_repos))) {
      throw new ConfigError(file, ['plugins', key], 'must be a list of plugin names or a mapping with plugins and excluded_repos lists');
    }
    out[key] = { plugins: (entry.plugins as string[] | undefined) ?? [], excluded_repos: (entry.excluded_repos as string[] | undefined) ?? [] };
  }
  return out;
}

/**
 * Prow's Configuration.TriggerFor: the first entry naming `org/repo`, else the first naming `org`; entries are
 * taken whole (an org entry's settings do not fill a repo entry's gaps). undefined when none matches.
 */
export function triggerFor(plugins: PluginsConfig, org: string, repo: string): TriggerEntry | undefined {
  const full = `${org}/${repo}`;
  const entry = plugins.triggers.find((t) => t.repos?.includes(full)) ?? plugins.triggers.find((t) => t.repos?.includes(org));
  if (!entry) return undefined;
  // Trigger.SetDefaults: a trusted org without a join URL links to its people page.
  if (entry.trusted_org && !entry.join_org_url) return { ...entry, join_org_url: `https://github.com/orgs/${entry.trusted_org}/people` };
  return entry;
}

/** Prow's hook demux: the external plugin `name` as configured for `org` and for `org/repo` (both apply). */
export function externalPluginEntries(plugins: PluginsConfig, name: string, org: string, repo: string): ExternalPluginEntry[] {
  return [...(plugins.external_plugins[org] ?? []), ...(plugins.external_plugins[`${org}/${repo}`] ?? [])].filter((p) => p.name === name);
}

/** Prow's EnabledReposForExternalPlugin: the orgs and repositories whose events the hook sends to `name`. */
export function externalPluginScope(plugins: PluginsConfig, name: string): { orgs: string[]; repos: string[] } {
  const orgs: string[] = [];
  const repos: string[] = [];
  for (const [key, list] of Object.entries(plugins.external_plugins)) {
    if (!list.some((p) => p.name === name)) continue;
    (key.includes('/') ? repos : orgs).push(key);
  }
  return { orgs: orgs.sort(), repos: repos.sort() };
}

/** Prow's ConfigAgent.getPlugins: its own plugins enabled for a repository (org list minus excluded_repos, plus the repo's). */
export function prowPluginsFor(plugins: PluginsConfig, org: string, repo: string): string[] {
  const orgEntry = plugins.plugins[org];
  const fromOrg = orgEntry && !orgEntry.excluded_repos.includes(repo) ? orgEntry.plugins : [];
  return [...fromOrg, ...(plugins.plugins[`${org}/${repo}`]?.plugins ?? [])];
}

/**
 * Webhook actions GitHub delivers only to the GitHub App that owns the checks, never to repository or organization
 * webhooks, so Prow's hook never has them (test/integration/deploy.test.ts checks this against GitHub's docs).
 */
export const APP_ONLY_ACTIONS: ReadonlySet<string> = new Set(['check_run.rerequested', 'check_run.requested_action', 'check_suite.requested', 'check_suite.rerequested']);

/** The events (of `event.action` registrations) Prow's hook can forward: those with an action repository webhooks get. */
export function eventsViaHook(registeredActions: readonly string[]): string[] {
  return [...new Set(registeredActions.filter((ea) => !APP_ONLY_ACTIONS.has(ea)).map((ea) => ea.split('.')[0] as string))].sort();
}

/**
 * One line per problem an admin should fix in plugins.yaml for katabot (`name`) to work: an entry that filters
 * out events katabot handles, and repositories where Prow's own trigger also runs (both would start jobs).
 */
export function pluginsWarnings(plugins: PluginsConfig, name: string, neededEvents: readonly string[], file = 'plugins.yaml'): string[] {
  const warnings: string[] = [];
  for (const [key, list] of Object.entries(plugins.external_plugins).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const p of list) {
      if (p.name !== name || p.events.length === 0) continue;
      const missing = neededEvents.filter((e) => !p.events.includes(e));
      if (missing.length > 0) warnings.push(`${file}: external_plugins.${key}: Prow's hook does not send ${name} ${missing.join(', ')} events (add them, or list no events to get all)`);
    }
  }
  const scope = externalPluginScope(plugins, name);
  for (const key of [...scope.orgs, ...scope.repos]) {
    const [org, repo] = key.split('/') as [string, string | undefined];
    const withTrigger = repo === undefined
      ? (plugins.plugins[org]?.plugins.includes('trigger') ? [org] : [])
      : (prowPluginsFor(plugins, org, repo).includes('trigger') ? [key] : []);
    for (const k of withTrigger) warnings.push(`${file}: plugins.${k}: Prow's trigger is enabled where ${name} serves too; both would start jobs (disable trigger there)`);
  }
  return warnings;
}
