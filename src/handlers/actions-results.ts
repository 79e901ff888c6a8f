// Records every GitHub Actions job attempt in the results store, from webhooks (the workflow consumer) and from
// backfill alike: facts (the run, the PR of a fork's head) → planWorkflowJob → put. A run's facts are kept when its
// own event arrives, so its jobs' events need no API call.
import type { GitHub } from '../adapters/github.ts';
import { runInfoOf, type RunInfo, type WorkflowJobObject } from '../jobs/actions.ts';
import type { Facts } from '../plan/facts.ts';
import { planWorkflowJob } from '../plan/workflow.ts';
import type { RunRecord } from '../render/results.ts';
import type { HandlerDeps } from './deps.ts';
import { planWith, rememberRun } from './facts.ts';
import type { WorkflowConsumer } from './workflow.ts';

/** Records one job attempt; `run`, when the caller has it, saves asking for it. Returns what is stored. */
export async function recordActionsJob(deps: HandlerDeps, gh: GitHub, job: WorkflowJobObject, run?: RunInfo): Promise<RunRecord | undefined> {
  const input = { owner: gh.owner, repo: gh.repo, job, nightlyWorkflows: deps.config().katabot.actions.nightly_workflows };
  const seed: Facts = run ? { workflowRun: { [run.id]: run } } : {};
  const plan = await planWith((facts) => planWorkflowJob(input, facts), { deps, gh }, seed);
  if (!plan.record) {
    deps.log.debug({ job: job.id, reason: plan.reason }, 'actions job not recorded');
    return undefined;
  }
  const stored = await deps.results.put(plan.record);
  deps.metrics.actionsJobsRecorded.inc({ state: stored.state });
  return stored;
}

export const actionsResultsConsumer: WorkflowConsumer = {
  name: 'results',
  async onRun(deps, gh, event) {
    await rememberRun(deps, gh.fullName, runInfoOf(event.run));
  },
  async onJob(deps, gh, event) {
    await recordActionsJob(deps, gh, event.job);
  },
};
