// The dashboard's views from job results (src/render/results.ts, as the reporter records them). Pure: the shell
// (src/server/dashboard-data.ts) reads the store and passes results in.
import { typeableOf } from '../render/actions-results.ts';
import type { RunRecord } from '../render/results.ts';
import type {
  AttemptChip, CommitAttempts, JobRowBase, JobRunsView, MaintainerGroup, NightlyRow, NightlyView, Outcome, PrChecksView, PresubmitRow,
  PullJob, PullSummary, PullView, Requirement, RunDetail, RunView, Weather,
} from './types.ts';
import { isFinished, outcomeOf, WEATHERS, weatherOf, weatherRank } from './weather.ts';

/** What the views need to know about jobs besides their results. */
export interface Classifier {
  requirement(r: Pick<RunRecord, 'job' | 'context' | 'type' | 'optional'>): Requirement;
  /** Maintainer group names for a job. */
  maintainers(job: string, context?: string): string[];
  group(name: string): MaintainerGroup | undefined;
}

export interface ViewContext {
  now: Date;
  classifier: Classifier;
  /** GitHub web URL, e.g. https://github.com */
  githubWebUrl: string;
}

function timeOf(r: Pick<RunRecord, 'start' | 'pending' | 'end'>): number {
  const t = Date.parse(r.start ?? r.pending ?? r.end ?? '');
  return Number.isFinite(t) ? t : 0;
}

const newestFirst = (a: RunRecord, b: RunRecord) => timeOf(b) - timeOf(a) || b.name.localeCompare(a.name);

/** The dashboard path of a traced PR run's behavior report. */
function behaviorPath(prowjob: string): string {
  return `/dashboard/behavior/${encodeURIComponent(prowjob)}`;
}

function attemptChip(r: RunRecord): AttemptChip {
  const { prowjob, source, state, outcome, attempt, start, url, traced, behavior } = runView(r);
  const c: AttemptChip = { prowjob, source, state, outcome, attempt, traced };
  if (start) c.start = start;
  if (url) c.url = url;
  if (behavior) c.behavior = behavior;
  return c;
}

export function runView(r: RunRecord): RunView {
  const v: RunView = {
    prowjob: r.name,
    source: r.source ?? 'prow',
    job: r.job,
    type: r.type,
    state: r.state,
    outcome: outcomeOf(r.state),
    attempt: r.attempt ?? 1,
    retest: r.retest,
    traced: r.traced,
  };
  if (r.start) v.start = r.start;
  if (r.end) v.end = r.end;
  const from = Date.parse(r.pending ?? r.start ?? '');
  const to = Date.parse(r.end ?? '');
  if (Number.isFinite(from) && Number.isFinite(to) && to >= from) v.durationSec = Math.round((to - from) / 1000);
  if (r.url) v.url = r.url;
  if (r.description) v.description = r.description;
  if (r.buildId) v.buildId = r.buildId;
  if (r.org && r.repo) v.repo = `${r.org}/${r.repo}`;
  if (r.pull !== undefined) v.pull = r.pull;
  if (r.sha) v.sha = r.sha;
  if (r.author) v.author = r.author;
  if (r.baseRef) v.baseRef = r.baseRef;
  if (r.traced && r.pull !== undefined) v.behavior = behaviorPath(r.name);
  if (r.actions) {
    const a = r.actions;
    v.actions = { workflow: a.workflow, runId: a.runId, runAttempt: a.runAttempt, jobId: a.jobId, event: a.event, conclusion: a.conclusion, labels: a.labels };
    if (a.workflowFile) v.actions.workflowFile = a.workflowFile;
  }
  return v;
}

function rowBase(r: RunRecord, c: Classifier): JobRowBase {
  const base: JobRowBase = { job: r.job, source: r.source ?? 'prow', type: r.type, requirement: c.requirement(r), maintainers: c.maintainers(r.job, r.context) };
  if (r.context) base.context = r.context;
  const typeable = typeableOf(r);
  if (typeable) base.typeable = typeable;
  return base;
}

