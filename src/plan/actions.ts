// Commands on GitHub Actions jobs, with Prow's trust rules and the TDX gate (the comment planner asks these): which
// Actions job or dispatched workflow a `/test` target names, what `/retest` and `/retest-required` re-run, and what
// `/test ?` lists. Pure: the head commit's runs and their jobs, branch protection and the PR's files are facts.
//
// GitHub re-runs either one job of a finished run (and the jobs that need it) or all of a run's failed jobs
// together, never a chosen few; while one re-run goes on, the run takes no other. So a run whose failed jobs are
// only partly to be re-run gets its one job re-run, or all its failed jobs when several are wanted and nothing
// forbids the others, and is held back when the others include TDX jobs the head has no approval for.
import type { ActionsDispatch, KatabotConfig } from '../config/types.ts';
import { closestNames } from '../jobs/select.ts';
import { displayName, shortTypeableNames, typeableMatches, typeableName, type WorkflowJobObject, type WorkflowRunObject } from '../jobs/actions.ts';
import { RequiredMatcher, setsForChangedFiles, type RequiredTests } from '../dashboard/required.ts';
import { isTdxJob, tdxGateWhen, type TdxGate } from '../policy/tdx.ts';
import { need, type Facts, type PullFacts } from './facts.ts';
import { latestRuns } from './head-results.ts';
import type { ActionsDispatchRun, ActionsJobRerun, ActionsRerun, ActionsRun } from './runs.ts';

/** What Actions commands need besides facts. */
export interface ActionsContext {
  owner: string;
  repo: string;
  policy: KatabotConfig;
  pr: PullFacts;
  /** The PR's labels as the commands before this one left them. */
  labels: readonly string[];
  /** The head an approver approved; asked for only when the TDX gate decides. */
  approvedSha: () => string | null;
  /** Kata's required-tests.yaml, when configured (KATABOT_REQUIRED_TESTS). */
  requiredTests?: RequiredTests | undefined;
  /** GitHub's web URL, for links to workflows. */
  webUrl?: string;
}

/** An Actions job of the head commit, as commands name it. */
interface HeadJob {
  /** `<workflow> / <job>`, as GitHub's checks list shows it. */
  display: string;
  /** The check run's name (the job's name). */
  context: string;
  typeable: string;
  jobId: number;
  runId: number;
  url: string;
  status: string;
  conclusion: string | null;
}

/** Conclusions "Re-run failed jobs" re-runs. */
const FAILED: ReadonlySet<string> = new Set(['failure', 'timed_out', 'startup_failure', 'cancelled']);

function headJob(run: WorkflowRunObject, j: WorkflowJobObject): HeadJob {
  const workflow = j.workflow_name || run.name || `workflow ${run.workflow_id}`;
  return {
    display: displayName(workflow, j.name),
    context: j.name,
    typeable: typeableName({ path: run.path ?? undefined, name: workflow }, j.name),
    jobId: j.id,
    runId: run.id,
    url: j.html_url ?? run.html_url,
    status: j.status,
    conclusion: j.conclusion,
  };
}

/** The jobs of the given runs (their latest attempts), asking for all of them in one step. */
function jobsOfRuns(runs: readonly WorkflowRunObject[], facts: Facts): Map<number, HeadJob[] | { error: string }> {
  const missing = runs.filter((r) => facts.runJobs?.[r.id] === undefined).map((r) => r.id);
  if (missing.length > 0) need(undefined, { fact: 'runJobs', runIds: missing });
  const out = new Map<number, HeadJob[] | { error: string }>();
  for (const r of runs) {
    const jobs = facts.runJobs![r.id]!;
    out.set(r.id, 'error' in jobs ? jobs : jobs.map((j) => headJob(r, j)));
  }
  return out;
}

/** Every job of the head commit's latest runs, or why GitHub could not list them. */
function headJobs(facts: Facts): { jobs: HeadJob[] } | { error: string } {
  const runs = need(facts.headRuns, { fact: 'headRuns' });
  if ('error' in runs) return runs;
  const jobs: HeadJob[] = [];
  for (const list of jobsOfRuns(latestRuns(runs.runs), facts).values()) {
    if ('error' in list) return list;
    jobs.push(...list);
  }
  return { jobs };
}

/** The placeholders a dispatch's inputs may use. */
function fill(template: string, c: ActionsContext): string {
  const values: Record<string, string> = { sha: c.pr.headSha, pr: String(c.pr.number), base: c.pr.baseRef, head_ref: c.pr.headRef, repo: `${c.owner}/${c.repo}` };
  return template.replace(/\{(sha|pr|base|head_ref|repo)\}/g, (_, k: string) => values[k]!);
}

