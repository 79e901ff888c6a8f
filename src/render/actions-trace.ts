// The reply to `/trace` of GitHub Actions jobs: what was dispatched or re-run, or why not. Pure.

/** One traced Actions job, as the reply tells it. */
export interface ActionsTraceAnswer {
  job: string;
  workflow: string;
  how: 'dispatch' | 'rerun';
  baseRef: string;
  headSha: string;
  /** Why it was not started; absent when it was. */
  problem?: string;
}

const code = (s: string): string => `\`${s.replace(/`/g, "'")}\``;

/** One line per traced Actions job (wrap with formatResponse). */
export function actionsTraceReply(answers: readonly ActionsTraceAnswer[]): string {
  const lines = answers.map((a) => {
    if (a.problem !== undefined) return `- ${code(a.job)}: not traced: ${a.problem}`;
    const what = a.how === 'dispatch'
      ? `${code(a.workflow)} dispatched on ${code(a.baseRef)} for this PR's head ${code(a.headSha.slice(0, 12))}`
      : `re-run in ${code(a.workflow)} on this PR's head ${code(a.headSha.slice(0, 12))}`;
    return `- ${code(a.job)}: ${what}, with the katabot tracer.`;
  });
  return `GitHub Actions jobs traced by the katabot action:\n\n${lines.join('\n')}\n\n`
    + 'When the run completes, its behavior diff against the base branch is posted here and as the `katabot / behavior (<job>)` check.';
}
