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

/** One ProwJob (one attempt of a job on a commit). */
export interface RunView {
  /** ProwJob name. */
  prowjob: string;
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
  /** Deck (Spyglass) link. */
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
}

/** Fields every job row has. */
export interface JobRowBase {
  job: string;
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
export type AttemptChip = Pick<RunView, 'prowjob' | 'state' | 'outcome' | 'attempt' | 'start' | 'url' | 'traced' | 'behavior'>;

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
