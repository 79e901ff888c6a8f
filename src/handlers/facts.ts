// Gathers the facts planners ask for (src/plan/facts.ts), each through one adapter call, and calls a planner until
// it has its plan. Nothing is decided here: which fact is needed, and what it means, is the planner's.
import type { GitHub, PullFacts } from '../adapters/github.ts';
import { PROBES_DIR } from '../adapters/bpf-packages.ts';
import { httpStatus } from '../adapters/github.ts';
import type { ProwJob } from '../jobs/types.ts';
import type { Facts, Need, Step } from '../plan/facts.ts';
import { failedWorkflowRuns, latestResults } from '../plan/head-results.ts';
import type { HandlerDeps } from './deps.ts';

/** Where facts come from for one event. */
export interface FactScope {
  deps: HandlerDeps;
  gh: GitHub;
  /** The PR the event is about, once known. */
  pr?: PullFacts;
  /** Check runs re-requested from GitHub's UI: whose jobs, on which commit. */
  rerun?: { targets: ReadonlyArray<{ prowjob: string | null | undefined }>; headSha: string; pullNumbers: readonly number[] };
}

/** Planners ask for at most a handful of facts; more means a planner asks for the same fact again (a bug). */
const MAX_STEPS = 16;

/** Calls `planner` with the facts gathered so far until it returns its plan. */
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
    case 'inRepoConfig':
      return { inRepoConfig: { error: { file: '.prow.yaml', message: 'in-repo config is not read by this katabot yet' } } };
    case 'failedWorkflowRuns':
      try {
        return { failedWorkflowRuns: { runs: failedWorkflowRuns(await gh.workflowRuns(pr(scope, facts, need).headSha)) } };
      } catch (err) {
        const code = httpStatus(err);
        deps.log.warn({ err: (err as Error).message, status: code }, 'could not list GitHub Actions workflow runs');
        return { failedWorkflowRuns: { error: code === 403 ? 'katabot lacks the `actions: read` permission here' : `GitHub answered ${code ?? (err as Error).message}` } };
      }
    case 'rerunJobs':
      return { rerunJobs: await rerunJobs(scope, live) };
    case 'pull':
      return { pull: await pullForHead(scope, live) };
  }
}

/** The Redis key of a PR's recorded TDX approval (the head SHA an approver approved). */
export function tdxApprovalKey(gh: GitHub, pr: number): string {
  return `tdx-approved:${gh.fullName}#${pr}`;
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
