// `katabot profile TRACE`: what a run did, as the behavior diff sees it (normalised keys, counts).
import type { Command } from 'commander';
import { loadProfile } from '../behavior/read.ts';
import { skipsText } from '../trace/audit-parse.ts';
import { collapseProfiles, type BehaviorProfile } from '../trace/profile.ts';
import { CATEGORIES } from '../trace/profile-rules.ts';
import { CATEGORY_TITLES, CUSTOM_TITLE } from '../render/behavior.ts';
import { CliInputError, ignoreRules, openApiOption, reportCliError } from './diff.ts';

interface ProfileCliOptions {
  format: string;
  ignore?: string;
  defaultIgnores: boolean;
  openapi?: string;
  threshold?: string;
  strict?: boolean;
}

export function renderProfileText(p: BehaviorProfile): string {
  const lines: string[] = [];
  lines.push(`katabot profile: ${p.traces.length} trace${p.traces.length === 1 ? '' : 's'}, ${p.events} events`
    + (p.auditEvents ? `, ${p.auditEvents} audit events` : '') + (p.lostEvents ? `, ${p.lostEvents} lost (incomplete)` : ''));
  const skipped = skipsText(p.auditSkipped);
  if (skipped) lines.push(`  ${skipped}`);
  for (const c of CATEGORIES) {
    const items = p[c] as Array<{ key: string; count: number }>;
    lines.push('', `${CATEGORY_TITLES[c]} (${items.length})`);
    for (const it of items) lines.push(`  ${it.key}${it.count > 1 ? `  ×${it.count}` : ''}`);
  }
  // Custom events of eBPF packages, for traces that have them (format 1.1).
  if (p.custom?.length) {
    lines.push('', `${CUSTOM_TITLE} (${p.custom.length})`);
    for (const it of p.custom) lines.push(`  ${it.key}${it.count > 1 ? `  ×${it.count}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

export function registerProfile(program: Command): void {
  program
    .command('profile')
    .description('print the behavior profile of a run (a trace, a saved profile, or a directory of artifacts)')
    .argument('<trace>', 'trace JSONL, profile JSON, or artifacts directory')
    .option('--format <format>', 'text or json (a profile katabot diff accepts as BASE or HEAD)', 'text')
    .option('--ignore <file>', 'ignore globs (see katabot diff --help)')
    .option('--no-default-ignores', 'keep the noise every run has')
    .option('--openapi <spec>', 'OpenAPI v2 spec for audit logs in the directory')
    .option('--threshold <n>', 'collapse directories with more children than this (text output; default 20)')
    .option('--strict', 'a malformed audit log line is an error (default: skipped and counted)')
    .action(async (trace: string, o: ProfileCliOptions) => {
      try {
        if (!['text', 'json'].includes(o.format)) throw new CliInputError(`--format wants text or json, got ${JSON.stringify(o.format)}`);
        const ignore = await ignoreRules(o.ignore, o.defaultIgnores);
        const openapi = await openApiOption(o.openapi);
        const p = await loadProfile(trace, { ignore, ...(openapi ? { openapi } : {}), ...(o.strict ? { strict: true } : {}) });
        if (o.format === 'json') {
          process.stdout.write(JSON.stringify(p, null, 1) + '\n');
          return;
        }
        const threshold = o.threshold === undefined ? undefined : Number(o.threshold);
        process.stdout.write(renderProfileText(collapseProfiles([p], threshold ? { threshold } : {})[0]!));
      } catch (err) {
        reportCliError('profile', err);
      }
    });
}