function dispatchRun(name: string, d: ActionsDispatch, c: ActionsContext): ActionsDispatchRun {
  const inputs = Object.fromEntries(Object.entries(d.inputs).map(([k, v]) => [k, fill(v, c)]));
  const file = d.workflow.split('/').pop()!;
  return {
    backend: 'actions',
    kind: 'dispatch',
    job: name,
    workflow: file,
    ref: d.ref ?? c.pr.baseRef,
    inputs,
    url: `${(c.webUrl ?? 'https://github.com').replace(/\/+$/, '')}/${c.owner}/${c.repo}/actions/workflows/${encodeURIComponent(file)}`,
  };
}

/** Whether an Actions run needs the TDX approval: its name matches tdx.jobs, or its dispatch says so. */
export function isTdxActionsRun(policy: KatabotConfig, run: ActionsRun): boolean {
  if (run.kind === 'dispatch') return policy.actions.dispatch[run.job]?.tdx ?? isTdxJob(policy, run.job);
  return isTdxJob(policy, run.job);
}

export interface TargetsAnswer {
  runs: ActionsRun[];
  /** Targets that name no Actions job or dispatch either. */
  unknown: string[];
  /** Closest Actions names per unknown target. */
  suggestions: Record<string, string[]>;
  /** Targets that name several jobs: the names that would tell them apart. */
  ambiguous: Record<string, string[]>;
  /** Why the head's Actions jobs could not be listed. */
  error?: string;
}

/**
 * `/test` targets Prow does not know: a dispatch name of the config, else an Actions job of the head commit by its
 * typeable name (or a trailing part of it that names one job).
 */
export function actionsForTargets(targets: readonly string[], c: ActionsContext, facts: Facts): TargetsAnswer {
  const out: TargetsAnswer = { runs: [], unknown: [], suggestions: {}, ambiguous: {} };
  const dispatch = Object.entries(c.policy.actions.dispatch);
  const rest: string[] = [];
  for (const t of targets) {
    const d = dispatch.find(([name]) => name.toLowerCase() === t.toLowerCase());
    if (d) out.runs.push(dispatchRun(d[0], d[1], c));
    else rest.push(t);
  }
  if (rest.length === 0) return out;
  const head = headJobs(facts);
  if ('error' in head) {
    out.error = head.error;
    out.unknown.push(...rest);
    return out;
  }
  const short = shortTypeableNames([...new Set(head.jobs.map((j) => j.typeable))]);
  const names = [...short.values(), ...dispatch.map(([n]) => n)];
  for (const t of rest) {
    const hits = head.jobs.filter((j) => typeableMatches(j.typeable, t));
    const distinct = [...new Map(hits.map((j) => [j.typeable.toLowerCase(), j])).values()];
    if (distinct.length === 1) {
      const j = distinct[0]!;
      const run: ActionsJobRerun = { backend: 'actions', kind: 'job', job: j.display, jobId: j.jobId, runId: j.runId, url: j.url };
      if (!out.runs.some((r) => r.kind === 'job' && r.jobId === j.jobId)) out.runs.push(run);
    } else if (distinct.length > 1) {
      out.ambiguous[t] = distinct.map((j) => j.typeable).sort();
    } else {
      out.unknown.push(t);
      out.suggestions[t] = closestNames(t, names);
    }
  }
  return out;
}

/** `/test ?`: the Actions jobs of the head (by their short typeable names) and the dispatch names. */
export function actionsListing(c: ActionsContext, facts: Facts): { jobs: string[]; dispatch: string[]; error?: string } {
  const dispatch = Object.keys(c.policy.actions.dispatch).sort();
  const head = headJobs(facts);
  if ('error' in head) return { jobs: [], dispatch, error: head.error };
  const short = shortTypeableNames([...new Set(head.jobs.map((j) => j.typeable))]);
  return { jobs: [...short.values()].sort((a, b) => a.localeCompare(b)), dispatch };
}

/** A run held back: its failed jobs include TDX jobs this head has no approval for. */
interface HeldRun {
  name: string;
  url: string;
  /** The failed TDX jobs. */
  tdx: string[];
  /** The failed jobs that would have run (they can only be re-run together with the TDX ones). */
  others: string[];
}

export interface RetestActions {
  runs: ActionsRun[];
  held: HeldRun[];
  /** Runs whose optional failed jobs re-run too (`/retest-required`: GitHub re-runs a run's failed jobs together). */
  alsoOptional: Array<{ name: string; url: string; jobs: string[] }>;
}

