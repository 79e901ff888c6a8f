// What a GitHub Actions job event makes katabot record: one attempt record per job id (src/render/actions-results.ts),
// linked to the PR whose head it ran. Pure: the handler (src/handlers/actions-results.ts) gathers the run and the PR
// this asks for, from a `workflow_job` delivery and from backfill alike.
import type { WorkflowJobObject } from '../jobs/actions.ts';
import { actionsJobType } from '../jobs/actions.ts';
import { actionsResultOf } from '../render/actions-results.ts';
import type { RunRecord } from '../render/results.ts';
import { need, step, type Facts, type Step } from './facts.ts';

export interface WorkflowJobInput {
  owner: string;
  repo: string;
  job: WorkflowJobObject;
  /** KATABOT_CONFIG actions.nightly_workflows. */
  nightlyWorkflows: readonly string[];
}

export interface WorkflowJobPlan {
  /** The attempt to record; none when GitHub no longer knows its run. */
  record?: RunRecord;
  reason: string;
}

export function planWorkflowJob(input: WorkflowJobInput, facts: Facts): Step<WorkflowJobPlan> {
  return step(() => plan(input, facts));
}

function plan(i: WorkflowJobInput, facts: Facts): WorkflowJobPlan {
  const { job } = i;
  const run = need(facts.workflowRun?.[job.run_id], { fact: 'workflowRun', runId: job.run_id });
  if (run === null) return { reason: `run ${job.run_id} is unknown to GitHub` };
  const ctx = { owner: i.owner, repo: i.repo, run, nightlyWorkflows: i.nightlyWorkflows };
  if (actionsJobType(run, i.nightlyWorkflows) !== 'presubmit') return { record: actionsResultOf(job, ctx), reason: `${run.event} run` };
  // A PR run belongs to the PR whose head it ran: GitHub names it, except for a fork's PR, found from the head.
  const named = run.pulls[0];
  if (named !== undefined) return { record: actionsResultOf(job, { ...ctx, pull: named }), reason: 'PR run' };
  const found = need(facts.pullForSha?.[job.head_sha], { fact: 'pullForSha', sha: job.head_sha });
  if (found === null) return { record: actionsResultOf(job, ctx), reason: 'PR run whose PR was not found' };
  return { record: actionsResultOf(job, { ...ctx, pull: found }), reason: 'PR run of a fork' };
}
