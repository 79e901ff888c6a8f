// Picking up the katabot action's traces from completed GitHub Actions runs (workflow_run.completed). Pure: the
// handler (src/handlers/trace-artifacts.ts) gathers the facts these decide from, one call at a time, and carries
// out the plan.
//   1. pickUp          a run of a pull request with katabot trace artifacts is reported; a base-branch run (push,
//                      schedule) is a baseline for later pull requests and is only recorded by GitHub itself
//   2. pullOf          the open PR the trace is of: the run's own PR, or the one its manifest names, whose head is
//                      the commit that was traced (a manifest alone never points katabot at another PR)
//   3. baselineWorkflows / baseCandidates / chooseBaselines
//                      the base branch's successful push and scheduled runs of the same workflow (or those the config
//                      names), at the PR's base commit first, then the newest; the first three with the same artifact
//   4. the report, or, with no baseline, a check run that says so and which run makes one
import { ARTIFACT_PREFIX, type ActionManifest } from '../trace/action-manifest.ts';
import type { ActionsTraceWorkflow } from '../config/types.ts';
import type { ActionsRunRef, BaselineAdvice } from '../render/behavior.ts';
import type { PullFacts } from './facts.ts';

/** A completed workflow run, as the workflow_run payload has it. */
export interface CompletedRun {
  id: number;
  attempt: number;
  /** The workflow's name. */
  name: string;
  /** `.github/workflows/ci.yaml` (older payloads lack it: then the workflow's id names it) */
  path: string;
  workflowId: number;
  event: string;
  headSha: string;
  headBranch: string | null;
  conclusion: string | null;
  url: string;
  /** PRs GitHub associates with the run (empty for forks and pull_request_target). */
  pullNumbers: number[];
}

export interface ArtifactRef {
  id: number;
  name: string;
  expired: boolean;
  size: number;
  createdAt: string;
}

export interface BaseRunRef {
  id: number;
  attempt: number;
  event: string;
  headSha: string;
  headBranch: string | null;
  conclusion: string | null;
  path: string;
  createdAt: string;
  url: string;
}

/** Base-branch runs of these events make baselines: pushes (merges) and nightly schedules. Dispatched runs do not:
 * `/trace` dispatches run a pull request's code on the base branch. */
const BASELINE_EVENTS: readonly string[] = ['push', 'schedule'];
/** Runs of pull requests: their traces are diffed and reported. */
const PR_EVENTS: readonly string[] = ['pull_request', 'pull_request_target', 'workflow_dispatch'];
const MAX_BASELINES = 3;
/** Base runs looked at (one artifacts listing each) before giving up on finding three baselines. */
const MAX_BASE_RUNS_LOOKED = 10;

