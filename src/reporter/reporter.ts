// The reporter (crier's GitHub reporter, level-triggered): for each ProwJob it compares the job's current state
// with what was last reported (src/adapters/report-state.ts) and brings GitHub up to date, channel by channel:
//   check    the job's check run (created exactly once if Prow made the job; PATCHed on every state change); once
//            the job failed, its summary lists the failing tests of its JUnit files and the run carries
//            annotations where a file and line are known, in batches of 50 (one PATCH each, recorded per batch)
//   status   a commit status as crier writes it (report.statuses: true)
//   comment  the PR's one failure comment (completed jobs only), serialised per PR
//   behavior traced jobs (any type) that finished: the behavior diff, once per ProwJob (src/reporter/behavior.ts)
// Results of every ProwJob (any type) are recorded first (src/adapters/results-store.ts).
//
// Two keyed queues (src/reporter/keyed-queue.ts). ProwJobs to reconcile, by name: a job changing while it is
// reconciled is reconciled again afterwards with its latest version. GitHub writes to make, by target (a check
// run, a status, a PR's comment): reconciling only asks for the writes a job needs; each write reads the job's
// latest state when its turn comes, so a burst of changes costs one write per target, none for a state already
// superseded, and writes go out most urgent first (src/plan/report.ts writeRank: the failure comment, then the
// oldest change waiting), three at a time, one of them at most a comment (a new comment waits for GitHub's
// notification pacing; two lanes keep the write pacing busy meanwhile, whatever a write's own round trips cost). With `coalesce: false` every write is made while reconciling, in order: the reporter as
// it was before, kept as the baseline of `npm run bench:reporter`.
// Failures are retried with backoff. Only the leader runs this (src/reporter/leader.ts): every GitHub write is
// preceded by assertLeading() and every record is fenced; a write that finds the lease gone is dropped.
//
// GitHub calls per state change (the Octokit retry and throttling plugins stay on): one check-run PATCH, plus one
// status when statuses are on, plus one comment create/edit when a completed job changes the failure table: ≤3.
// Coalesced, a burst of changes of one job costs at most that once. A failed job's JUnit annotations add one
// PATCH per batch of 50 after the first (which rides on the final PATCH), at most 3. A traced PR job adds, once
// when it finishes, its behavior comment and behavior check run: ≤2.
import type { Logger } from 'pino';
import { httpStatus, type GitHub } from '../adapters/github.ts';
import { FencedOut, PR_COMMENT_TTL_SECONDS, type Fence, type PrCommentState, type ReportState, type Reported } from '../adapters/report-state.ts';
import type { ResultsStore } from '../adapters/results-store.ts';
import type { Store } from '../adapters/store.ts';
import { jobArtifacts, openArtifactStore, type ArtifactStore } from '../artifacts/index.ts';
import { readJobJunit } from '../artifacts/junit.ts';
import type { ConfigSnapshot } from '../config/load.ts';
import { deckLinkForProwJob } from '../jobs/deck.ts';
import type { ProwJob, ProwJobState } from '../jobs/types.ts';
import { annotationBatches, checkRunFor, checkRunUpdate, type CheckRunUpdate } from '../render/check-run.ts';
import { FAILURE_COMMENT_MARKER, mergeRows, planFailureComment, rowFor, type RowsState } from '../render/failure-comment.ts';
import { testReportFor, type CheckAnnotation, type TestReport } from '../render/test-report.ts';
import { isReportable, planChannels, writeRank, type Channel } from '../plan/report.ts';
import { repoPolicy } from '../config/repo-policy.ts';
import { summarizeAttempts } from '../render/results.ts';
import { commitStatusFor } from '../render/status.ts';
import type { Metrics } from '../adapters/metrics.ts';
import { isTracedAndFinal, type BehaviorReporter } from './behavior.ts';
import { KeyedQueue } from './keyed-queue.ts';
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
  /** ProwJobs reconciled in parallel. */
  concurrency: number;
  /** Pending GitHub writes, each computed from the job's latest state when it runs (default true). */
  coalesce?: boolean;
  /** GitHub writes under way at once when coalescing (default 3; GitHub's pacing spaces them anyway). */
  writeConcurrency?: number;
  /** The latest version of a job, when a source knows it. */
  latest?: (name: string) => ProwJob | undefined;
  /** The behavior channel for traced jobs (none: traced jobs get no behavior report). */
  behavior?: BehaviorReporter;
  /** Opens a job's artifact bucket, for its JUnit files (default: openArtifactStore with default credentials). */
  artifacts?: (storageUrl: string) => ArtifactStore;
}