function groupsOf(rows: ReadonlyArray<{ maintainers: string[] }>, c: Classifier): Record<string, MaintainerGroup> {
  const out: Record<string, MaintainerGroup> = {};
  for (const r of rows) {
    for (const g of r.maintainers) {
      if (out[g]) continue;
      const group = c.group(g);
      if (group) out[g] = group;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Nightly

export function nightlyRow(history: readonly RunRecord[], window: number, c: Classifier): NightlyRow | undefined {
  const sorted = [...history].sort(newestFirst);
  const newest = sorted[0];
  if (!newest) return undefined;
  const finished = sorted.filter((r) => isFinished(outcomeOf(r.state))).slice(0, window);
  const running = sorted.filter((r) => !isFinished(outcomeOf(r.state)) && timeOf(r) >= timeOf(finished[0] ?? { start: '' }));
  let passes = 0;
  let fails = 0;
  let skips = 0;
  for (const r of finished) {
    const o = outcomeOf(r.state);
    if (o === 'pass') passes++;
    else if (o === 'fail') fails++;
    else skips++;
  }
  let failStreak = 0;
  for (const r of finished) {
    const o = outcomeOf(r.state);
    if (o === 'skip') continue;
    if (o !== 'fail') break;
    failStreak++;
  }
  const runs = finished.length;
  const row: NightlyRow = {
    ...rowBase(newest, c),
    runs,
    passes,
    fails,
    skips,
    failRate: runs ? fails / runs : null,
    weather: weatherOf(fails, runs),
    failStreak,
    last: [...running, ...finished].map(runView),
  };
  const lastPass = finished.find((r) => r.state === 'success');
  const lastFail = finished.find((r) => outcomeOf(r.state) === 'fail');
  if (lastPass) row.lastPass = lastPass.end ?? lastPass.start ?? '';
  if (lastFail) row.lastFail = lastFail.end ?? lastFail.start ?? '';
  return row;
}

/** Worst first: weather, then failures, then failures in a row, then name. */
function worstFirst(a: NightlyRow, b: NightlyRow): number {
  return weatherRank(b.weather) - weatherRank(a.weather) || b.fails - a.fails || b.failStreak - a.failStreak || a.job.localeCompare(b.job);
}

/** Periodic jobs with their last `window` finished runs. `histories`: newest results of every job (any type). */
export function nightlyView(histories: ReadonlyMap<string, readonly RunRecord[]>, window: number, ctx: ViewContext): NightlyView {
  const jobs: NightlyRow[] = [];
  for (const history of histories.values()) {
    const periodic = history.filter((r) => r.type === 'periodic');
    const row = nightlyRow(periodic, window, ctx.classifier);
    if (row) jobs.push(row);
  }
  jobs.sort(worstFirst);
  const weather = Object.fromEntries(WEATHERS.map((w) => [w, 0])) as Record<Weather, number>;
  for (const j of jobs) weather[j.weather]++;
  return {
    generatedAt: ctx.now.toISOString(),
    window,
    jobs,
    groups: groupsOf(jobs, ctx.classifier),
    totals: { jobs: jobs.length, failing: jobs.filter((j) => j.last.find((r) => r.outcome !== 'running')?.outcome === 'fail').length, weather },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Pull requests

function pullKey(repo: string, pull: number): string {
  return `${repo.toLowerCase()}#${pull}`;
}

/** Recent PRs from job histories: newest activity first. */
export function recentPulls(histories: Iterable<readonly RunRecord[]>, limit: number): Array<{ repo: string; pull: number; updated: number }> {
  const seen = new Map<string, { repo: string; pull: number; updated: number }>();
  for (const history of histories) {
    for (const r of history) {
      if (r.pull === undefined || !r.org || !r.repo || r.type !== 'presubmit') continue;
      const repo = `${r.org}/${r.repo}`;
      const key = pullKey(repo, r.pull);
      const t = timeOf(r);
      const cur = seen.get(key);
      if (!cur || t > cur.updated) seen.set(key, { repo, pull: r.pull, updated: t });
    }
  }
  return [...seen.values()].sort((a, b) => b.updated - a.updated || b.pull - a.pull).slice(0, limit);
}

/** Attempts in order: a GitHub Actions job's runs by run, then by `run_attempt`; ProwJobs by attempt number. */
function byAttempt(a: RunRecord, b: RunRecord): number {
  return (a.actions?.runId ?? 0) - (b.actions?.runId ?? 0) || (a.attempt ?? 1) - (b.attempt ?? 1) || timeOf(a) - timeOf(b);
}

/** Failed, then passed later on the same commit. */
export function isFlaky(attempts: ReadonlyArray<{ state: RunRecord['state'] }>): boolean {
  let failed = false;
  for (const a of attempts) {
    const o = outcomeOf(a.state);
    if (o === 'fail') failed = true;
    else if (o === 'pass' && failed) return true;
  }
  return false;
}

function newestOutcome(attempts: readonly RunRecord[]): Outcome {
  const last = attempts[attempts.length - 1];
  return last ? outcomeOf(last.state) : 'running';
}

/** A PR's results grouped by commit and job (attempts in order). Commits newest first. */
function commitsOf(results: readonly RunRecord[]): Array<{ sha: string; updated: number; jobs: Map<string, RunRecord[]> }> {
  const bySha = new Map<string, { sha: string; updated: number; jobs: Map<string, RunRecord[]> }>();
  for (const r of results) {
    if (r.type !== 'presubmit' && r.type !== 'batch') continue;
    const sha = r.sha ?? '';
    let c = bySha.get(sha);
    if (!c) bySha.set(sha, (c = { sha, updated: 0, jobs: new Map() }));
    c.updated = Math.max(c.updated, timeOf(r));
    const list = c.jobs.get(r.job) ?? [];
    list.push(r);
    c.jobs.set(r.job, list);
  }
  for (const c of bySha.values()) for (const list of c.jobs.values()) list.sort(byAttempt);
  return [...bySha.values()].sort((a, b) => b.updated - a.updated);
}

function pullLink(web: string, repo: string, pull: number): string {
  return `${web.replace(/\/+$/, '')}/${repo}/pull/${pull}`;
}

export function pullSummary(repo: string, pull: number, results: readonly RunRecord[], ctx: ViewContext): PullSummary | undefined {
  const commits = commitsOf(results);
  const head = commits[0];
  if (!head) return undefined;
  let passing = 0;
  let failing = 0;
  let running = 0;
  for (const attempts of head.jobs.values()) {
    const o = newestOutcome(attempts);
    if (o === 'pass') passing++;
    else if (o === 'fail') failing++;
    else if (o === 'running') running++;
  }
  const any = [...head.jobs.values()][0]?.[0];
  const s: PullSummary = {
    repo,
    pull,
    sha: head.sha,
    updated: new Date(head.updated).toISOString(),
    passing,
    failing,
    running,
    link: pullLink(ctx.githubWebUrl, repo, pull),
  };
  if (any?.author) s.author = any.author;
  if (any?.baseRef) s.baseRef = any.baseRef;
  return s;
}

/** Presubmits over the given PRs, one row per job: runs, failures, reruns and flakiness. Flakiest first. */
export function prChecksView(pulls: ReadonlyArray<{ repo: string; pull: number; results: readonly RunRecord[] }>, ctx: ViewContext): PrChecksView {
  const rows = new Map<string, { row: PresubmitRow; newest: RunRecord; prs: Set<string>; finishedCommits: number }>();
  const summaries: PullSummary[] = [];
  for (const p of pulls) {
    const summary = pullSummary(p.repo, p.pull, p.results, ctx);
    if (summary) summaries.push(summary);
    for (const commit of commitsOf(p.results)) {
      for (const [job, attempts] of commit.jobs) {
        const newest = attempts[attempts.length - 1]!;
        let entry = rows.get(job);
        if (!entry) {
          entry = {
            row: { ...rowBase(newest, ctx.classifier), prs: 0, commits: 0, runs: 0, failures: 0, reruns: 0, flakyCommits: 0, flakiness: 0, history: [] },
            newest,
            prs: new Set(),
            finishedCommits: 0,
          };
          rows.set(job, entry);
        }
        const row = entry.row;
        entry.prs.add(pullKey(p.repo, p.pull));
        row.commits++;
        row.runs += attempts.length;
        row.failures += attempts.filter((a) => outcomeOf(a.state) === 'fail').length;
        row.reruns += attempts.length - 1;
        const flaky = isFlaky(attempts);
        if (flaky) row.flakyCommits++;
        if (attempts.some((a) => isFinished(outcomeOf(a.state)))) entry.finishedCommits++;
        const h: CommitAttempts = { repo: p.repo, pull: p.pull, sha: commit.sha, attempts: attempts.map(attemptChip), flaky };
        if (newest.author) h.author = newest.author;
        row.history.push(h);
      }
    }
  }
  const jobs = [...rows.values()].map(({ row, prs, finishedCommits }) => {
    row.prs = prs.size;
    row.flakiness = finishedCommits ? row.flakyCommits / finishedCommits : 0;
    row.history.sort((a, b) => timeOf(b.attempts[0] ?? {}) - timeOf(a.attempts[0] ?? {}));
    return row;
  });
  jobs.sort(
    (a, b) => b.flakiness - a.flakiness || b.flakyCommits - a.flakyCommits || b.reruns - a.reruns || b.failures - a.failures || a.job.localeCompare(b.job),
  );
  return {
    generatedAt: ctx.now.toISOString(),
    pulls: summaries,
    jobs,
    groups: groupsOf(jobs, ctx.classifier),
    totals: {
      jobs: jobs.length,
      flaky: jobs.filter((j) => j.flakyCommits > 0).length,
      reruns: jobs.reduce((n, j) => n + j.reruns, 0),
      failures: jobs.reduce((n, j) => n + j.failures, 0),
    },
  };
}

/** One PR: every job on one commit (the newest unless `sha` names another), with each attempt. */
export function pullView(repo: string, pull: number, results: readonly RunRecord[], sha: string | undefined, ctx: ViewContext): PullView | undefined {
  const commits = commitsOf(results);
  if (commits.length === 0) return undefined;
  const chosen = (sha && commits.find((c) => c.sha.toLowerCase().startsWith(sha.toLowerCase()))) || commits[0]!;
  const jobs: PullJob[] = [];
  for (const [, attempts] of chosen.jobs) {
    const newest = attempts[attempts.length - 1]!;
    jobs.push({
      ...rowBase(newest, ctx.classifier),
      outcome: outcomeOf(newest.state),
      attempts: attempts.map(runView),
      reruns: attempts.length - 1,
      flaky: isFlaky(attempts),
    });
  }
  const order: Record<Outcome, number> = { fail: 0, running: 1, skip: 2, pass: 3 };
  jobs.sort((a, b) => order[a.outcome] - order[b.outcome] || Number(b.flaky) - Number(a.flaky) || a.job.localeCompare(b.job));
  const any = [...chosen.jobs.values()][0]?.[0];
  const web = ctx.githubWebUrl.replace(/\/+$/, '');
  const v: PullView = {
    generatedAt: ctx.now.toISOString(),
    repo,
    pull,
    sha: chosen.sha,
    commits: commits.map((c) => ({
      sha: c.sha,
      updated: new Date(c.updated).toISOString(),
      jobs: c.jobs.size,
      failing: [...c.jobs.values()].filter((a) => newestOutcome(a) === 'fail').length,
    })),
    jobs,
    groups: groupsOf(jobs, ctx.classifier),
    totals: {
      jobs: jobs.length,
      passing: jobs.filter((j) => j.outcome === 'pass').length,
      failing: jobs.filter((j) => j.outcome === 'fail').length,
      running: jobs.filter((j) => j.outcome === 'running').length,
      skipped: jobs.filter((j) => j.outcome === 'skip').length,
      flaky: jobs.filter((j) => j.flaky).length,
      reruns: jobs.reduce((n, j) => n + j.reruns, 0),
    },
    links: { pull: pullLink(web, repo, pull), commit: `${web}/${repo}/commit/${chosen.sha}` },
  };
  if (any?.author) v.author = any.author;
  if (any?.baseRef) v.baseRef = any.baseRef;
  return v;
}

// ---------------------------------------------------------------------------------------------------------------
// One job, one run

export function jobRunsView(job: string, history: readonly RunRecord[], limit: number, ctx: ViewContext): JobRunsView {
  const sorted = [...history].sort(newestFirst);
  const newest = sorted[0];
  const requirement = newest ? ctx.classifier.requirement(newest) : ctx.classifier.requirement({ job, type: 'periodic' });
  const maintainers = ctx.classifier.maintainers(job, newest?.context);
  const v: JobRunsView = {
    generatedAt: ctx.now.toISOString(),
    job,
    requirement,
    maintainers,
    groups: groupsOf([{ maintainers }], ctx.classifier),
    runs: sorted.slice(0, limit).map(runView),
  };
  if (newest) v.type = newest.type;
  const last = sorted[limit - 1];
  if (sorted.length >= limit && last?.start) v.next = last.start;
  return v;
}

export function runDetail(run: RunRecord, attempts: readonly RunRecord[], ctx: ViewContext): RunDetail {
  const maintainers = ctx.classifier.maintainers(run.job, run.context);
  return {
    generatedAt: ctx.now.toISOString(),
    run: runView(run),
    attempts: [...attempts].sort(byAttempt).map(runView),
    requirement: ctx.classifier.requirement(run),
    maintainers,
    groups: groupsOf([{ maintainers }], ctx.classifier),
  };
}
