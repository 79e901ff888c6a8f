// The facts planners decide from, and how a planner asks for a fact it lacks. Pure.
//
// A handler does not guess what a planner will need: it calls the planner with the facts it has, and the planner
// either returns its plan or `{ need }` naming the one fact it is missing. The handler gathers exactly that fact
// through an adapter and calls the planner again. So a comment that asks for `/help` costs no API call, and the
// PR's changed files are fetched only when a change rule decides (Prow's trigger gets the same laziness from its
// contextGetter and ChangedFilesProvider closures). Planners read facts with `need()`, which throws MissingFact;
// `step()` turns that into `{ need }`.
import type { KatabotConfig } from '../config/types.ts';
import type { RunInfo, WorkflowJobObject, WorkflowRunObject } from '../jobs/actions.ts';
import type { Postsubmit, Presubmit } from '../config/prow-types.ts';
import type { ResultState } from '../jobs/select.ts';
import { userTrustStep } from '../policy/trust.ts';

/** A pull request as katabot reads it (webhook payloads and the REST API agree on these fields). */
export interface PullFacts {
  number: number;
  state: string;
  draft: boolean;
  merged: boolean;
  mergeable: boolean | null;
  title: string;
  author: string;
  authorLink: string;
  link: string;
  headSha: string;
  headRef: string;
  baseRef: string;
  baseSha: string;
  repoLink: string;
  labels: string[];
  /** GitHub's test merge of head onto base (`refs/pull/N/merge`); null while GitHub computes it or on conflicts. */
  mergeSha?: string | null;
}

/** A GitHub Actions workflow run, as replies and re-runs name it. */
export interface WorkflowRunRef {
  id: number;
  name: string;
  url: string;
}

/** One fact a planner can ask for. */
export type Need =
  | { fact: 'member'; login: string; orgs: readonly string[] }
  | { fact: 'collaborator'; login: string }
  | { fact: 'changedFiles' }
  | { fact: 'results' }
  | { fact: 'tdxApproval' }
  | { fact: 'probeDirs' }
  | { fact: 'inRepoConfig' }
  | { fact: 'failedWorkflowRuns' }
  | { fact: 'rerunJobs' }
  | { fact: 'pull' }
  | { fact: 'workflowRun'; runId: number }
  | { fact: 'pullForSha'; sha: string }
  | { fact: 'headRuns' }
  | { fact: 'runJobs'; runIds: readonly number[] }
  | { fact: 'requiredChecks'; branch: string };


/** Files of `.katabot/probes/<dir>` on the base branch, as read through the contents API. */
interface ProbeDir {
  path: string;
  files: Record<string, string>;
}

/** The facts gathered so far. Absent means "not gathered yet"; a gathered fact is never undefined. */
export interface Facts {
  /** Membership in any of the trust orgs, by lower-cased login. */
  member?: Readonly<Record<string, boolean>>;
  /** Repository collaborators, by lower-cased login. */
  collaborator?: Readonly<Record<string, boolean>>;
  /** The PR's changed paths (renames contribute both names). */
  changedFiles?: readonly string[];
  /** Latest result per context on the head commit. */
  results?: ReadonlyMap<string, ResultState>;
  /** The head commit a TDX approver approved (null: none recorded). */
  tdxApproval?: string | null;
  /** `.katabot/probes` on the base branch. */
  probeDirs?: readonly ProbeDir[];
  /** Jobs from the repository's own `.prow.yaml` (trusted PRs only), or why they could not be read. */
  inRepoConfig?: InRepoFacts;
  /** The head commit's failed workflow runs, or why they could not be listed. */
  failedWorkflowRuns?: { runs: readonly WorkflowRunRef[] } | { error: string };
  /** The job names behind re-requested check runs (katabot's own runs only). */
  rerunJobs?: readonly string[];
  /** The open PR whose head is the re-requested commit (null: none). */
  pull?: PullFacts | null;
  /** GitHub Actions workflow runs by id, as katabot keeps them (null: GitHub does not know the run). */
  workflowRun?: Readonly<Record<number, RunInfo | null>>;
  /** The PR whose head is a commit, by SHA (null: none found). */
  pullForSha?: Readonly<Record<string, number | null>>;
  /** Every workflow run of the head commit, or why they could not be listed. */
  headRuns?: { runs: readonly WorkflowRunObject[] } | { error: string };
  /** The jobs of a workflow run's latest attempt, by run id (an error: why they could not be listed). */
  runJobs?: Readonly<Record<number, readonly WorkflowJobObject[] | { error: string }>>;
  /** Status checks branch protection requires on a branch, by branch (empty: none, or not readable). */
  requiredChecks?: Readonly<Record<string, readonly string[]>>;
}

/** In-repo job config at the PR's merge of head onto base. */
export type InRepoFacts =
  | { presubmits: readonly Presubmit[]; postsubmits: readonly Postsubmit[] }
  | { error: { file: string; line?: number; message: string } };

/** Thrown by `need()`; caught by `step()`. Not an error: a request for a fact. */
class MissingFact {
  readonly need: Need;
  constructor(need: Need) {
    this.need = need;
  }
}

/** `value`, or a request for the fact when it has not been gathered. */
export function need<T>(value: T | undefined, what: Need): T {
  if (value === undefined) throw new MissingFact(what);
  return value;
}

export type Step<P> = { need: Need } | { plan: P };

/** Runs a planner body: its plan, or the fact it asked for. */
export function step<P>(body: () => P): Step<P> {
  try {
    return { plan: body() };
  } catch (err) {
    if (err instanceof MissingFact) return { need: err.need };
    throw err;
  }
}

/** Prow's TrustedUser for `login`, asking for membership and collaboration only when the policy needs them. */
export function isTrustedUser(policy: KatabotConfig, botLogin: string, owner: string, login: string, facts: Facts): boolean {
  const key = login.toLowerCase();
  const known = { member: facts.member?.[key], collaborator: facts.collaborator?.[key] };
  const trustFacts: { member?: boolean; collaborator?: boolean } = {};
  if (known.member !== undefined) trustFacts.member = known.member;
  if (known.collaborator !== undefined) trustFacts.collaborator = known.collaborator;
  const s = userTrustStep(policy, botLogin, login, trustFacts);
  if ('trusted' in s) return s.trusted;
  if (s.need === 'member') throw new MissingFact({ fact: 'member', login, orgs: policy.orgs.length ? policy.orgs : [owner] });
  throw new MissingFact({ fact: 'collaborator', login });
}