/** What reporting one job needs besides the job: its Deck link and its attempt number on the commit. */
interface JobContext {
  pj: ProwJob;
  attempt: number | undefined;
}

/** One finished job merged into its PR's failure comment. */
interface CommentUpdate {
  pj: ProwJob;
  state: ProwJobState;
  url: string | undefined;
}

type Assert = () => void;

const UNREADABLE_BUCKET_MS = 10 * 60 * 1000;

export class Reporter {
  readonly #d: ReporterDeps;
  readonly #coalesce: boolean;
  /** ProwJobs to reconcile, by name (the latest version queued wins). */
  readonly #jobs: KeyedQueue;
  /** GitHub writes to make, by target. */
  readonly #writes: KeyedQueue;
  /** Per PR (`<org/repo>#<n>`), the finished jobs its pending comment write is to merge. */
  readonly #commentJobs = new Map<string, Map<string, JobContext>>();
  readonly #stores = new Map<string, ArtifactStore>();
  /** Buckets that could not be read, and until when they are not tried again (missing credentials cost seconds). */
  readonly #unreadable = new Map<string, number>();

  constructor(d: ReporterDeps) {
    this.#d = d;
    this.#coalesce = d.coalesce ?? true;
    const onError = (what: string) => (key: string, err: unknown, retryInMs: number): 'drop' | 'retry' => {
      if (err instanceof NotLeader || err instanceof FencedOut) {
        d.log.info({ [what]: key, err: err.message }, 'report abandoned: not the reporter');
        return 'drop';
      }
      d.log.warn({ [what]: key, err: (err as Error).message, status: httpStatus(err), retryInMs }, 'report failed; will retry');
      d.metrics.reports.inc({ channel: 'any', result: 'error' });
      return 'retry';
    };
    this.#jobs = new KeyedQueue({ concurrency: d.concurrency, onError: onError('prowjob'), onSize: () => this.#backlogChanged() });
    // One comment write at a time: a new comment waits for GitHub's notification pacing (3 spacings), and the
    // other lane keeps check runs moving meanwhile.
    this.#writes = new KeyedQueue({
      concurrency: d.writeConcurrency ?? 3,
      limits: [{ prefix: 'comment:', running: 1 }],
      onError: onError('write'),
      onSize: () => this.#backlogChanged(),
    });
  }

  /** Queue a job (its latest version wins). */
  enqueue(pj: ProwJob): void {
    if (!pj?.metadata?.name) return;
    const name = pj.metadata.name;
    // The run asked for last wins, so `pj` is the newest version queued; a source may know a newer one still.
    this.#jobs.want(name, 0, async () => {
      await this.reconcile(this.#d.latest?.(name) ?? pj);
      return undefined;
    });
  }

  /** Level-triggered catch-up: queue every known job. */
  resync(all: readonly ProwJob[]): void {
    for (const pj of all) this.enqueue(pj);
  }

  /** Number of jobs queued or being reconciled, plus GitHub writes pending. */
  backlog(): number {
    return this.#jobs.size() + this.#writes.size();
  }

  /** Resolves once nothing is queued, running or waiting to be written (retries waiting on a timer do not count). */
  async idle(): Promise<void> {
    while (this.backlog() > 0) {
      await this.#jobs.idle();
      await this.#writes.idle();
    }
  }

  /**
   * Stops taking work (leadership lost, or shutting down); waits up to `waitMs` for work in flight, whose next
   * GitHub write fails the leader check anyway and whose records are fenced.
   */
  async halt(waitMs = 10_000): Promise<void> {
    const jobs = this.#jobs.halt(waitMs);
    const writes = this.#writes.halt(waitMs);
    this.#commentJobs.clear();
    await Promise.all([jobs, writes]);
  }

  resume(): void {
    this.#jobs.resume();
    this.#writes.resume();
  }

  #backlogChanged(): void {
    this.#d.metrics.reporterBacklog.set(this.#jobs.size());
    this.#d.metrics.reporterWrites.set(this.#writes.size());
  }

  /** Brings GitHub and the results store up to date for one ProwJob (coalescing: asks for the writes it needs). */
  async reconcile(pj: ProwJob): Promise<void> {
    const { prow, katabot } = this.#d.config();
    const url = deckLinkForProwJob(pj, prow, katabot.deck_url);
    const result = await this.#d.results.record(pj, url);
    if (isReportable(pj)) await this.#reportChannels({ pj, attempt: result.attempt });
    if (this.#d.behavior && isTracedAndFinal(pj)) {
      const fence = this.#fence();
      await this.#d.behavior.reconcile(pj, { fence, assert: () => this.#d.leader.assertLeading(), history: this.#finishedLongAgo(pj), detailsUrl: url });
    }
  }

  #fence(): Fence {
    const fence = this.#d.leader.fence();
    if (!fence) throw new NotLeader();
    return fence;
  }

  #url(pj: ProwJob): string | undefined {
    const { prow, katabot } = this.#d.config();
    return deckLinkForProwJob(pj, prow, katabot.deck_url);
  }

  /** What a job's channels need now: the writes, after recording the channels that are history. */
  async #plan(pj: ProwJob): Promise<{ state: ProwJobState; reported: Reported; write: Channel[] }> {
    const name = pj.metadata.name;
    const state: ProwJobState = pj.status?.state ?? 'triggered';
    const reported = await this.#d.reports.reported(name);
    const refs = pj.spec.refs!;
    // report.statuses may be set per org or repository (KATABOT_CONFIG repos:).
    const { report } = repoPolicy(this.#d.config(), refs.org, refs.repo);
    const plan = planChannels({ state, reported, statuses: report.statuses, finishedLongAgo: this.#finishedLongAgo(pj) });
    if (plan.history.length > 0) {
      const fence = this.#fence();
      for (const channel of plan.history) {
        await this.#d.reports.markReported(name, channel, state, fence);
        this.#d.metrics.reports.inc({ channel, result: 'skipped' });
      }
      if (plan.write.length === 0) this.#d.log.debug({ prowjob: name, state }, 'old job recorded without reporting');
    }
    return { state, reported, write: plan.write };
  }

  /** The check, status and comment channels of a reportable presubmit. */
  async #reportChannels(job: JobContext): Promise<void> {
    const { pj } = job;
    const { state, reported, write } = await this.#plan(pj);
    if (write.length === 0) return;
    if (this.#coalesce) {
      for (const channel of write) this.#want(channel, job, state, reported);
      return;
    }
    const fence = this.#fence();
    const refs = pj.spec.refs!;
    const gh = await this.#d.github(refs.org, refs.repo);
    const assert = () => this.#d.leader.assertLeading();
    if (write.includes('check')) {
      let current = reported;
      while (await this.#reportCheck(gh, job, state, current, fence, assert)) current = await this.#d.reports.reported(pj.metadata.name);
    }
    if (write.includes('status')) await this.#reportStatus(gh, pj, state, fence, assert);
    if (write.includes('comment')) await this.#reportComment(gh, [{ pj, state, url: this.#url(pj) }], fence, assert);
  }

  /** Asks for one channel's write; it runs when its turn comes, with the job's state then. */
  #want(channel: Channel, job: JobContext, state: ProwJobState, reported: Reported): void {
    const name = job.pj.metadata.name;
    const rank = writeRank(channel, state, reported);
    if (channel === 'comment') {
      const refs = job.pj.spec.refs!;
      const pr = `${refs.org}/${refs.repo}#${refs.pulls![0]!.number}`.toLowerCase();
      const jobs = this.#commentJobs.get(pr) ?? new Map<string, JobContext>();
      jobs.set(name, job);
      this.#commentJobs.set(pr, jobs);
      this.#writes.want(`comment:${pr}`, rank, () => this.#runComment(pr));
      return;
    }
    // The run asked for last wins: it carries the newest job reconciled.
    this.#writes.want(`${channel}:${name}`, rank, () => this.#runJobChannel(channel, job));
  }

  /** The latest version of a job whose write is pending, with what was learnt when it was reconciled. */
  #current(job: JobContext): JobContext {
    return { pj: this.#d.latest?.(job.pj.metadata.name) ?? job.pj, attempt: job.attempt };
  }

  /** A pending check or status write: re-planned from the job's latest state, then made (or found unneeded). */
  async #runJobChannel(channel: 'check' | 'status', reconciled: JobContext): Promise<number | undefined> {
    const job = this.#current(reconciled);
    const name = job.pj.metadata.name;
    if (!isReportable(job.pj)) return undefined;
    const { state, reported, write } = await this.#plan(job.pj);
    let again: number | undefined;
    if (write.includes(channel)) {
      const fence = this.#fence();
      const refs = job.pj.spec.refs!;
      const gh = await this.#d.github(refs.org, refs.repo);
      const assert = () => this.#d.leader.assertLeading();
      if (channel === 'status') await this.#reportStatus(gh, job.pj, state, fence, assert);
      else if (await this.#reportCheck(gh, job, state, reported, fence, assert)) again = writeRank('check', state, await this.#d.reports.reported(name));
    }
    return again;
  }

  /** A PR's pending comment write: every finished job that asked for it, merged into one edit. */
  async #runComment(pr: string): Promise<undefined> {
    const jobs = this.#commentJobs.get(pr);
    this.#commentJobs.delete(pr);
    if (!jobs) return undefined;
    const updates: CommentUpdate[] = [];
    for (const reconciled of jobs.values()) {
      const job = this.#current(reconciled);
      if (!isReportable(job.pj)) continue;
      const { state, write } = await this.#plan(job.pj);
      if (write.includes('comment')) updates.push({ pj: job.pj, state, url: this.#url(job.pj) });
    }
    try {
      if (updates.length > 0) {
        const refs = updates[0]!.pj.spec.refs!;
        await this.#reportComment(await this.#d.github(refs.org, refs.repo), updates, this.#fence(), () => this.#d.leader.assertLeading());
      }
    } catch (err) {
      // Retried as a whole: the jobs stay with the PR's comment (a newer version asked for meanwhile wins).
      const again = this.#commentJobs.get(pr) ?? new Map<string, JobContext>();
      for (const [name, job] of jobs) if (!again.has(name)) again.set(name, job);
      this.#commentJobs.set(pr, again);
      throw err;
    }
    return undefined;
  }

  #finishedLongAgo(pj: ProwJob): boolean {
    const done = Date.parse(pj.status?.completionTime ?? '');
    return Number.isFinite(done) && Date.now() - done > this.#d.maxAgeMs;
  }

  /** A failed job's failing tests, read once from its JUnit files and kept; none without artifacts. */
  async #tests(pj: ProwJob): Promise<TestReport | undefined> {
    const name = pj.metadata.name;
    const kept = await this.#d.reports.testReport(name);
    if (kept !== undefined) return kept ?? undefined;
    const at = jobArtifacts(pj);
    let report: TestReport | null = null;
    if (at && (this.#unreadable.get(at.storage) ?? 0) < Date.now()) {
      try {
        let store = this.#stores.get(at.storage);
        if (!store) {
          store = (this.#d.artifacts ?? ((url: string) => openArtifactStore(url)))(at.storage);
          this.#stores.set(at.storage, store);
        }
        const junit = await readJobJunit(store, at);
        if (junit.files > 0 || junit.skipped.length > 0) report = testReportFor(junit.result, { org: at.ref.org ?? '', repo: at.ref.repo ?? '' }, junit.files, junit.skipped);
        if (junit.skipped.length > 0) this.#d.log.warn({ prowjob: name, skipped: junit.skipped }, 'JUnit files skipped');
      } catch (err) {
        // The job's result is what people wait for: report it without its tests rather than late, and leave the
        // bucket alone for a while (no credentials: every attempt would wait for the cloud's metadata service).
        this.#unreadable.set(at.storage, Date.now() + UNREADABLE_BUCKET_MS);
        this.#d.log.warn({ prowjob: name, storage: at.storage, err: (err as Error).message, retryAfterMs: UNREADABLE_BUCKET_MS }, 'JUnit files unreadable; reporting without them');
      }
    }
    return (await this.#d.reports.saveTestReport(name, report)) ?? undefined;
  }

  /**
   * One write of a job's check run: its state (carrying the next batch of annotations, once final), or, when the
   * run shows its state already, the next batch alone. Returns true while batches remain.
   */
  async #reportCheck(gh: GitHub, job: JobContext, state: ProwJobState, reported: Reported, fence: Fence, assert: Assert): Promise<boolean> {
    const { pj } = job;
    const name = pj.metadata.name;
    const detailsUrl = this.#url(pj);
    // Only a failed job has failing tests to show; passing ones cost no bucket reads.
    const tests = state === 'failure' ? await this.#tests(pj) : undefined;
    const c = { ...(detailsUrl ? { detailsUrl } : {}), ...(job.attempt !== undefined ? { attempt: job.attempt } : {}), ...(tests ? { tests } : {}) };
    const batches = tests ? annotationBatches(tests.annotations) : [];
    let written = reported.annotations?.written ?? 0;
    // Recorded before the final state shows, so a restart knows batches remain once the state is recorded.
    if (batches.length > 0 && reported.annotations === undefined) await this.#d.reports.markAnnotations(name, 0, batches.length, fence);

    let id = reported.checkRunId;
    if (id === undefined) {
      const made = await this.#d.reports.ensureCheckRun(gh, pj, checkRunFor(pj, c), { state, findFirst: true, fence, beforeWrite: assert });
      if (made.created) {
        this.#d.metrics.reports.inc({ channel: 'check', result: 'created' });
        this.#d.log.info({ prowjob: name, state, checkRun: made.id }, 'check run created');
        return written < batches.length;
      }
      id = made.id;
      // The trigger path created it while this waited for the lock, and recorded what it shows.
      reported = await this.#d.reports.reported(name);
    }
    const showState = reported.check !== state;
    let batch: CheckAnnotation[] | undefined;
    if (written < batches.length) {
      written = await this.#nextBatch(gh, id, name, written, batches, fence);
      batch = batches[written];
    }
    if (!showState && !batch) return false;
    const full = checkRunUpdate(pj, c);
    // A batch alone still needs the output's title and summary (the Checks API requires them with annotations).
    const update: Partial<CheckRunUpdate> = showState ? full : { output: full.output! };
    if (batch) update.output = { ...update.output!, annotations: batch };
    assert();
    try {
      await gh.updateCheckRun(id, update);
      this.#d.metrics.reports.inc({ channel: 'check', result: 'updated' });
      if (batch) await this.#d.reports.markAnnotations(name, ++written, batches.length, fence);
    } catch (err) {
      // Gone (the repository or installation went away): nothing left to update, now or later.
      if (httpStatus(err) !== 404) throw err;
      this.#d.log.warn({ prowjob: name, checkRun: id }, 'check run not found; not reported');
      this.#d.metrics.reports.inc({ channel: 'check', result: 'skipped' });
      written = batches.length;
      if (batches.length > 0) await this.#d.reports.markAnnotations(name, written, batches.length, fence);
    }
    if (showState) await this.#d.reports.markReported(name, 'check', state, fence);
    this.#d.log.info({ prowjob: name, state, checkRun: id, annotations: batch?.length ?? 0 }, 'check run updated');
    return written < batches.length;
  }

  /**
   * The first batch of annotations not on the check run yet, from `written` (recorded) on. GitHub appends the
   * annotations of every request, so a batch that an earlier attempt may have sent without recording it (its
   * claim exists) is looked for first: the run's annotation count says how many whole batches arrived.
   */
  async #nextBatch(gh: GitHub, id: number, name: string, written: number, batches: CheckAnnotation[][], fence: Fence): Promise<number> {
    if (await this.#d.reports.claimAnnotationBatch(name, written)) return written;
    const have = await gh.checkRunAnnotationCount(id);
    let arrived = 0;
    let next = 0;
    while (next < batches.length && arrived + batches[next]!.length <= have) arrived += batches[next++]!.length;
    if (next > written) {
      await this.#d.reports.markAnnotations(name, next, batches.length, fence);
      this.#d.log.info({ prowjob: name, checkRun: id, batches: next - written }, 'annotations found on the check run; not sent again');
    }
    if (next < batches.length) await this.#d.reports.claimAnnotationBatch(name, next);
    return Math.max(next, written);
  }

  async #reportStatus(gh: GitHub, pj: ProwJob, state: ProwJobState, fence: Fence, assert: Assert): Promise<void> {
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

  /** Merges finished jobs of one PR into its failure comment: one write for all of them, then each recorded. */
  async #reportComment(gh: GitHub, jobs: CommentUpdate[], fence: Fence, assert: Assert): Promise<void> {
    const refs = jobs[0]!.pj.spec.refs!;
    const pull = refs.pulls![0]!;
    const repo = `${refs.org}/${refs.repo}`;
    // Oldest first: the newest result per context wins (mergeRows).
    const ordered = [...jobs].sort((a, b) => (a.pj.status?.startTime ?? '').localeCompare(b.pj.status?.startTime ?? ''));
    await this.#d.store.withLock(`report-comment:${repo.toLowerCase()}#${pull.number}`, 60_000, async () => {
      const prev: PrCommentState = (await this.#d.reports.prComment(repo, pull.number)) ?? { rows: [], generation: 0 };
      let merged: RowsState = { rows: prev.rows, seen: prev.seen ?? {} };
      for (const { pj, state, url } of ordered) {
        let row;
        if (state === 'failure' || state === 'error') {
          const attempts = await this.#d.results.attempts(repo, pj.spec.job, pull.sha);
          row = rowFor(pj, url, summarizeAttempts(attempts));
        }
        const context = pj.spec.context || pj.spec.job;
        merged = mergeRows(merged, { context, state, ...(pj.status?.startTime ? { start: pj.status.startTime } : {}), ...(row ? { row } : {}) });
      }
      const plan = planFailureComment(pull.author, { rows: prev.rows, written: prev.commentId !== undefined, ...(prev.allGreen !== undefined ? { allGreen: prev.allGreen } : {}) }, merged.rows);
      const next: PrCommentState = { ...prev, rows: merged.rows, seen: merged.seen ?? {} };
      if (plan.action !== 'none') {
        assert();
        const written = await this.#writeComment(gh, repo, pull.number, prev, plan.body, assert);
        next.commentId = written.id;
        next.generation = written.generation;
        next.allGreen = plan.action === 'all-green';
        this.#d.metrics.reports.inc({ channel: 'comment', result: prev.commentId === undefined ? 'created' : 'updated' });
        this.#d.log.info({ prowjobs: jobs.map((j) => j.pj.metadata.name), pr: pull.number, rows: next.rows.length, action: plan.action }, 'failure comment written');
      }
      await this.#d.reports.savePrComment(repo, pull.number, next, fence);
    });
    for (const { pj, state } of jobs) await this.#d.reports.markReported(pj.metadata.name, 'comment', state, fence);
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
