// GitHub Actions jobs as katabot sees them: the fields of workflow runs and jobs it reads (webhook payloads and the
// REST API agree on them), how a job's status and conclusion read as a result, what kind of job a run's event
// makes it, and the names a job goes by. Pure.
import type { ProwJobState, ProwJobType } from './types.ts';

/** A workflow run, as `workflow_run` payloads and `GET /actions/runs` give it (the fields katabot reads). */
export interface WorkflowRunObject {
  id: number;
  name?: string | null;
  /** The workflow file, e.g. `.github/workflows/ci-on-push.yaml` (absent from some older payloads). */
  path?: string | null;
  workflow_id: number;
  event: string;
  status: string | null;
  conclusion: string | null;
  head_sha: string;
  head_branch?: string | null;
  run_attempt?: number | null;
  run_number?: number | null;
  created_at: string;
  run_started_at?: string | null;
  html_url: string;
  pull_requests?: ReadonlyArray<{ number: number; head?: { sha?: string; ref?: string }; base?: { ref?: string; sha?: string } }> | null;
  triggering_actor?: { login?: string } | null;
}

/** A workflow job, as `workflow_job` payloads and `GET /actions/runs/{id}/jobs` give it. */
export interface WorkflowJobObject {
  id: number;
  run_id: number;
  /** Absent from some older payloads: the first attempt. */
  run_attempt?: number | null;
  /** The job's name as GitHub's checks list shows it after the workflow name, matrix values included. */
  name: string;
  workflow_name?: string | null;
  head_sha: string;
  head_branch?: string | null;
  status: string;
  conclusion: string | null;
  created_at?: string | null;
  started_at?: string | null;
  completed_at?: string | null;
  html_url: string | null;
  labels?: readonly string[] | null;
  runner_name?: string | null;
}

/** What katabot keeps of a workflow run, for the jobs of that run. */
export interface RunInfo {
  id: number;
  name: string;
  /** The workflow file's path, when known. */
  path?: string;
  event: string;
  headSha: string;
  headBranch?: string;
  runNumber?: number;
  /** PR numbers GitHub attached (empty for a fork's PR). */
  pulls: number[];
  /** The base branch of the first attached PR. */
  baseRef?: string;
  url: string;
  /** Who started the run (a dispatch by katabot names katabot). */
  actor?: string;
}

export function runInfoOf(r: WorkflowRunObject): RunInfo {
  const info: RunInfo = {
    id: r.id,
    name: r.name ?? (r.path ? workflowStem(r.path) : `workflow ${r.workflow_id}`),
    event: r.event,
    headSha: r.head_sha,
    pulls: (r.pull_requests ?? []).filter((p) => !p.head?.sha || p.head.sha === r.head_sha).map((p) => p.number),
    url: r.html_url,
  };
  if (r.path) info.path = r.path;
  if (r.head_branch) info.headBranch = r.head_branch;
  if (r.run_number) info.runNumber = r.run_number;
  const base = r.pull_requests?.[0]?.base?.ref;
  if (base) info.baseRef = base;
  if (r.triggering_actor?.login) info.actor = r.triggering_actor.login;
  return info;
}

/** The workflow file's name without directory and extension: `.github/workflows/ci-on-push.yaml` → `ci-on-push`. */
function workflowStem(path: string): string {
  const file = path.split('/').pop() ?? path;
  return file.replace(/\.ya?ml$/i, '');
}

/**
 * A job's status and conclusion as a result state, in Prow's words so every view and count treats both CI
 * systems alike:
 *   success                                   → success
 *   failure, timed_out                        → failure;   startup_failure → error (the job never ran)
 *   cancelled                                 → aborted (usually a newer run superseded it; see cancelledAsFailure)
 *   skipped, neutral, stale                   → aborted (a skip: says nothing about the code)
 *   action_required                           → triggered (waits for someone to approve the run)
 *   queued, waiting, requested, pending       → triggered
 *   in_progress                               → pending
 */
