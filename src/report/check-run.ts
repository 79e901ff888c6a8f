// Check-run bodies (pure). The queued body is written at trigger time; the reporter updates it later.
import type { ProwJob } from '../jobs/types.ts';
import type { CheckRunInput } from '../adapters/github.ts';

export function queuedCheckRun(pj: ProwJob, detailsUrl: string | undefined): CheckRunInput {
  const pull = pj.spec.refs?.pulls?.[0];
  const context = pj.spec.context ?? pj.spec.job;
  const traced = pj.metadata.labels?.['katabot.dev/trace'] === 'true';
  const lines = [
    `**${pj.spec.job}** is queued for ${pull ? `\`${pull.sha.slice(0, 12)}\`` : 'this commit'}.`,
    '',
    `| | |`,
    `|---|---|`,
    `| State | triggered |`,
    `| ProwJob | \`${pj.metadata.name}\` |`,
  ];
  if (detailsUrl) lines.push(`| Deck | [${pj.spec.job}](${detailsUrl}) |`);
  if (pj.spec.rerun_command) lines.push(`| Rerun | \`${pj.spec.rerun_command}\` |`);
  if (traced) lines.push(`| Tracing | eBPF tracer attached; the behavior diff follows the result |`);
  return {
    name: context,
    head_sha: pull?.sha ?? pj.spec.refs?.base_sha ?? '',
    external_id: pj.metadata.name,
    status: 'queued',
    ...(detailsUrl ? { details_url: detailsUrl } : {}),
    output: { title: `${pj.spec.job}: triggered`, summary: lines.join('\n') },
  };
}
