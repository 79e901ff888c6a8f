// Prow's PluginHelp for external plugins: POST /help returns Go-style capitalised JSON, which Deck shows
// on /command-help. Only plugins that declare Commands appear there, so every command is listed.
import { COMMANDS } from '../commands/registry.ts';
import type { KatabotConfig } from '../config/types.ts';
import { escapeHtml } from '../render/html.ts';

export interface PluginHelp {
  Description: string;
  Config: Record<string, string>;
  Snippet: string;
  Events: string[];
  Commands: Array<{ Usage: string; Featured: boolean; Description: string; Examples: string[]; WhoCanUse: string }>;
}

export function pluginHelp(policy: KatabotConfig, events: readonly string[], repos: Array<{ Org?: string; Repo?: string }>): PluginHelp {
  const trusted = policy.orgs.length ? `members of ${policy.orgs.join(', ')}` : 'members of the repository org';
  const config: Record<string, string> = {
    '': `Trusted users: ${trusted}${policy.only_org_members ? '' : ', repository collaborators'}${
      policy.trusted_apps.length ? `, and the apps ${policy.trusted_apps.join(', ')}` : ''
    }. TDX jobs matching <code>${escapeHtml(policy.tdx.jobs)}</code> need the <code>${escapeHtml(policy.tdx.label)}</code> label from ${
      policy.tdx.approvers.length ? policy.tdx.approvers.join(', ') : 'a configured approver'
    }${policy.tdx.sticky ? '' : ', given again after every push'}.`,
  };
  for (const r of repos) if (r.Org && r.Repo) config[`${r.Org}/${r.Repo}`] = config['']!;
  return {
    Description:
      'katabot triggers Prow presubmits from slash commands, reports them as GitHub check runs and can trace a job with eBPF to report a behavior diff.',
    Config: config,
    Snippet: [
      'orgs: [kata-containers]',
      'only_org_members: false',
      'trusted_apps: [dependabot]',
      'tdx:',
      '  label: ok-to-test-tdx',
      '  approvers: [alice, bob]',
      '  jobs: ".*-tdx.*"',
      '  sticky: false',
      'deck_url: https://prow.example.org',
    ].join('\n'),
    Events: [...events],
    Commands: COMMANDS.map((c) => ({
      Usage: c.usage,
      Featured: c.featured,
      Description: c.description,
      Examples: [...c.examples],
      WhoCanUse: c.whoCanUse,
    })),
  };
}