export function actionsState(status: string | null | undefined, conclusion: string | null | undefined): ProwJobState {
  if (status === 'completed' || (conclusion && conclusion !== 'action_required')) {
    switch (conclusion) {
      case 'success':
        return 'success';
      case 'failure':
      case 'timed_out':
        return 'failure';
      case 'startup_failure':
        return 'error';
      case 'cancelled':
      case 'skipped':
      case 'neutral':
      case 'stale':
        return 'aborted';
      case 'action_required':
      case null:
      case undefined:
        return 'triggered';
      default:
        return 'failure';
    }
  }
  return status === 'in_progress' ? 'pending' : 'triggered';
}

/**
 * The kind of job a run's event makes it: scheduled runs, and every run of a nightly workflow file, are the
 * nightly (periodic) jobs; PR events are presubmits; a merge queue is a batch; everything else runs on a branch.
 */
export function actionsJobType(run: Pick<RunInfo, 'event' | 'path'>, nightlyWorkflows: readonly string[]): ProwJobType {
  if (run.event === 'schedule') return 'periodic';
  if (run.path && nightlyWorkflows.some((w) => sameWorkflowFile(w, run.path!))) return 'periodic';
  if (run.event === 'pull_request' || run.event === 'pull_request_target') return 'presubmit';
  if (run.event === 'merge_group') return 'batch';
  return 'postsubmit';
}

/** Whether a configured workflow (a file name or a path) names the run's workflow file. */
function sameWorkflowFile(configured: string, path: string): boolean {
  const c = configured.replace(/^\.?\/+/, '');
  return c.includes('/') ? path.replace(/^\.?\/+/, '') === c : (path.split('/').pop() ?? path) === c;
}

/** The name a job is shown by, as GitHub's checks list shows it: `<workflow name> / <job name>`. */
export function displayName(workflow: string, job: string): string {
  return workflow ? `${workflow} / ${job}` : job;
}

/** One segment of a job name as a typeable word: `run-k8s-tests (tdx, qemu-tdx)` → `run-k8s-tests-tdx-qemu-tdx`. */
function slug(segment: string): string {
  return segment
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
}

/**
 * A name without spaces or slashes for `/test` and URLs: the workflow file's name, then each part of the job name
 * (a reusable workflow's caller job, its job, its matrix values), joined by dots, e.g.
 * `ci-on-push.kata-containers-ci-on-push.run-kata-coco-tests.run-k8s-tests-on-tee-tdx-qemu-tdx`. `/test` takes any
 * trailing part of it that names one job (`run-k8s-tests-on-tee-tdx-qemu-tdx`).
 */
export function typeableName(workflow: { path?: string | undefined; name: string }, job: string): string {
  const head = slug(workflow.path ? workflowStem(workflow.path) : workflow.name);
  const parts = job.split(' / ').map(slug).filter(Boolean);
  return [head, ...parts].filter(Boolean).join('.');
}

/** Whether `target` names the job with typeable name `name`: all of it, or a trailing run of its parts. Case-insensitive. */
export function typeableMatches(name: string, target: string): boolean {
  const n = name.toLowerCase();
  const t = target.toLowerCase();
  return t !== '' && (n === t || n.endsWith(`.${t}`));
}

/**
 * The shortest trailing part of each name that no other name of the list ends with: what `/test ?` lists.
 * Names that are equal keep their full form.
 */
export function shortTypeableNames(names: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const lower = names.map((n) => n.toLowerCase());
  names.forEach((name, i) => {
    const parts = name.split('.');
    for (let k = 1; k <= parts.length; k++) {
      const tail = parts.slice(-k).join('.');
      const t = tail.toLowerCase();
      const clash = lower.some((other, j) => j !== i && typeableMatches(other, t));
      if (!clash || k === parts.length) {
        out.set(name, tail);
        break;
      }
    }
  });
  return out;
}

/** The record name of one job attempt (job ids are new for every attempt, so one id is one attempt). */
export function actionsRecordName(jobId: number): string {
  return `actions-${jobId}`;
}
