// What a commit's CI results say, read from GitHub's commit statuses, check runs and workflow runs: the latest
// result per context (what `/retest` reruns) and the workflow runs whose latest attempt failed. Pure: the GitHub
// adapter lists the raw objects.
import type { WorkflowRunObject } from '../jobs/actions.ts';
import type { ResultState } from '../jobs/select.ts';
import type { WorkflowRunRef } from './facts.ts';

export type { WorkflowRunObject } from '../jobs/actions.ts';

/** The fields of a commit status katabot reads. */
export interface StatusObject {
  context: string;
  state: string;
  created_at?: string | null;
  updated_at?: string | null;
}

/** The fields of a check run katabot reads. */
export interface CheckRunObject {
  id: number;
  name: string;
  status: string;
  conclusion: string | null;
  external_id: string | null;
  started_at: string | null;
  completed_at: string | null;
}

/**
 * A check run as a result: still running is pending; success, neutral and skipped pass; every other conclusion
 * (failure, cancelled, timed_out, action_required, stale) failed.
 */
export function checkRunResult(r: Pick<CheckRunObject, 'status' | 'conclusion'>): ResultState {
  if (r.status !== 'completed') return 'pending';
  return r.conclusion === 'success' || r.conclusion === 'neutral' || r.conclusion === 'skipped' ? 'success' : 'failure';
}

/**
 * The latest result per context, from statuses and check runs both, so `/retest` sees jobs reported either way
 * (Prow's crier writes statuses; katabot writes check runs). The newer wins; statuses come newest first.
 */
export function latestResults(statuses: readonly StatusObject[], checkRuns: readonly CheckRunObject[]): Map<string, ResultState> {
  const latest = new Map<string, { state: ResultState; at: string }>();
  const consider = (context: string, state: ResultState, at: string): void => {
    const prev = latest.get(context);
    if (!prev || prev.at < at) latest.set(context, { state, at });
  };
  for (const s of statuses) consider(s.context, s.state as ResultState, s.updated_at ?? s.created_at ?? '');
  for (const r of checkRuns) consider(r.name, checkRunResult(r), r.completed_at ?? r.started_at ?? '');
  return new Map([...latest].map(([k, v]) => [k, v.state]));
}

/** Workflow-run conclusions whose failed jobs `/retest` runs again. */
const RERUN_CONCLUSIONS: ReadonlySet<string> = new Set(['failure', 'timed_out', 'startup_failure']);

/** The newest run per workflow and triggering event (an older run a newer one replaced is not offered), by run id. */
export function latestRuns(runs: readonly WorkflowRunObject[]): WorkflowRunObject[] {
  const latest = new Map<string, WorkflowRunObject>();
  for (const r of runs) {
    const key = `${r.workflow_id}\0${r.event}`;
    const prev = latest.get(key);
    if (!prev || prev.created_at < r.created_at || (prev.created_at === r.created_at && prev.id < r.id)) latest.set(key, r);
  }
  return [...latest.values()].sort((a, b) => a.id - b.id);
}

/**
 * The workflow runs whose latest run (per workflow and triggering event) failed: an older failure that a newer run
 * of the same workflow already fixed is not re-run. Ordered by run id.
 */
export function failedWorkflowRuns(runs: readonly WorkflowRunObject[]): WorkflowRunRef[] {
  return latestRuns(runs)
    .filter((r) => r.status === 'completed' && r.conclusion !== null && RERUN_CONCLUSIONS.has(r.conclusion))
    .map((r) => ({ id: r.id, name: r.name ?? `run ${r.id}`, url: r.html_url }));
}
