// The dashboard's data: reads katabot's results store (what the reporter recorded) and nothing else, builds the
// views with the pure code in src/dashboard, and keeps each view for a few seconds so a busy page costs Redis one
// read per view and interval, not one per visitor. Kata's required-tests.yaml and maintainers.yml are read from
// files and re-read when they change.
import type { Logger } from 'pino';
import type { ResultsStore } from '../adapters/results-store.ts';
import type { Store } from '../adapters/store.ts';
import { WatchedFile } from '../adapters/watched-file.ts';
import { readBehaviorHtml, reportId } from '../behavior/baseline.ts';
import { graphFromReportHtml, type ServiceGraphView } from '../render/service-graph.ts';
import { layoutServiceGraph } from '../render/service-graph-layout.ts';
import { groupsFor, NO_MAINTAINERS, parseMaintainers, type Maintainers } from '../dashboard/maintainers.ts';
import { NO_REQUIRED_TESTS, parseRequiredTests, RequiredMatcher, type RequiredTests } from '../dashboard/required.ts';
import type { BehaviorInfo, JobCatalogue, JobRunsView, NightlyView, PrChecksView, PullSummary, PullView, RunDetail } from '../dashboard/types.ts';
import {
  jobRunsView, nightlyView, prChecksView, pullSummary, pullView, recentPulls, runDetail, runView, type Classifier, type ViewContext,
} from '../dashboard/views.ts';
import type { JobConfig, Presubmit } from '../config/prow-types.ts';
import { cancelledAsFailure, typeableOf } from '../render/actions-results.ts';
import type { RunRecord } from '../render/results.ts';

export interface DashboardDataOptions {
  results: ResultsStore;
  /** The key-value store where the behavior diff keeps its HTML reports. */
  store: Store;
  /** Prow's job config (for `optional` and `skip_report` of presubmits). */
  jobs: () => JobConfig;
  githubWebUrl: string;
  /** Kata's required-tests.yaml. */
  requiredTestsPath?: string | undefined;
  /** The same file, already watched (shared with the handlers); wins over requiredTestsPath. */
  requiredTests?: WatchedFile<RequiredTests>;
  /** Kata's maintainers.yml. */
  maintainersPath?: string | undefined;
  log: Logger;
  now?: () => Date;
  /** How long a built view is reused. */
  cacheMs?: number;
  /** How often the two files are checked for changes. */
  fileCheckMs?: number;
  /** Count a cancelled GitHub Actions job as a failure, as Kata's dashboard does (default: a skip, like Prow's aborted). */
  cancelledAsFailure?: boolean;
  /** The PR labels the Single PR view shows (ok-to-test, needs-ok-to-test, the TDX label). */
  ciLabels?: () => readonly string[];
  /** The key under which handlers keep a PR's TDX approval (the approved head SHA). */
  tdxApprovalKey?: (repo: string, pull: number) => string;
}

/** History depth per job, in a few tiers so views with nearby windows share one read. */
const TIERS = [20, 60, 110];
const JOB_NAMES_MAX = 2000;

export class DashboardData {
  readonly #o: DashboardDataOptions;
  readonly #cache = new Map<string, { at: number; value: Promise<unknown> }>();
  readonly #required: WatchedFile<RequiredTests>;
  readonly #maintainers: WatchedFile<Maintainers>;
  #matcher: { source: RequiredTests; matcher: RequiredMatcher } | undefined;
  #presubmits: { source: JobConfig; byName: Map<string, Presubmit> } | undefined;

  constructor(o: DashboardDataOptions) {
    this.#o = o;
    const checkMs = o.fileCheckMs ?? 5000;
    this.#required = o.requiredTests ?? new WatchedFile(o.requiredTestsPath, NO_REQUIRED_TESTS, parseRequiredTests, o.log, checkMs);
    this.#maintainers = new WatchedFile(o.maintainersPath, NO_MAINTAINERS, parseMaintainers, o.log, checkMs);
  }

