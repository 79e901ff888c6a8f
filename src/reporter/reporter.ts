// The reporter (crier's GitHub reporter, level-triggered): for each ProwJob it compares the job's current state
// with what was last reported (src/adapters/report-state.ts) and brings GitHub up to date, channel by channel:
//   check    the job's check run (created exactly once if Prow made the job; PATCHed on every state change)
//   status   a commit status as crier writes it (report.statuses: true)
//   comment  the PR's one failure comment (completed jobs only), serialised per PR
//   behavior traced jobs (any type) that finished: the behavior diff, once per ProwJob (src/reporter/behavior.ts)
// Results of every ProwJob (any type) are recorded first (src/adapters/results-store.ts).
//
// Work is keyed by ProwJob name: a job changing while it is being reported is reconciled again afterwards with its
// latest version; failures are retried with backoff. Only the leader runs this (src/reporter/leader.ts): every
// GitHub write is preceded by assertLeading() and every record is fenced.
//
// GitHub calls per state change (the Octokit retry and throttling plugins stay on): one check-run PATCH, plus one
// status when statuses are on, plus one comment create/edit when a completed job changes the failure table: ≤3.
// A traced PR job adds, once when it finishes, its behavior comment and behavior check run: ≤2.
import type { Logger } from 'pino';
import { httpStatus, type GitHub } from '../adapters/github.ts';
import { FencedOut, PR_COMMENT_TTL_SECONDS, type Fence, type PrCommentState, type ReportState, type Reported } from '../adapters/report-state.ts';
import type { ResultsStore } from '../adapters/results-store.ts';
import type { Store } from '../adapters/store.ts';
import type { ConfigSnapshot } from '../config/load.ts';
import { deckLinkForProwJob } from '../jobs/deck.ts';
import type { ProwJob, ProwJobState } from '../jobs/types.ts';
import { checkRunFor, checkRunUpdate } from '../report/check-run.ts';
import { FAILURE_COMMENT_MARKER, mergeRows, planFailureComment, rowFor } from '../report/failure-comment.ts';
import { repoPolicy } from '../config/repo-policy.ts';
import { isReportable, planChannels } from '../plan/report.ts';
import { summarizeAttempts } from '../report/results.ts';
import { commitStatusFor } from '../report/status.ts';
import type { Metrics } from '../adapters/metrics.ts';
import { isTracedAndFinal, type BehaviorReporter } from './behavior.ts';
import { NotLeader } from './leader.ts';

export interface ReporterDeps {
  config: () => ConfigSnapshot;
  store: Store;
  reports: ReportState;
  results: ResultsStore;
  /** An installation-authenticated GitHub for a repo. */
  github(owner: string, repo: string): Promise<GitHub>;
  botLogin(): Promise<string>;
  log: Logger;
  metrics: Metrics;
  leader: { assertLeading(): void; fence(): Fence | undefined };
  /** Jobs seen for the first time more than this long after they completed are recorded, not reported. */
  maxAgeMs: number;
  concurrency: number;
  /** The latest version of a job, when a source knows it. */
  latest?: (name: string) => ProwJob | undefined;
  /** The behavior channel for traced jobs (none: traced jobs get no behavior report). */
  behavior?: BehaviorReporter;
}

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 60_000;

export class Reporter {
  readonly #d: ReporterDeps;
  readonly #queue = new Map<string, ProwJob>();
  readonly #running = new Set<string>();
  readonly #again = new Map<string, ProwJob>();
  readonly #retries = new Map<string, { n: number; timer?: NodeJS.Timeout }>();
  readonly #idle: Array<() => void> = [];
  #active = 0;
  #halted = false;

  constructor(d: ReporterDeps) {
    this.#d = d;
  }

