// A GitHub Actions job attempt as a results record, in the same shape as a ProwJob's (src/render/results.ts), so the
// failure comment, rerun counts and the dashboard read both CI systems alike. Webhooks and backfill build records
// here and only here, so the two never disagree about one attempt. Pure.
import {
  actionsJobType,
  actionsRecordName,
  actionsState,
  displayName,
  typeableName,
  type RunInfo,
  type WorkflowJobObject,
} from '../jobs/actions.ts';
import type { ActionsFacts, RunRecord } from './results.ts';

export interface ActionsRecordContext {
  owner: string;
  repo: string;
  run: RunInfo;
  /** The PR the attempt tested (from the run's pull_requests, else from its head commit); none for branch runs. */
  pull?: number | undefined;
  /** The PR's base branch, when known. */
  baseRef?: string | undefined;
  author?: string | undefined;
  /** Workflow files whose every run is a nightly job (KATABOT_CONFIG actions.nightly_workflows). */
  nightlyWorkflows: readonly string[];
}

/** Conclusions that say what happened, for the record's description. */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  success: 'Job succeeded.',
  failure: 'Job failed.',
  timed_out: 'Job timed out.',
  startup_failure: 'Job did not start (startup failure).',
  cancelled: 'Job cancelled.',
  skipped: 'Job skipped.',
  neutral: 'Job finished neutral.',
  stale: 'Job went stale.',
  action_required: 'The run waits for approval.',
};

export function actionsResultOf(job: WorkflowJobObject, ctx: ActionsRecordContext): RunRecord {
  const { run } = ctx;
  const workflow = job.workflow_name || run.name;
  const state = actionsState(job.status, job.conclusion);
  const attempt = job.run_attempt && job.run_attempt > 0 ? job.run_attempt : 1;
  const facts: ActionsFacts = {
    workflow,
    runId: job.run_id,
    runAttempt: attempt,
    jobId: job.id,
    event: run.event,
    status: job.status,
    conclusion: job.conclusion ?? null,
    labels: [...(job.labels ?? [])],
  };
  if (run.path) facts.workflowFile = run.path;
  if (run.runNumber) facts.runNumber = run.runNumber;
  const headBranch = job.head_branch ?? run.headBranch;
  if (headBranch) facts.headBranch = headBranch;
  if (job.runner_name) facts.runner = job.runner_name;

  const r: RunRecord = {
    name: actionsRecordName(job.id),
    job: displayName(workflow, job.name),
    type: actionsJobType(run, ctx.nightlyWorkflows),
    state,
    context: job.name,
    org: ctx.owner,
    repo: ctx.repo,
    sha: job.head_sha,
    attempt,
    retest: attempt > 1,
    traced: false,
    source: 'actions',
    actions: facts,
  };
  const baseRef = ctx.baseRef ?? run.baseRef ?? (r.type === 'presubmit' ? undefined : headBranch);
  if (baseRef) r.baseRef = baseRef;
  if (ctx.pull !== undefined && r.type === 'presubmit') r.pull = ctx.pull;
  if (ctx.author) r.author = ctx.author;
  // Queued is when the attempt began; GitHub's started_at of a queued job is that time too.
  const start = job.created_at ?? job.started_at;
  if (start) r.start = start;
  if (job.started_at && state !== 'triggered') r.pending = job.started_at;
  if (job.completed_at && job.status === 'completed') r.end = job.completed_at;
  if (job.html_url) r.url = job.html_url;
  const description = job.conclusion ? DESCRIPTIONS[job.conclusion] : job.status === 'in_progress' ? 'Job running.' : 'Job queued.';
  if (description) r.description = description;
  return r;
}

/** The name `/test` takes for an Actions attempt record (derived, so records need not keep it). */
export function typeableOf(r: Pick<RunRecord, 'context' | 'job' | 'actions'>): string | undefined {
  if (!r.actions) return undefined;
  return typeableName({ path: r.actions.workflowFile, name: r.actions.workflow }, r.context ?? r.job);
}

/**
 * Kata's dashboard counts a cancelled job as a failure; katabot counts it as a skip unless asked
 * (KATABOT_DASHBOARD_CANCELLED_AS_FAILURE). The record keeps GitHub's conclusion either way.
 */
export function cancelledAsFailure(r: RunRecord): RunRecord {
  return r.source === 'actions' && r.actions?.conclusion === 'cancelled' && r.state === 'aborted' ? { ...r, state: 'failure' } : r;
}
