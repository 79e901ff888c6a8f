// The reply to `/trace` of GitHub Actions jobs: what was dispatched or re-run, or why not. Pure.
import type { ActionsTraceRun, RunOutcome } from '../plan/runs.ts';

const code = (s: string): string => `\`${s.replace(/`/g, "'")}\``;

/** One line per traced Actions job (wrap with formatResponse). */
export function actionsTraceReply(outcomes: ReadonlyArray<RunOutcome & { run: ActionsTraceRun }>): string {
  const lines = outcomes.map((o) => {
    const what = o.run.how === 'dispatch'
      ? `${code(o.run.workflow)} dispatched on ${code(o.run.baseRef)} for this PR's head ${code(o.run.headSha.slice(0, 12))}`
      : `re-run in ${code(o.run.workflow)} on this PR's head ${code(o.run.headSha.slice(0, 12))}`;
    if (o.result === 'refused') return `- ${code(o.run.job)}: not traced: ${o.message}`;
    if (o.result === 'failed') return `- ${code(o.run.job)}: not traced: ${o.error.message}`;
    return `- ${code(o.run.job)}: ${what}, with the katabot tracer.`;
  });
  return `GitHub Actions jobs traced by the katabot action:\n\n${lines.join('\n')}\n\n`
    + 'When the run completes, its behavior diff against the base branch is posted here and as the `katabot / behavior (<job>)` check.';
}
