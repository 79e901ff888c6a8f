// Gathers the facts planners ask for (src/plan/facts.ts), each through one adapter call, and calls a planner until
// it has its plan. Nothing is decided here: which fact is needed, and what it means, is the planner's.
import type { GitHub, PullFacts } from '../adapters/github.ts';
import { PROBES_DIR } from '../adapters/bpf-packages.ts';
import { httpStatus } from '../adapters/github.ts';
import { runInfoOf, type RunInfo, type WorkflowJobObject } from '../jobs/actions.ts';
import type { ProwJob } from '../jobs/types.ts';
import { ConfigError } from '../config/errors.ts';
import { parseInRepoConfig } from '../config/in-repo.ts';
import type { Facts, InRepoFacts, Need, Step } from '../plan/facts.ts';
import { repoConfig } from '../plan/repo.ts';
import { failedWorkflowRuns, latestResults } from '../plan/head-results.ts';
import type { HandlerDeps } from './deps.ts';

/** Where facts come from for one event. */
export interface FactScope {
  deps: HandlerDeps;
  gh: GitHub;
  /** The PR the event is about, once known. */
  pr?: PullFacts;
  /** The commit whose in-repo job config counts when there is no PR (a push: the pushed commit). */
  inRepoRef?: string;
  /** Check runs re-requested from GitHub's UI: whose jobs, on which commit. */
  rerun?: { targets: ReadonlyArray<{ prowjob: string | null | undefined }>; headSha: string; pullNumbers: readonly number[] };
}

/** Planners ask for at most a handful of facts; more means a planner asks for the same fact again (a bug). */
const MAX_STEPS = 16;

/** Calls `planner` with the facts gathered so far until it returns its plan. */
/**
 * What every planner of a pull request's event starts from: the repository, its policy and jobs as katabot serves
 * them, and the bot's login; with the configuration snapshot they were read from.
 */
export async function repoInput(deps: HandlerDeps, gh: GitHub) {
  const snapshot = deps.config();
  const rc = repoConfig(snapshot, gh.owner, gh.repo);
  const input = {
    owner: gh.owner,
    repo: gh.repo,
    policy: rc.policy,
    botLogin: await deps.botLogin(),
    presubmits: rc.presubmits,
    inRepoConfig: rc.inRepoConfig,
  };
  return { snapshot, input };
}

export async function planWith<P>(planner: (facts: Facts) => Step<P>, scope: FactScope, facts: Facts = {}): Promise<P> {
  let current = facts;
  const live = new Map<string, ProwJob | undefined>();
  for (let i = 0; i < MAX_STEPS; i++) {
    const s = planner(current);
    if ('plan' in s) return s.plan;
    current = { ...current, ...(await gather(s.need, current, scope, live)) };
  }
  throw new Error(`planner asked for more than ${MAX_STEPS} facts`);
}

/** The PR of the event, or the one a rerun found (the `pull` fact). */
function pr(scope: FactScope, facts: Facts, need: Need): PullFacts {
  const found = scope.pr ?? facts.pull;
  if (!found) throw new Error(`fact ${need.fact} needs a pull request, and this event has none`);
  return found;
}