/** The newest unexpired katabot trace artifact of each name. */
export function traceArtifacts(artifacts: readonly ArtifactRef[]): ArtifactRef[] {
  const newest = new Map<string, ArtifactRef>();
  for (const a of artifacts) {
    if (a.expired || !a.name.startsWith(ARTIFACT_PREFIX)) continue;
    const prev = newest.get(a.name);
    if (!prev || a.createdAt > prev.createdAt || (a.createdAt === prev.createdAt && a.id > prev.id)) newest.set(a.name, a);
  }
  return [...newest.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export type PickUp = { skip: string } | { artifacts: ArtifactRef[] };

/** Step 1: does this completed run have traces to report? */
export function pickUp(run: CompletedRun, artifacts: readonly ArtifactRef[]): PickUp {
  const traces = traceArtifacts(artifacts);
  if (traces.length === 0) return { skip: 'no katabot trace artifact' };
  if (BASELINE_EVENTS.includes(run.event)) return { skip: `a ${run.event} run of ${run.headBranch ?? 'a branch'}: a baseline for later pull requests` };
  if (!PR_EVENTS.includes(run.event)) return { skip: `a ${run.event} run is neither a pull request's nor a baseline` };
  return { artifacts: traces };
}

/** The PR numbers to look at for a run: its own, then the one its manifest names. */
export function pullCandidates(run: CompletedRun, manifest: ActionManifest): number[] {
  const out = [...run.pullNumbers];
  if (manifest.run.pull && !out.includes(manifest.run.pull.number)) out.push(manifest.run.pull.number);
  return out;
}

/** The commit that was traced: the manifest's PR head (pull_request_target and dispatches run on the base), else the run's. */
function tracedHead(run: CompletedRun, manifest: ActionManifest): string {
  return run.event === 'pull_request' ? run.headSha : manifest.run.pull?.headSha ?? run.headSha;
}

/** Step 2: the open PR whose head was traced, among the candidates (fetched from GitHub, not taken from the artifact). */
export function pullOf(run: CompletedRun, manifest: ActionManifest, pulls: readonly PullFacts[]): PullFacts | { skip: string } {
  if (manifest.run.runId !== run.id) return { skip: `the artifact's manifest is of run ${manifest.run.runId}, not ${run.id}` };
  const head = tracedHead(run, manifest);
  const pr = pulls.find((p) => p.state === 'open' && p.headSha === head);
  if (pr) return pr;
  return { skip: pulls.length === 0 ? 'no pull request for this run' : `no open pull request has head ${head.slice(0, 12)} any more` };
}

/** `.github/workflows/ci.yaml` → `ci.yaml` */
export function workflowFile(path: string): string {
  return path.split('/').pop() ?? path;
}

/** Step 3a: whose base-branch runs are the baseline: the config's choice for this workflow, else itself. */
export function baselineWorkflows(configured: readonly ActionsTraceWorkflow[] | undefined, run: Pick<CompletedRun, 'path' | 'workflowId'>): string[] {
  const file = workflowFile(run.path);
  const entry = configured?.find((w) => w.workflow === file);
  if (entry?.baselines && entry.baselines.length > 0) return [...entry.baselines];
  return [file !== '' ? file : String(run.workflowId)];
}

/** Step 3b: the base runs worth looking at, in order: successful push/schedule runs on the base branch, those at
 * the PR's base commit first, then the newest. */
export function baseCandidates(runs: readonly BaseRunRef[], baseRef: string, baseSha: string): BaseRunRef[] {
  const seen = new Set<number>();
  const ok = runs.filter((r) => {
    if (seen.has(r.id)) return false;
    seen.add(r.id);
    return r.conclusion === 'success' && BASELINE_EVENTS.includes(r.event) && r.headBranch === baseRef;
  });
  const newestFirst = [...ok].sort((a, b) => (a.createdAt > b.createdAt ? -1 : a.createdAt < b.createdAt ? 1 : b.id - a.id));
  return [...newestFirst.filter((r) => r.headSha === baseSha), ...newestFirst.filter((r) => r.headSha !== baseSha)].slice(0, MAX_BASE_RUNS_LOOKED);
}

/** A base run and its artifact of the same name as the head's. */
export interface Baseline {
  run: BaseRunRef;
  artifact: ArtifactRef;
}

/** Step 3c: adds a looked-at base run when it has the artifact; true once there are enough. */
export function addBaseline(chosen: Baseline[], run: BaseRunRef, artifacts: readonly ArtifactRef[], name: string): boolean {
  const match = traceArtifacts(artifacts).find((a) => a.name === name);
  if (match && chosen.length < MAX_BASELINES) chosen.push({ run, artifact: match });
  return chosen.length >= MAX_BASELINES;
}

/** The id of a traced Actions run (BehaviorReport.run): one per run attempt and artifact. */
export function actionsRunKey(run: Pick<CompletedRun, 'id' | 'attempt'>, artifact: Pick<ArtifactRef, 'name'>): string {
  return `actions-${run.id}-${run.attempt}-${artifact.name}`;
}

/** The run as the report names it. */
export function actionsRunRef(run: CompletedRun, manifest: ActionManifest): ActionsRunRef {
  return { workflow: run.name, job: manifest.name, attempt: run.attempt, url: run.url };
}

/** Step 4, no baseline: what the check run says. */
export function baselineAdvice(run: CompletedRun, manifest: ActionManifest, pr: PullFacts, workflows: string[], looked: number): BaselineAdvice {
  return { job: manifest.name, baseRef: pr.baseRef, headSha: pr.headSha, actions: actionsRunRef(run, manifest), workflows, looked };
}
