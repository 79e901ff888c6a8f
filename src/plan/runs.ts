// A run of a job on a commit, whatever CI system runs it: what planners ask a backend to start, and what the
// backend answers. Pure types. Prow runs are ProwJobs (src/jobs), for a PR's head or a pushed commit; Actions runs
// are GitHub Actions re-runs and dispatches. The effects side (src/handlers/backends.ts) launches each kind.
import type { TraceProbes } from '../jobs/trace.ts';
import type { Postsubmit, Presubmit } from '../config/prow-types.ts';

/** A presubmit to start as a ProwJob for the PR's head. */
export interface ProwRun {
  backend: 'prow';
  /** The job's name, as `/test` and check runs know it. */
  job: string;
  presubmit: Presubmit;
  traced: boolean;
  /** `/trace --probe …`: the probes and custom packages the tracer runs (absent: all of katabot's built-ins). */
  probes?: TraceProbes;
}

/** The failed jobs of one GitHub Actions workflow run, to be run again. */
export interface ActionsRerun {
  backend: 'actions';
  kind?: 'failed-jobs';
  /** The workflow run's name. */
  job: string;
  runId: number;
  url: string;
}

/**
 * `/trace <job>` of a GitHub Actions job that runs the katabot action (src/plan/actions-trace.ts,
 * docs/github-action.md#trace): the workflow is dispatched on the base branch for the PR (its workflow_dispatch
 * inputs katabot-trace, katabot-pr, katabot-sha), or, for a workflow that always traces, the job is re-run on the
 * PR head. The trace comes back as an artifact and is reported by src/handlers/trace-artifacts.ts.
 */
export interface ActionsTraceRun {
  backend: 'actions-trace';
  /** The job's name in behavior reports (the action's `name`). */
  job: string;
  /** Its workflow file, e.g. `ci-on-push.yaml`. */
  workflow: string;
  how: 'dispatch' | 'rerun';
  pr: number;
  headSha: string;
  baseRef: string;
}

/** One GitHub Actions job of a finished run, to be run again (GitHub re-runs the jobs that need it too). */
export interface ActionsJobRerun {
  backend: 'actions';
  kind: 'job';
  /** The job as GitHub's checks list shows it: `<workflow> / <job>`. */
  job: string;
  jobId: number;
  runId: number;
  url: string;
}

/** A workflow started with workflow_dispatch for the PR (`/test <name>` mapped in KATABOT_CONFIG actions.dispatch). */
export interface ActionsDispatchRun {
  backend: 'actions';
  kind: 'dispatch';
  /** The `/test` name. */
  job: string;
  workflow: string;
  ref: string;
  inputs: Record<string, string>;
  /** The workflow's runs page. */
  url: string;
}

export type ActionsRun = ActionsRerun | ActionsJobRerun | ActionsDispatchRun;

/** A postsubmit to start as a ProwJob for a pushed commit. */
interface PostsubmitRun {
  backend: 'prow-postsubmit';
  job: string;
  postsubmit: Postsubmit;
}

export type JobRun = ProwRun | ActionsRun | ActionsTraceRun | PostsubmitRun;

/** How a backend answered one run. */
export type RunOutcome =
  | { run: JobRun; result: 'started' | 'exists'; id: string }
  /** The CI system refused the run for good (e.g. Kubernetes' 422 for an invalid object): it says why. */
  | { run: JobRun; result: 'refused'; id?: string; message: string }
  /** A transient failure that outlived the retries: the delivery is retried, and the others still ran. */
  | { run: JobRun; result: 'failed'; error: Error };

/** The runs a backend kind handles, in plan order. */
export function runsOf<K extends JobRun['backend']>(runs: readonly JobRun[], backend: K): Array<Extract<JobRun, { backend: K }>> {
  return runs.filter((r): r is Extract<JobRun, { backend: K }> => r.backend === backend);
}