async function gather(need: Need, facts: Facts, scope: FactScope, live: Map<string, ProwJob | undefined>): Promise<Facts> {
  const { deps, gh } = scope;
  switch (need.fact) {
    case 'member': {
      let member = false;
      for (const org of need.orgs) if ((member = await gh.isOrgMember(org, need.login))) break;
      return { member: { ...facts.member, [need.login.toLowerCase()]: member } };
    }
    case 'collaborator':
      return { collaborator: { ...facts.collaborator, [need.login.toLowerCase()]: await gh.isCollaborator(need.login) } };
    case 'changedFiles':
      return { changedFiles: await gh.changedFiles(pr(scope, facts, need).number) };
    case 'results': {
      const { statuses, checkRuns } = await gh.commitChecks(pr(scope, facts, need).headSha);
      return { results: latestResults(statuses, checkRuns) };
    }
    case 'tdxApproval':
      return { tdxApproval: (await deps.store.get(tdxApprovalKey(gh, pr(scope, facts, need).number))) ?? null };
    case 'probeDirs':
      // From the base branch only: the tracer sidecar is privileged, so the PR head must not choose what it runs.
      return { probeDirs: await gh.probePackageFiles(PROBES_DIR, pr(scope, facts, need).baseRef) };
    case 'inRepoConfig': {
      const found = scope.pr ?? facts.pull;
      // Prow reads .prow.yaml with the PR's head merged onto its base: GitHub's test merge commit is exactly that.
      const ref = found ? (found.mergeSha ?? found.headSha) : scope.inRepoRef;
      if (!ref) throw new Error('fact inRepoConfig needs a pull request or a pushed commit');
      return { inRepoConfig: await inRepoJobs(scope, ref) };
    }
    case 'failedWorkflowRuns':
      try {
        return { failedWorkflowRuns: { runs: failedWorkflowRuns(await gh.workflowRuns(pr(scope, facts, need).headSha)) } };
      } catch (err) {
        const code = httpStatus(err);
        deps.log.warn({ err: (err as Error).message, status: code }, 'could not list GitHub Actions workflow runs');
        return { failedWorkflowRuns: { error: code === 403 ? 'katabot lacks the `actions: read` permission here' : `GitHub answered ${code ?? (err as Error).message}` } };
      }
    case 'workflowRun':
      return { workflowRun: { ...facts.workflowRun, [need.runId]: await workflowRun(scope, need.runId) } };
    case 'pullForSha':
      return { pullForSha: { ...facts.pullForSha, [need.sha]: await pullForSha(scope, need.sha) } };
    case 'headRuns':
      try {
        return { headRuns: { runs: await gh.workflowRuns(pr(scope, facts, need).headSha) } };
      } catch (err) {
        return { headRuns: { error: actionsError(deps, err, 'could not list GitHub Actions workflow runs') } };
      }
    case 'runJobs': {
      const runJobs: Record<number, readonly WorkflowJobObject[] | { error: string }> = { ...facts.runJobs };
      for (const id of need.runIds) {
        try {
          runJobs[id] = await gh.runJobs(id);
        } catch (err) {
          runJobs[id] = { error: actionsError(deps, err, 'could not list the jobs of a workflow run') };
        }
      }
      return { runJobs };
    }
    case 'requiredChecks':
      return { requiredChecks: { ...facts.requiredChecks, [need.branch]: await gh.requiredChecks(need.branch).catch(() => []) } };
    case 'rerunJobs':
      return { rerunJobs: await rerunJobs(scope, live) };
    case 'pull':
      return { pull: await pullForHead(scope, live) };
  }
}

/** Why GitHub Actions could not be read, for replies; logged once. */
function actionsError(deps: HandlerDeps, err: unknown, what: string): string {
  const code = httpStatus(err);
  deps.log.warn({ err: (err as Error).message, status: code }, what);
  return code === 403 ? 'katabot lacks the `actions: read` permission here' : `GitHub answered ${code ?? (err as Error).message}`;
}

/** How long katabot keeps a workflow run's facts (its jobs' events arrive within hours; reruns within weeks). */
const RUN_TTL_SECONDS = 30 * 24 * 3600;

/** The Redis key of a workflow run's facts (src/jobs/actions.ts RunInfo). */
function workflowRunKey(repo: string, runId: number): string {
  return `actions-run:${repo.toLowerCase()}:${runId}`;
}

/** Keeps a run's facts for its jobs (from its webhook, from backfill). */
export async function rememberRun(deps: HandlerDeps, repo: string, run: RunInfo): Promise<void> {
  await deps.store.set(workflowRunKey(repo, run.id), JSON.stringify(run), RUN_TTL_SECONDS);
}

/** A workflow run's facts: as katabot kept them from its webhook, else from GitHub (then kept). */
async function workflowRun(scope: FactScope, runId: number): Promise<RunInfo | null> {
  const { deps, gh } = scope;
  const kept = await deps.store.get(workflowRunKey(gh.fullName, runId));
  if (kept) return JSON.parse(kept) as RunInfo;
  const found = await gh.workflowRun(runId);
  if (!found) return null;
  const run = runInfoOf(found);
  await rememberRun(deps, gh.fullName, run);
  return run;
}