  #now(): Date {
    return this.#o.now?.() ?? new Date();
  }

  /** Reuses a value built within cacheMs (and the one being built), so concurrent page views share a read. */
  #cached<T>(key: string, build: () => Promise<T>): Promise<T> {
    const ttl = this.#o.cacheMs ?? 5000;
    const hit = this.#cache.get(key);
    if (hit && Date.now() - hit.at < ttl) return hit.value as Promise<T>;
    if (this.#cache.size > 500) {
      for (const [k, v] of this.#cache) if (Date.now() - v.at >= ttl) this.#cache.delete(k);
    }
    const value = build();
    this.#cache.set(key, { at: Date.now(), value });
    value.catch(() => this.#cache.delete(key));
    return value;
  }

  #presubmitConfig(): Map<string, Presubmit> {
    let jobs: JobConfig;
    try {
      jobs = this.#o.jobs();
    } catch {
      return new Map();
    }
    if (this.#presubmits?.source !== jobs) {
      const byName = new Map<string, Presubmit>();
      for (const list of Object.values(jobs.presubmits ?? {})) for (const p of list) if (!byName.has(p.name)) byName.set(p.name, p);
      this.#presubmits = { source: jobs, byName };
    }
    return this.#presubmits.byName;
  }

  async classifier(): Promise<Classifier> {
    const [rt, m] = await Promise.all([this.#required.get(), this.#maintainers.get()]);
    if (this.#matcher?.source !== rt) this.#matcher = { source: rt, matcher: new RequiredMatcher(rt) };
    const matcher = this.#matcher.matcher;
    const presubmits = this.#presubmitConfig();
    return {
      requirement: (r) => {
        const cfg = r.type === 'presubmit' ? presubmits.get(r.job) : undefined;
        const optional = r.optional ?? (cfg ? cfg.optional === true : undefined);
        return matcher.requirementOf({ job: r.job, context: r.context ?? cfg?.context, type: r.type, optional, skipReport: cfg?.skip_report === true });
      },
      maintainers: (job, context) => groupsFor(m, job, context),
      group: (name) => m.groups.get(name),
    };
  }

  async #ctx(): Promise<ViewContext> {
    return { now: this.#now(), classifier: await this.classifier(), githubWebUrl: this.#o.githubWebUrl };
  }

  /** The newest results of every job katabot has seen (at least `depth` per job), by job. */
  histories(depth: number): Promise<Map<string, RunRecord[]>> {
    const limit = TIERS.find((t) => t >= depth) ?? TIERS[TIERS.length - 1]!;
    return this.#cached(`histories:${limit}`, async () => {
      const names = await this.#o.results.jobNames(JOB_NAMES_MAX);
      const lists = await Promise.all(names.map((n) => this.#o.results.jobHistory(n, { limit })));
      return new Map(names.map((n, i) => [n, this.#counted(lists[i]!)]));
    });
  }

  #pullResults(repo: string, pull: number): Promise<RunRecord[]> {
    return this.#cached(`pull:${repo.toLowerCase()}#${pull}`, async () => this.#counted(await this.#o.results.pullResults(repo, pull)));
  }

  /** Results as the views count them: with the cancelled-as-failure setting applied. */
  #counted(results: RunRecord[]): RunRecord[] {
    return this.#o.cancelledAsFailure ? results.map(cancelledAsFailure) : results;
  }

  nightly(runs: number): Promise<NightlyView> {
    return this.#cached(`nightly:${runs}`, async () => nightlyView(await this.histories(runs + 5), runs, await this.#ctx()));
  }

  presubmits(prs: number): Promise<PrChecksView> {
    return this.#cached(`presubmits:${prs}`, async () => {
      const recent = recentPulls((await this.histories(prs)).values(), prs);
      const pulls = await Promise.all(recent.map(async (p) => ({ ...p, results: await this.#pullResults(p.repo, p.pull) })));
      return prChecksView(pulls, await this.#ctx());
    });
  }

  pulls(limit: number): Promise<{ generatedAt: string; pulls: PullSummary[] }> {
    return this.#cached(`pulls:${limit}`, async () => {
      const recent = recentPulls((await this.histories(limit)).values(), limit);
      const ctx = await this.#ctx();
      const pulls = await Promise.all(recent.map(async (p) => pullSummary(p.repo, p.pull, await this.#pullResults(p.repo, p.pull), ctx)));
      return { generatedAt: ctx.now.toISOString(), pulls: pulls.filter((p): p is PullSummary => p !== undefined) };
    });
  }

  /** The repositories katabot has PR results for, most recently active first. */
  async #repos(): Promise<string[]> {
    const repos = new Set<string>();
    for (const history of (await this.histories(TIERS[0]!)).values()) {
      for (const r of history) if (r.org && r.repo && r.pull !== undefined) repos.add(`${r.org}/${r.repo}`);
    }
    return [...repos];
  }

  /**
   * One PR. Without `repo`, the PR number is looked up in the repositories katabot has PR results for; several
   * repositories with that PR number is an error naming them.
   */
  async pull(pull: number, repo: string | undefined, sha: string | undefined): Promise<PullView | { error: string; status: number }> {
    let found: { repo: string; results: RunRecord[] } | undefined;
    if (repo) {
      found = { repo, results: await this.#pullResults(repo, pull) };
    } else {
      const hits: Array<{ repo: string; results: RunRecord[] }> = [];
      for (const r of await this.#repos()) {
        const results = await this.#pullResults(r, pull);
        if (results.length) hits.push({ repo: r, results });
      }
      if (hits.length > 1) return { status: 409, error: `PR #${pull} exists in ${hits.map((h) => h.repo).join(', ')}: pass repo=org/repo` };
      found = hits[0];
    }
    const ctx = await this.#ctx();
    const results = found?.results ?? [];
    // The stored org/repo keeps GitHub's spelling; prefer it over what the URL said.
    const r0 = results[0];
    const repoName = r0?.org && r0.repo ? `${r0.org}/${r0.repo}` : (found?.repo ?? repo ?? '');
    const v = pullView(repoName, pull, results, sha, ctx);
    if (!v) return { status: 404, error: `katabot has no results for PR #${pull}${repo ? ` of ${repo}` : ''}` };
    const [meta, approved] = await Promise.all([
      this.#o.results.pullMeta(repoName, pull),
      this.#o.tdxApprovalKey ? this.#o.store.get(this.#o.tdxApprovalKey(repoName, pull)) : undefined,
    ]);
    const shown = new Set((this.#o.ciLabels?.() ?? []).map((l) => l.toLowerCase()));
    if (meta) {
      v.labels = meta.labels.filter((l) => shown.has(l.toLowerCase()));
      if (!v.author && meta.author) v.author = meta.author;
    }
    if (approved) v.tdxApprovedSha = approved;
    return v;
  }

  async jobRuns(job: string, limit: number, before: string | undefined): Promise<JobRunsView> {
    const opts: { limit: number; before?: string } = { limit };
    if (before) opts.before = before;
    return jobRunsView(job, await this.#o.results.jobHistory(job, opts), limit, await this.#ctx());
  }

  async run(prowjob: string): Promise<RunDetail | undefined> {
    const run = await this.#o.results.get(prowjob);
    if (!run) return undefined;
    let attempts: RunRecord[] = [run];
    if (run.org && run.repo && run.sha) {
      const records = await this.#o.results.attempts(`${run.org}/${run.repo}`, run.job, run.sha);
      const full = await Promise.all(records.map((a) => (a.name === run.name ? run : this.#o.results.get(a.name))));
      attempts = full.filter((r): r is RunRecord => r !== undefined);
      if (!attempts.some((a) => a.name === run.name)) attempts.push(run);
    }
    return runDetail(run, attempts, await this.#ctx());
  }

  async catalogue(): Promise<JobCatalogue> {
    return this.#cached('catalogue', async () => {
      const ctx = await this.#ctx();
      const jobs: JobCatalogue['jobs'] = [];
      for (const [job, history] of await this.histories(TIERS[0]!)) {
        const newest = history[0];
        if (!newest) continue;
        const row: JobCatalogue['jobs'][number] = {
          job,
          source: newest.source ?? 'prow',
          type: newest.type,
          requirement: ctx.classifier.requirement(newest),
          maintainers: ctx.classifier.maintainers(job, newest.context),
        };
        if (newest.context) row.context = newest.context;
        const typeable = typeableOf(newest);
        if (typeable) row.typeable = typeable;
        const t = newest.start ?? newest.end;
        if (t) row.lastRun = t;
        jobs.push(row);
      }
      const groups: JobCatalogue['groups'] = {};
      for (const j of jobs) for (const g of j.maintainers) groups[g] ??= ctx.classifier.group(g)!;
      return { generatedAt: ctx.now.toISOString(), jobs, groups };
    });
  }

  /**
   * The behavior report of a traced PR run: `key` is the ProwJob name, or the report id the behavior diff stores
   * it under (src/behavior/baseline.ts reportId, the id its PR comment links).
   */
  async behavior(key: string): Promise<BehaviorInfo & { html?: string }> {
    const generatedAt = this.#now().toISOString();
    if (key.includes('~')) {
      const html = await readBehaviorHtml(this.#o.store, key);
      const info: BehaviorInfo & { html?: string } = html
        ? { generatedAt, id: key, available: true, html, reportUrl: `/dashboard/behavior/${encodeURIComponent(key)}/report` }
        : { generatedAt, id: key, available: false, reason: 'No stored report has this id (reports are kept for 30 days).' };
      // org~repo~pull~job~buildId: find the run, for the page's header and its way back to the PR
      const [org, repo, pull] = key.split('~');
      if (org && repo && /^\d+$/.test(pull ?? '')) {
        const run = (await this.#pullResults(`${org}/${repo}`, Number(pull))).find(
          (r) => r.org && r.repo && r.pull !== undefined && r.buildId && reportId(r.org, r.repo, r.pull, r.job, r.buildId) === key,
        );
        if (run) info.run = runView(run);
      }
      return info;
    }
    const run = await this.#o.results.get(key);
    if (!run) return { generatedAt, available: false, reason: `katabot has no run named ${key}.` };
    const info: BehaviorInfo = { generatedAt, run: runView(run), available: false };
    if (!run.traced) return { ...info, reason: 'This run was not traced. Comment /trace <job> on the PR to run it with the tracer.' };
    if (run.pull === undefined || !run.org || !run.repo) {
      return { ...info, reason: 'A traced run without a PR is a baseline of its branch; behavior diffs are made for PR runs.' };
    }
    if (!run.buildId) return { ...info, reason: 'The run has not started yet.' };
    const id = reportId(run.org, run.repo, run.pull, run.job, run.buildId);
    info.id = id;
    const html = await readBehaviorHtml(this.#o.store, id);
    if (!html) {
      const finished = ['success', 'failure', 'aborted', 'error'].includes(run.state);
      return {
        ...info,
        reason: finished
          ? 'No report yet: the diff waits for a traced run of the base branch to compare with (or the report expired after 30 days).'
          : 'The run has not finished; its behavior diff is made when it does.',
      };
    }
    return { ...info, available: true, html, reportUrl: `/dashboard/behavior/${encodeURIComponent(key)}/report` };
  }

  /** The service graph embedded in a behavior report (src/render/service-graph.ts), laid out, for the dashboard. */
  async behaviorGraph(key: string): Promise<ServiceGraphView | undefined> {
    const { html } = await this.behavior(key);
    const graph = html ? graphFromReportHtml(html) : undefined;
    return graph ? { graph, layout: layoutServiceGraph(graph) } : undefined;
  }
}
