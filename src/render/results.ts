// Job results as katabot records them for rerun counts, flakiness and the dashboard: one record per ProwJob
// (every type, PR or not), and the attempts of one job on one commit. Pure shapes and derivations.
import { LABELS, type ProwJob, type ProwJobState, type ProwJobType } from '../jobs/types.ts';

export interface RunRecord {
  /** ProwJob name. */
  name: string;
  job: string;
  type: ProwJobType;
  state: ProwJobState;
  /** GitHub context (presubmits and postsubmits). */
  context?: string;
  org?: string;
  repo?: string;
  baseRef?: string;
  baseSha?: string;
  /** The PR, for presubmits. */
  pull?: number;
  author?: string;
  /** The tested commit: pulls[0].sha, else base_sha. */
  sha?: string;
  /** startTime (creation), pendingTime (pod started), completionTime. ISO 8601. */
  start?: string;
  pending?: string;
  end?: string;
  /** status.url, else the Deck link. */
  url?: string;
  description?: string;
  buildId?: string;
  /** 1-based: the order in which katabot first saw the attempts of this job on this commit. */
  attempt?: number;
  retest: boolean;
  traced: boolean;
  optional?: boolean;
  /** The CI system that ran it: absent for ProwJobs (records from before Actions were recorded have none). */
  source?: 'prow' | 'actions';
  /** A GitHub Actions job attempt: its run and job (src/render/actions-results.ts). */
  actions?: ActionsFacts;
}

/** What a GitHub Actions attempt record adds. */
export interface ActionsFacts {
  workflow: string;
  /** The workflow file's path, e.g. `.github/workflows/ci-on-push.yaml`. */
  workflowFile?: string;
  runId: number;
  runAttempt: number;
  runNumber?: number;
  /** The job's own name is the record's `context`; its `/test` name is derived from it (src/jobs/actions.ts typeableName). */
  jobId: number;
  event: string;
  headBranch?: string;
  status: string;
  conclusion: string | null;
  /** Runner labels the job asked for. */
  labels: string[];
  runner?: string;
}

/** One attempt of a job on a commit, as the attempts index keeps it. */
export interface AttemptRecord {
  name: string;
  attempt: number;
  state: ProwJobState;
  start?: string;
  end?: string;
  url?: string;
}


/** The result record of a ProwJob in its current state. */
export function jobResultOf(pj: ProwJob, url: string | undefined, attempt?: number): RunRecord {
  const refs = pj.spec.refs ?? pj.spec.extra_refs?.[0];
  const pull = pj.spec.refs?.pulls?.[0];
  const st = pj.status ?? {};
  const optional = pj.metadata.labels?.[LABELS.isOptional];
  const r: RunRecord = {
    name: pj.metadata.name,
    job: pj.spec.job,
    type: pj.spec.type,
    state: st.state ?? 'triggered',
    retest: pj.metadata.labels?.[LABELS.retest] === 'true',
    traced: pj.metadata.labels?.[LABELS.trace] === 'true',
  };
  const set = <K extends keyof RunRecord>(k: K, v: RunRecord[K] | undefined | '') => {
    if (v !== undefined && v !== '') r[k] = v;
  };
  set('context', pj.spec.context);
  set('org', refs?.org);
  set('repo', refs?.repo);
  set('baseRef', refs?.base_ref);
  set('baseSha', refs?.base_sha);
  set('pull', pull?.number);
  set('author', pull?.author);
  set('sha', pull?.sha ?? refs?.base_sha);
  set('start', st.startTime);
  set('pending', st.pendingTime);
  set('end', st.completionTime);
  set('url', url);
  set('description', st.description);
  set('buildId', st.build_id);
  set('attempt', attempt);
  if (optional === 'true' || optional === 'false') r.optional = optional === 'true';
  return r;
}

/**
 * The attempts index a job belongs to: (repo, job, tested commit). Presubmits and postsubmits key on the commit;
 * periodics on their extra_refs' base commit when they have one, else on their own name (every run stands alone).
 */
export function attemptKeyOf(pj: ProwJob): { repo: string; job: string; sha: string } {
  const refs = pj.spec.refs ?? pj.spec.extra_refs?.[0];
  const repo = refs ? `${refs.org}/${refs.repo}` : '-';
  const sha = pj.spec.refs?.pulls?.[0]?.sha ?? refs?.base_sha ?? `run:${pj.metadata.name}`;
  return { repo, job: pj.spec.job, sha };
}

export function attemptOf(result: RunRecord): AttemptRecord {
  const a: AttemptRecord = { name: result.name, attempt: result.attempt ?? 1, state: result.state };
  if (result.start) a.start = result.start;
  if (result.end) a.end = result.end;
  if (result.url) a.url = result.url;
  return a;
}

export interface AttemptSummary {
  attempts: number;
  passed: number;
  failed: number;
  /** Passed and failed on the same commit. */
  flaky: boolean;
}

export function summarizeAttempts(attempts: readonly Pick<AttemptRecord, 'state'>[]): AttemptSummary {
  const passed = attempts.filter((a) => a.state === 'success').length;
  const failed = attempts.filter((a) => a.state === 'failure' || a.state === 'error').length;
  return { attempts: attempts.length, passed, failed, flaky: passed > 0 && failed > 0 };
}

const RANK: Record<ProwJobState, number> = { scheduling: 0, triggered: 0, pending: 1, success: 2, failure: 2, aborted: 2, error: 2 };

/** A ProwJob only moves forward; an older copy of it (a retried trigger, a stale event) must not undo a newer record. */
export function isRegression(existing: RunRecord | undefined, next: RunRecord): boolean {
  return existing !== undefined && RANK[next.state] < RANK[existing.state];
}

/** Whether two records differ in anything a reader would see (the stored record is rewritten only then). */
export function sameResult(a: RunRecord | undefined, b: RunRecord): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}
