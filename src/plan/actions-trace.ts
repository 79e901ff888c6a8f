// `/trace <job>` for GitHub Actions jobs that run the katabot action: which named targets are such jobs (the
// `trace.actions` config: workflow file, job names or globs, dispatch or re-run), and the runs that trace them.
// Pure. Trust is /trace's own (src/policy/commands.ts): a trusted commenter on a trusted PR (an untrusted author's
// PR needs ok-to-test), so the privileged tracer never runs for code nobody vouched for. A dispatch runs the
// workflow as the base branch defines it, and that workflow checks the PR out only after the tracer is attached.
import { Minimatch } from 'minimatch';
import type { ActionsTraceWorkflow } from '../config/types.ts';
import { DISPATCH_INPUTS } from '../trace/action-manifest.ts';
import type { PullFacts } from './facts.ts';
import type { ActionsTraceRun } from './runs.ts';

/** The workflow whose traced jobs include `target`: the first in config order. */
function actionsWorkflowFor(configured: readonly ActionsTraceWorkflow[] | undefined, target: string): ActionsTraceWorkflow | undefined {
  return configured?.find((w) => w.jobs.some((glob) => new Minimatch(glob, { nobrace: true, noext: true, nonegate: true, nocomment: true }).match(target)));
}

/** The Actions runs of `/trace <targets…>`, and the targets they claim (no longer unknown to the Prow jobs). */
export function actionsTraceRuns(configured: readonly ActionsTraceWorkflow[] | undefined, targets: readonly string[], pr: PullFacts): { runs: ActionsTraceRun[]; claimed: string[] } {
  const runs: ActionsTraceRun[] = [];
  const claimed: string[] = [];
  for (const job of targets) {
    const w = actionsWorkflowFor(configured, job);
    if (!w || claimed.includes(job)) continue;
    claimed.push(job);
    runs.push({ backend: 'actions-trace', job, workflow: w.workflow, how: w.dispatch ? 'dispatch' : 'rerun', pr: pr.number, headSha: pr.headSha, baseRef: pr.baseRef });
  }
  return { runs, claimed };
}

/** The workflow_dispatch inputs a `/trace` dispatch sets (action/plan.ts reads them back into the manifest). */
export function dispatchInputs(run: Pick<ActionsTraceRun, 'pr' | 'headSha'>): Record<string, string> {
  return { [DISPATCH_INPUTS.trace]: 'true', [DISPATCH_INPUTS.pr]: String(run.pr), [DISPATCH_INPUTS.sha]: run.headSha };
}

/** The job of a run that `/trace <name>` re-runs: GitHub's display name is the name, or the name and matrix values. */
export function jobMatches(displayName: string, name: string): boolean {
  return displayName === name || displayName.startsWith(`${name} (`) || displayName.endsWith(` / ${name}`) || displayName.includes(` / ${name} (`);
}