/** How long "no PR has this head" is believed: a PR may be opened for it soon. */
const NO_PULL_TTL_SECONDS = 600;

/** The PR whose head is `sha`: katabot's records first, then GitHub (a found link is kept with the results). */
async function pullForSha(scope: FactScope, sha: string): Promise<number | null> {
  const { deps, gh } = scope;
  const known = await deps.results.pullForSha(gh.fullName, sha);
  if (known !== undefined) return known;
  const none = `no-pull:${gh.fullName.toLowerCase()}:${sha}`;
  if (await deps.store.get(none)) return null;
  const found = (await gh.openPullsForSha(sha))[0];
  if (found === undefined) {
    await deps.store.set(none, '1', NO_PULL_TTL_SECONDS);
    return null;
  }
  await deps.results.linkPull(gh.fullName, sha, found);
  return found;
}

/** In-repo job files are read once per commit (a commit's files never change). */
const IN_REPO_TTL_SECONDS = 24 * 3600;

/** The jobs of the repository's `.prow.yaml` / `.prow/` at `ref`, or the file and line that keep them from counting. */
async function inRepoJobs(scope: FactScope, ref: string): Promise<InRepoFacts> {
  const { deps, gh } = scope;
  const key = `in-repo-config:${gh.fullName}:${ref}`;
  const cached = await deps.store.get(key);
  const files: Array<{ path: string; text: string }> = cached ? JSON.parse(cached) : await gh.inRepoConfigFiles(ref);
  if (!cached) await deps.store.set(key, JSON.stringify(files), IN_REPO_TTL_SECONDS);
  const snapshot = deps.config();
  try {
    const jobs = parseInRepoConfig(files, { prow: snapshot.prow, jobs: snapshot.jobs, org: gh.owner, repo: gh.repo });
    return { presubmits: jobs.presubmits, postsubmits: jobs.postsubmits };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { error: { file: err.file, ...(err.line !== undefined ? { line: err.line } : {}), message: err.keyPath ? `${err.keyPath}: ${err.problem}` : err.problem } };
  }
}

/** The Redis key of a PR's recorded TDX approval (the head SHA an approver approved). */
export function tdxApprovalKey(gh: GitHub, pr: number): string {
  return tdxApprovalKeyFor(gh.fullName, pr);
}

/** The same, by repository name (`owner/repo` as GitHub spells it), for readers without a GitHub client. */
export function tdxApprovalKeyFor(repo: string, pr: number): string {
  return `tdx-approved:${repo}#${pr}`;
}

async function liveJob(scope: FactScope, live: Map<string, ProwJob | undefined>, name: string): Promise<ProwJob | undefined> {
  if (!live.has(name)) live.set(name, await scope.deps.prowjobs.get(name).catch(() => undefined));
  return live.get(name);
}

/** The job behind each re-requested check run: its ProwJob's job (the live object, else katabot's results record). */
async function rerunJobs(scope: FactScope, live: Map<string, ProwJob | undefined>): Promise<string[]> {
  const out: string[] = [];
  for (const t of scope.rerun?.targets ?? []) {
    if (!t.prowjob) continue;
    const job = (await liveJob(scope, live, t.prowjob))?.spec.job ?? (await scope.deps.results.get(t.prowjob))?.job;
    if (job && !out.includes(job)) out.push(job);
  }
  return out;
}

/** The PR whose head is the re-requested commit: the payload, then the ProwJob's refs, then katabot's records, then GitHub. */
async function pullForHead(scope: FactScope, live: Map<string, ProwJob | undefined>): Promise<PullFacts | null> {
  const r = scope.rerun;
  if (!r) return null;
  let number: number | undefined = r.pullNumbers[0];
  for (const t of r.targets) {
    if (number !== undefined || !t.prowjob) break;
    const pull = (await liveJob(scope, live, t.prowjob))?.spec.refs?.pulls?.[0];
    if (pull && pull.sha === r.headSha) number = pull.number;
  }
  number ??= await scope.deps.results.pullForSha(scope.gh.fullName, r.headSha);
  number ??= (await scope.gh.openPullsForSha(r.headSha))[0];
  return number === undefined ? null : scope.gh.pull(number);
}