/** Whether a job is required: by branch protection, or by Kata's required-tests.yaml for the PR's changed files. */
function requiredPredicate(c: ActionsContext, facts: Facts): (j: HeadJob) => boolean {
  const protection = new Set(need(facts.requiredChecks?.[c.pr.baseRef], { fact: 'requiredChecks', branch: c.pr.baseRef }));
  const rt = c.requiredTests;
  let byFile: ((j: HeadJob) => boolean) | undefined;
  if (rt && (rt.tests.length > 0 || rt.regexps.length > 0 || rt.mapping.size > 0)) {
    const matcher = new RequiredMatcher(rt);
    const sets = new Set(setsForChangedFiles(rt, need(facts.changedFiles, { fact: 'changedFiles' })).map((s) => `mapping:${s}`));
    byFile = (j) => matcher.requirementOf({ job: j.display, context: j.context, type: 'presubmit' }).by.some((b) => b === 'required_tests' || b === 'required_regexps' || sets.has(b));
  }
  return (j) => protection.has(j.context) || protection.has(j.display) || (byFile?.(j) ?? false);
}

/**
 * What `/retest` (every failed job) and `/retest-required` (the required ones) re-run of the head commit's failed
 * runs, through the TDX gate; or why GitHub could not list them.
 */
export function actionsRetest(kind: 'retest' | 'retest-required', c: ActionsContext, facts: Facts): RetestActions | { error: string } {
  const failed = need(facts.failedWorkflowRuns, { fact: 'failedWorkflowRuns' });
  if ('error' in failed) return failed;
  const out: RetestActions = { runs: [], held: [], alsoOptional: [] };
  if (failed.runs.length === 0) return out;
  const wholeRun = (r: { id: number; name: string; url: string }): ActionsRerun => ({ backend: 'actions', job: r.name, runId: r.id, url: r.url });
  // Without TDX jobs to hold back, /retest re-runs each failed run whole and needs no job list.
  const tdxConfigured = c.policy.tdx.jobs !== '';
  let gate: TdxGate | undefined;
  const gateFor = (): TdxGate => (gate ??= tdxGateWhen(c.policy, c.labels, true, c.pr.headSha, c.approvedSha));
  if (kind === 'retest' && (!tdxConfigured || gateFor().approved)) {
    out.runs.push(...failed.runs.map(wholeRun));
    return out;
  }
  const runs = failed.runs.map((r) => ({ id: r.id, workflow_id: 0, event: '', status: 'completed', conclusion: 'failure', head_sha: c.pr.headSha, created_at: '', html_url: r.url, name: r.name }));
  const jobs = jobsOfRuns(runs, facts);
  const required = kind === 'retest-required' ? requiredPredicate(c, facts) : () => true;
  for (const r of failed.runs) {
    const list = jobs.get(r.id)!;
    if ('error' in list || list.length === 0) {
      // Nothing to choose from: /retest re-runs the run as GitHub's button would; /retest-required cannot tell.
      if (kind === 'retest') out.runs.push(wholeRun(r));
      continue;
    }
    const allFailed = list.filter((j) => j.conclusion !== null && FAILED.has(j.conclusion));
    const wanted = allFailed.filter(required);
    if (wanted.length === 0) continue;
    const blocked = (j: HeadJob): boolean => isTdxJob(c.policy, j.display) && !gateFor().approved;
    const allowed = wanted.filter((j) => !blocked(j));
    // The TDX jobs a whole-run re-run would start without approval.
    const tdx = allFailed.filter(blocked).map((j) => j.display);
    if (allowed.length === 0) {
      out.held.push({ name: r.name, url: r.url, tdx, others: [] });
    } else if (allowed.length === 1 && (tdx.length > 0 || allFailed.length > 1)) {
      const j = allowed[0]!;
      out.runs.push({ backend: 'actions', kind: 'job', job: j.display, jobId: j.jobId, runId: j.runId, url: j.url });
      if (wanted.some(blocked)) out.held.push({ name: r.name, url: r.url, tdx: wanted.filter(blocked).map((x) => x.display), others: [] });
    } else if (tdx.length > 0) {
      out.held.push({ name: r.name, url: r.url, tdx, others: allowed.map((x) => x.display) });
    } else {
      out.runs.push(wholeRun(r));
      const optional = allFailed.filter((j) => !wanted.includes(j)).map((j) => j.display);
      if (optional.length > 0) out.alsoOptional.push({ name: r.name, url: r.url, jobs: optional });
    }
  }
  return out;
}