  /** Queue a job (its latest version wins). */
  enqueue(pj: ProwJob): void {
    if (this.#halted || !pj?.metadata?.name) return;
    const name = pj.metadata.name;
    if (this.#running.has(name)) this.#again.set(name, pj);
    else this.#queue.set(name, pj);
    this.#d.metrics.reporterBacklog.set(this.#queue.size);
    this.#pump();
  }

  /** Level-triggered catch-up: queue every known job. */
  resync(all: readonly ProwJob[]): void {
    for (const pj of all) this.enqueue(pj);
  }

  /** Number of jobs queued or being reported. */
  backlog(): number {
    return this.#queue.size + this.#running.size;
  }

  /** Resolves once nothing is queued or running (retries waiting on a timer do not count). */
  idle(): Promise<void> {
    if (this.backlog() === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Stops taking work (leadership lost, or shutting down); waits up to `waitMs` for jobs in flight, whose next
   * GitHub write fails the leader check anyway and whose records are fenced.
   */
  async halt(waitMs = 10_000): Promise<void> {
    this.#halted = true;
    this.#queue.clear();
    this.#again.clear();
    for (const r of this.#retries.values()) if (r.timer) clearTimeout(r.timer);
    this.#retries.clear();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  resume(): void {
    this.#halted = false;
  }

  #pump(): void {
    while (!this.#halted && this.#active < this.#d.concurrency) {
      // A name being reported waits in #again, never in #queue, so the oldest queued name is free to run.
      const next = this.#queue.keys().next().value;
      if (next === undefined) break;
      const pj = this.#queue.get(next)!;
      this.#queue.delete(next);
      this.#running.add(next);
      this.#active++;
      void this.#process(next, pj).finally(() => {
        this.#running.delete(next);
        this.#active--;
        const again = this.#again.get(next);
        if (again) {
          this.#again.delete(next);
          if (!this.#halted) this.#queue.set(next, again);
        }
        this.#d.metrics.reporterBacklog.set(this.#queue.size);
        this.#pump();
        if (this.backlog() === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
    }
  }

  async #process(name: string, queued: ProwJob): Promise<void> {
    const pj = this.#d.latest?.(name) ?? queued;
    try {
      await this.reconcile(pj);
      const r = this.#retries.get(name);
      if (r?.timer) clearTimeout(r.timer);
      this.#retries.delete(name);
    } catch (err) {
      if (err instanceof NotLeader || err instanceof FencedOut) {
        this.#d.log.info({ prowjob: name, err: err.message }, 'report abandoned: not the reporter');
        return;
      }
      const r = this.#retries.get(name) ?? { n: 0 };
      if (r.timer) clearTimeout(r.timer);
      const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** r.n);
      r.n++;
      this.#d.log.warn({ prowjob: name, err: (err as Error).message, status: httpStatus(err), retryInMs: delay }, 'report failed; will retry');
      this.#d.metrics.reports.inc({ channel: 'any', result: 'error' });
      if (this.#halted) return;
      r.timer = setTimeout(() => {
        r.timer = undefined;
        this.enqueue(this.#d.latest?.(name) ?? pj);
      }, delay).unref();
      this.#retries.set(name, r);
    }
  }

  /** Brings GitHub and the results store up to date for one ProwJob. */
  async reconcile(pj: ProwJob): Promise<void> {
    const { prow, katabot } = this.#d.config();
    const name = pj.metadata.name;
    const url = deckLinkForProwJob(pj, prow, katabot.deck_url);
    const result = await this.#d.results.record(pj, url);
    if (isReportable(pj)) await this.#reportChannels(pj, url, result.attempt);
    if (this.#d.behavior && isTracedAndFinal(pj)) {
      const fence = this.#d.leader.fence();
      if (!fence) throw new NotLeader();
      await this.#d.behavior.reconcile(pj, { fence, assert: () => this.#d.leader.assertLeading(), history: this.#finishedLongAgo(pj), detailsUrl: url });
    }
  }

  /** The check, status and comment channels of a reportable presubmit. */
  async #reportChannels(pj: ProwJob, url: string | undefined, attempt: number | undefined): Promise<void> {
    const refs = pj.spec.refs!;
    // report.statuses may be set per org or repository (KATABOT_CONFIG repos:).
    const { report } = repoPolicy(this.#d.config(), refs.org, refs.repo);
    const name = pj.metadata.name;
    const state: ProwJobState = pj.status?.state ?? 'triggered';
    const reported = await this.#d.reports.reported(name);
    const plan = planChannels({ state, reported, statuses: report.statuses, finishedLongAgo: this.#finishedLongAgo(pj) });
    if (plan.write.length === 0 && plan.history.length === 0) return;
    const fence = this.#d.leader.fence();
    if (!fence) throw new NotLeader();

    for (const channel of plan.history) {
      await this.#d.reports.markReported(name, channel, state, fence);
      this.#d.metrics.reports.inc({ channel, result: 'skipped' });
    }
    if (plan.write.length === 0) {
      this.#d.log.debug({ prowjob: name, state }, 'old job recorded without reporting');
      return;
    }

    const gh = await this.#d.github(refs.org, refs.repo);
    const assert = () => this.#d.leader.assertLeading();
    if (plan.write.includes('check')) await this.#reportCheck(gh, pj, state, reported, { detailsUrl: url, attempt }, fence, assert);
    if (plan.write.includes('status')) await this.#reportStatus(gh, pj, state, fence, assert);
    if (plan.write.includes('comment')) await this.#reportComment(gh, pj, state, url, fence, assert);
  }

  #finishedLongAgo(pj: ProwJob): boolean {
    const done = Date.parse(pj.status?.completionTime ?? '');
    return Number.isFinite(done) && Date.now() - done > this.#d.maxAgeMs;
  }

  async #reportCheck(
    gh: GitHub,
    pj: ProwJob,
    state: ProwJobState,
    reported: Reported,
    ctx: { detailsUrl?: string | undefined; attempt?: number | undefined },
    fence: Fence,
    assert: () => void,
  ): Promise<void> {
    const name = pj.metadata.name;
    const c = { ...(ctx.detailsUrl ? { detailsUrl: ctx.detailsUrl } : {}), ...(ctx.attempt !== undefined ? { attempt: ctx.attempt } : {}) };
    let id = reported.checkRunId;
    if (id === undefined) {
      const made = await this.#d.reports.ensureCheckRun(gh, pj, checkRunFor(pj, c), { state, findFirst: true, fence, beforeWrite: assert });
      if (made.created) {
        this.#d.metrics.reports.inc({ channel: 'check', result: 'created' });
        this.#d.log.info({ prowjob: name, state, checkRun: made.id }, 'check run created');
        return;
      }
      id = made.id;
      // The trigger path created it while this waited for the lock, and recorded what it shows.
      if ((await this.#d.reports.reported(name)).check === state) return;
    }
    assert();
    try {
      await gh.updateCheckRun(id, checkRunUpdate(pj, c));
      this.#d.metrics.reports.inc({ channel: 'check', result: 'updated' });
    } catch (err) {
      // Gone (the repository or installation went away): nothing left to update.
      if (httpStatus(err) !== 404) throw err;
      this.#d.log.warn({ prowjob: name, checkRun: id }, 'check run not found; not reported');
      this.#d.metrics.reports.inc({ channel: 'check', result: 'skipped' });
    }
    await this.#d.reports.markReported(name, 'check', state, fence);
    this.#d.log.info({ prowjob: name, state, checkRun: id }, 'check run updated');
  }

  async #reportStatus(gh: GitHub, pj: ProwJob, state: ProwJobState, fence: Fence, assert: () => void): Promise<void> {
    const { sha, ...status } = commitStatusFor(pj);
    assert();
    try {
      await gh.createStatus(sha, status);
      this.#d.metrics.reports.inc({ channel: 'status', result: 'created' });
    } catch (err) {
      // As crier: "No commit found for SHA" (force-pushed away) and the per-context status cap are not retried.
      const code = httpStatus(err);
      if (code !== 404 && code !== 422) throw err;
      this.#d.log.warn({ prowjob: pj.metadata.name, status: code, err: (err as Error).message }, 'commit status refused; not retried');
      this.#d.metrics.reports.inc({ channel: 'status', result: 'skipped' });
    }
    await this.#d.reports.markReported(pj.metadata.name, 'status', state, fence);
  }

  async #reportComment(gh: GitHub, pj: ProwJob, state: ProwJobState, url: string | undefined, fence: Fence, assert: () => void): Promise<void> {
    const refs = pj.spec.refs!;
    const pull = refs.pulls![0]!;
    const repo = `${refs.org}/${refs.repo}`;
    const context = pj.spec.context || pj.spec.job;
    await this.#d.store.withLock(`report-comment:${repo.toLowerCase()}#${pull.number}`, 60_000, async () => {
      const prev: PrCommentState = (await this.#d.reports.prComment(repo, pull.number)) ?? { rows: [], generation: 0 };
      let row;
      if (state === 'failure' || state === 'error') {
        const attempts = await this.#d.results.attempts(repo, pj.spec.job, pull.sha);
        row = rowFor(pj, url, summarizeAttempts(attempts));
      }
      const merged = mergeRows(prev, { context, state, ...(pj.status?.startTime ? { start: pj.status.startTime } : {}), ...(row ? { row } : {}) });
      const plan = planFailureComment(pull.author, { rows: prev.rows, written: prev.commentId !== undefined, ...(prev.allGreen !== undefined ? { allGreen: prev.allGreen } : {}) }, merged.rows);
      const next: PrCommentState = { ...prev, rows: merged.rows, seen: merged.seen ?? {} };
      if (plan.action !== 'none') {
        assert();
        const written = await this.#writeComment(gh, repo, pull.number, prev, plan.body, assert);
        next.commentId = written.id;
        next.generation = written.generation;
        next.allGreen = plan.action === 'all-green';
        this.#d.metrics.reports.inc({ channel: 'comment', result: prev.commentId === undefined ? 'created' : 'updated' });
        this.#d.log.info({ prowjob: pj.metadata.name, pr: pull.number, rows: next.rows.length, action: plan.action }, 'failure comment written');
      }
      await this.#d.reports.savePrComment(repo, pull.number, next, fence);
    });
    await this.#d.reports.markReported(pj.metadata.name, 'comment', state, fence);
  }

  /** Edits the PR's comment, or creates it exactly once per generation (a deleted comment starts a new one). */
  async #writeComment(gh: GitHub, repo: string, pull: number, prev: PrCommentState, body: string, assert: () => void): Promise<{ id: number; generation: number }> {
    let generation = prev.generation;
    if (prev.commentId !== undefined) {
      try {
        await gh.editComment(prev.commentId, body);
        return { id: prev.commentId, generation };
      } catch (err) {
        if (httpStatus(err) !== 404) throw err;
        generation++;
      }
    }
    const store = this.#d.store;
    const intent = `intent:failure-comment:${repo.toLowerCase()}#${pull}:${generation}`;
    if (!(await store.setIfAbsent(intent, '1', PR_COMMENT_TTL_SECONDS))) {
      // An earlier attempt may have posted it and died before recording it: find it by its marker.
      const found = await gh.findComment(pull, FAILURE_COMMENT_MARKER, await this.#d.botLogin());
      if (found) {
        assert();
        await gh.editComment(found.id, body);
        return { id: found.id, generation };
      }
    }
    assert();
    const created = await gh.comment(pull, body);
    return { id: created.id, generation };
  }
}
