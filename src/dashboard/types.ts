// The dashboard's JSON shapes: what /api/ answers and what the front end (web/) renders. Pure types, shared by the
// server and the browser bundle. Documented in docs/dashboard-api.md.
import type { ProwJobState, ProwJobType } from '../jobs/types.ts';

/** A run as a person reads it: Prow's success → pass, failure/error → fail, aborted → skip, anything else → running. */
export type Outcome = 'pass' | 'fail' | 'skip' | 'running';

/** Kata's weather icons, best to worst. */
export type Weather = 'sunny' | 'partially-sunny' | 'cloudy' | 'rainy' | 'stormy';

/** Why a job is required: `required_tests`, `required_regexps`, `mapping:<set>` (Kata's required-tests.yaml), `prow` (a non-optional presubmit). */
export interface Requirement {
  required: boolean;
  by: string[];
}

/** One owner from Kata's maintainers.yml. Links are only given when they are links. */
export interface Owner {
  fullname: string;
  github?: string;
  email?: string;
  /** A web page given in the email field (the sample has one). */
  homepage?: string;
  slack?: string;
  slackurl?: string;
}

export interface MaintainerGroup {
  group: string;
  /** The regexes of maintainers.yml that name this group. */
  regexes: string[];
  owners: Owner[];
}

/** The CI system a job runs on. */
export type Source = 'prow' | 'actions';

/** What a GitHub Actions attempt adds to its run. */
interface ActionsRunInfo {
  workflow: string;
  workflowFile?: string;
  runId: number;
  /** GitHub's `run_attempt`. */
  runAttempt: number;
  jobId: number;
  event: string;
  /** GitHub's conclusion, e.g. cancelled (counted as a skip unless the dashboard counts it as a failure). */
  conclusion: string | null;
  /** Runner labels. */
  labels: string[];
}

/** One attempt of a job on a commit: a ProwJob, or a GitHub Actions job attempt. */
export interface RunView {
  /** The record's name: the ProwJob's, or `actions-<job id>`. */
  prowjob: string;
  source: Source;
  job: string;
  type: ProwJobType;
  state: ProwJobState;
  outcome: Outcome;
  /** 1-based attempt of this job on this commit. */
  attempt: number;
  start?: string;
  end?: string;
  /** From pod start (else creation) to completion. */
  durationSec?: number;
  /** Deck (Spyglass) link, or the Actions job's page. */
  url?: string;
  description?: string;
  buildId?: string;
  repo?: string;
  pull?: number;
  sha?: string;
  author?: string;
  baseRef?: string;
  retest: boolean;
  traced: boolean;
  /** The dashboard's Behavior page for a traced PR run. */
  behavior?: string;
  actions?: ActionsRunInfo;
}

/** Fields every job row has. */
export interface JobRowBase {
  /** A ProwJob's job name, or an Actions job as GitHub's checks list shows it: `<workflow> / <job>`. */
  job: string;
  source: Source;
  /** Actions: the name `/test` takes and URLs use (no spaces, no slashes). */
  typeable?: string;
  type: ProwJobType;
  context?: string;
  requirement: Requirement;
  /** Maintainer group names; the groups are in the view's `groups`. */
  maintainers: string[];
}

export interface NightlyRow extends JobRowBase {
  /** Finished runs in the window (pass + fail + skip). */
  runs: number;
  passes: number;
  fails: number;
  skips: number;
  /** fails / runs (skips count in the denominator, as on Kata's dashboard); null without runs. */
  failRate: number | null;
  weather: Weather;
  /** Failures in a row, newest first. */
  failStreak: number;
  /** Newest first: the running run (if any), then the finished runs of the window. */
  last: RunView[];
  lastPass?: string;
  lastFail?: string;
}

export interface NightlyView {
  generatedAt: string;
  /** Finished runs per job that count (the weather window). */
  window: number;
  jobs: NightlyRow[];
  groups: Record<string, MaintainerGroup>;
  totals: { jobs: number; failing: number; weather: Record<Weather, number> };
}

/** An attempt, as a row's history shows it. */
export type AttemptChip = Pick<RunView, 'prowjob' | 'source' | 'state' | 'outcome' | 'attempt' | 'start' | 'url' | 'traced' | 'behavior'>;

/** A job's attempts on one commit of one PR. */
export interface CommitAttempts {
  repo: string;
  pull: number;
  sha: string;
  author?: string;
  attempts: AttemptChip[];
  /** Failed, then passed on the same commit. */
  flaky: boolean;
}

export interface PresubmitRow extends JobRowBase {
  prs: number;
  /** Commits (PR head SHAs) the job ran on. */
  commits: number;
  /** Attempts (ProwJobs). */
  runs: number;
  failures: number;
  /** Attempts beyond the first, summed over commits. */
  reruns: number;
  flakyCommits: number;
  /** flakyCommits / commits with a finished attempt; 0 when none. */
  flakiness: number;
  /** Newest first. */
  history: CommitAttempts[];
}

export interface PullSummary {
  repo: string;
  pull: number;
  author?: string;
  /** Head SHA of the newest run. */
  sha: string;
  baseRef?: string;
  updated: string;
  /** Jobs on the newest SHA by their newest attempt. */
  passing: number;
  failing: number;
  running: number;
  link: string;
}

export interface PrChecksView {
  generatedAt: string;
  /** The PRs counted, newest first. */
  pulls: PullSummary[];
  jobs: PresubmitRow[];
  groups: Record<string, MaintainerGroup>;
  totals: { jobs: number; flaky: number; reruns: number; failures: number };
}

export interface PullJob extends JobRowBase {
  /** The newest attempt's outcome. */
  outcome: Outcome;
  attempts: RunView[];
  reruns: number;
  flaky: boolean;
}

export interface PullView {
  generatedAt: string;
  repo: string;
  pull: number;
  author?: string;
  baseRef?: string;
  /** The commit shown. */
  sha: string;
  /** Every commit katabot ran jobs on, newest first. */
  commits: Array<{ sha: string; updated: string; jobs: number; failing: number }>;
  jobs: PullJob[];
  groups: Record<string, MaintainerGroup>;
  totals: { jobs: number; passing: number; failing: number; running: number; skipped: number; flaky: number; reruns: number };
  links: { pull: string; commit: string };
  /** The PR's CI labels (ok-to-test, needs-ok-to-test, the TDX label) as katabot last saw them. */
  labels?: string[];
  /** The commit a TDX approver approved (the TDX label counts for it only). */
  tdxApprovedSha?: string;
}

export interface JobRunsView {
  generatedAt: string;
  job: string;
  type?: ProwJobType;
  requirement: Requirement;
  maintainers: string[];
  groups: Record<string, MaintainerGroup>;
  runs: RunView[];
  /** Pass as `before` for older runs. */
  next?: string;
}

export interface RunDetail {
  generatedAt: string;
  run: RunView;
  /** Every attempt of the same job on the same commit (this one included). */
  attempts: RunView[];
  requirement: Requirement;
  maintainers: string[];
  groups: Record<string, MaintainerGroup>;
}

export interface BehaviorInfo {
  generatedAt: string;
  /** The stored report's id. */
  id?: string;
  run?: RunView;
  available: boolean;
  /** The raw report, for the iframe. */
  reportUrl?: string;
  /** Why there is none. */
  reason?: string;
}

export interface JobCatalogue {
  generatedAt: string;
  jobs: Array<JobRowBase & { lastRun?: string }>;
  groups: Record<string, MaintainerGroup>;
}

export interface ApiError {
  error: string;
}
