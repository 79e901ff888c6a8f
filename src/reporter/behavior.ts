// The reporter's behavior channel: when a ProwJob labelled katabot.dev/trace=true reaches a final state, the
// behavior diff (src/behavior/traced-run.ts onTracedJobFinished) runs exactly once for it, and its outcome is posted:
//   report       the PR's behavior comment (one per PR and job, edited in place) and the check run
//                `katabot / behavior (<job>)` on the PR head, created exactly once per traced ProwJob
//   baseline     the run became a baseline of its branch; every PR job that waited for it gets its report as above
//   no-baseline  the job is started at the PR's base SHA as a traced postsubmit-type run, once per (repo, job, SHA):
//                when it succeeds it becomes the baseline and the waiting PR job is reported
//   skipped      logged at debug
// Records (src/adapters/report-state.ts): `reported:<prowjob>:behavior` once handled, so restarts and resyncs
// neither skip nor repeat it; the outcome is kept in `behavior-outbox:<prowjob>` until posted, so a retry after a
// failed or crashed post posts the same reports (onTracedJobFinished hands PR jobs waiting for a base run over
// only once). Every GitHub write and the ProwJob creation are preceded by the leader check; records are fenced.
//
// GitHub calls per traced PR job: one comment create or edit, one check-run create (2). A GET happens only when an
// earlier attempt may have written without recording (intent found), to find that write by its marker or external_id.
import type { ProwJobClient } from '../adapters/kube.ts';
import { REPORT_TTL_SECONDS, type Fence } from '../adapters/report-state.ts';
import { ArtifactNotFoundError } from '../artifacts/index.ts';
import { BehaviorInputError } from '../behavior/read.ts';
import { onTracedJobFinished, type BehaviorDeps, type BehaviorOutcome, type BehaviorReport } from '../behavior/traced-run.ts';
import type { ConfigSnapshot } from '../config/load.ts';
import { prowJobName } from '../jobs/names.ts';
import { buildPostsubmitProwJob } from '../jobs/prowjob.ts';
import { presubmitsFor } from '../jobs/select.ts';
import { injectTracer } from '../jobs/trace.ts';
import { LABELS, type ProwJob } from '../jobs/types.ts';
import { type Postsubmit } from '../config/prow-types.ts';
import { isFinalState } from '../jobs/state.ts';
import { BehaviorPoster, type OutboxReport, type PostContext, type PostDeps } from './behavior-post.ts';

type Outbox =
  | { kind: 'report'; reports: OutboxReport[] }
  | { kind: 'baseline'; reports: OutboxReport[] }
  | Extract<BehaviorOutcome, { kind: 'no-baseline' }>;

export interface BehaviorReporterDeps extends Omit<PostDeps, 'reportUrl'> {
  config: () => ConfigSnapshot;
  /** Creates the base-SHA run when a PR's traced job has no baseline (none: the PR job waits for one). */
  prowjobs?: Pick<ProwJobClient, 'create' | 'namespace'>;
  /** Options of the behavior diff (artifact stores, OpenAPI index, report links, ignores). */
  behavior?: Omit<BehaviorDeps, 'store'>;
}

export interface BehaviorContext extends PostContext {
  fence: Fence;
  /** The job finished long before katabot first saw it: record it as handled, post nothing. */
  history: boolean;
  /** Deck link of the job, the check run's details_url when no report URL is configured. */
  detailsUrl?: string | undefined;
}

/** A traced ProwJob in a final state: what the behavior channel handles. */
export function isTracedAndFinal(pj: ProwJob): boolean {
  return pj.metadata?.labels?.[LABELS.trace] === 'true' && isFinalState(pj.status?.state ?? 'triggered');
}

/** The deterministic name of the traced base run of (repo, job, base SHA): one per commit, whichever PR asks. */
export function baseRunName(org: string, repo: string, job: string, baseSha: string): string {
  return prowJobName(['behavior-baseline', `${org}/${repo}`.toLowerCase(), job, baseSha]);
}

const doneKey = (name: string) => `reported:${name}:behavior`;
const outboxKey = (name: string) => `behavior-outbox:${name}`;

export class BehaviorReporter {
  readonly #d: BehaviorReporterDeps;

  readonly #poster: BehaviorPoster;

  constructor(d: BehaviorReporterDeps) {
    this.#d = d;
    this.#poster = new BehaviorPoster({ ...d, ...(d.behavior?.reportUrl ? { reportUrl: d.behavior.reportUrl } : {}) });
  }

  /** Handles one traced ProwJob in a final state, once. */
  async reconcile(pj: ProwJob, ctx: BehaviorContext): Promise<void> {
    const name = pj.metadata.name;
    const { store, reports, log, metrics } = this.#d;
    if ((await store.get(doneKey(name))) !== undefined) return;
    const done = async (how: string) => reports.put(doneKey(name), how, REPORT_TTL_SECONDS, ctx.fence, `behavior of ${name}`);

    if (ctx.history) {
      await done('history');
      metrics.reports.inc({ channel: 'behavior', result: 'skipped' });
      log.debug({ prowjob: name }, 'old traced job recorded without a behavior report');
      return;
    }
    // A PR job that must not report (skip_report) gets no comment and no check run. Baselines (no PR) always count.
    if (pj.spec.refs?.pulls?.length && pj.spec.report === false) {
      await done('skip_report');
      log.debug({ prowjob: name }, 'behavior: skip_report job, not reported');
      return;
    }

    let outbox = parseOutbox(await store.get(outboxKey(name)));
    if (!outbox) {
      let outcome: BehaviorOutcome;
      try {
        outcome = await onTracedJobFinished({ ...this.#d.behavior, store }, pj);
      } catch (err) {
        // A malformed trace or audit log stays malformed: say so once instead of retrying forever.
        if (!(err instanceof BehaviorInputError) && !(err instanceof ArtifactNotFoundError)) throw err;
        log.warn({ prowjob: name, err: (err as Error).message }, 'behavior diff impossible: bad or missing artifact');
        metrics.reports.inc({ channel: 'behavior', result: 'skipped' });
        await done('invalid');
        return;
      }
      if (outcome.kind === 'skipped') {
        log.debug({ prowjob: name, reason: outcome.reason }, 'behavior: skipped');
        await done('skipped');
        return;
      }
      const fresh = toOutbox(outcome);
      // Not fenced: the outcome is data, not a report, and a replica that lost the lease mid-way must still hand
      // over the PR jobs onTracedJobFinished released only to it. The first outcome recorded wins.
      if (!(await store.setIfAbsent(outboxKey(name), JSON.stringify(fresh), REPORT_TTL_SECONDS))) {
        outbox = parseOutbox(await store.get(outboxKey(name))) ?? fresh;
      } else {
        outbox = fresh;
      }
    }

    if (outbox.kind === 'no-baseline') {
      await this.#startBaseRun(pj, outbox, ctx);
    } else {
      for (const report of outbox.reports) await this.#post(report, ctx, report.run === name ? ctx.detailsUrl : undefined);
      if (outbox.kind === 'baseline') log.info({ prowjob: name, reports: outbox.reports.length }, 'behavior: new baseline');
    }
    await done(outbox.kind);
    await store.del(outboxKey(name));
  }

  /** The comment (edited in place) and the check run (created once) of one report. */
  async #post(r: OutboxReport, ctx: BehaviorContext, deckUrl: string | undefined): Promise<void> {
    await this.#poster.post(r, ctx, deckUrl);
  }

  /**
   * Starts the job at the PR's base SHA as a traced run without a PR (a postsubmit-type ProwJob: refs.base_sha, no
   * pulls, artifacts under logs/<job>/<build>, report: false so nothing is posted on the base commit). When it
   * succeeds onTracedJobFinished records it as a baseline and reports the PR jobs waiting for it.
   */
  async #startBaseRun(pj: ProwJob, o: Extract<Outbox, { kind: 'no-baseline' }>, ctx: BehaviorContext): Promise<void> {
    const { log, metrics } = this.#d;
    const name = pj.metadata.name;
    if (!o.baseSha) {
      log.warn({ prowjob: name }, 'behavior: no baseline and no base SHA to run the job at');
      return;
    }
    if (!this.#d.prowjobs) {
      log.warn({ prowjob: name }, 'behavior: no baseline; this reporter cannot create ProwJobs, the PR job waits for one');
      return;
    }
    const { prow, jobs, katabot } = this.#d.config();
    const presubmit = presubmitsFor(jobs, o.org, o.repo).find((p) => p.name === o.job);
    if (!presubmit) {
      log.warn({ prowjob: name, job: o.job }, 'behavior: no baseline, and the job is no longer configured; not started');
      return;
    }
    // The presubmit's job base (pod spec, decoration, cluster, labels) as a postsubmit; it never reports.
    const { always_run: _a, run_if_changed: _r, skip_if_only_changed: _s, optional: _o, trigger: _t, rerun_command: _c, ...base } = presubmit;
    const postsubmit: Postsubmit = { ...base, skip_report: true };
    const baseName = baseRunName(o.org, o.repo, o.job, o.baseSha);
    const refs = pj.spec.refs;
    const eventGuid = pj.metadata.labels?.[LABELS.eventGuid];
    let run: ProwJob;
    try {
      run = injectTracer(buildPostsubmitProwJob({
        postsubmit,
        prow,
        name: baseName,
        namespace: this.#d.prowjobs.namespace,
        org: o.org,
        repo: o.repo,
        baseRef: o.baseRef,
        baseSha: o.baseSha,
        repoLink: refs?.repo_link ?? `https://github.com/${o.org}/${o.repo}`,
        ...(eventGuid ? { eventGuid } : {}),
        now: this.#d.now?.() ?? new Date(),
        extraLabels: { [LABELS.trace]: 'true' },
      }), katabot.trace);
    } catch (err) {
      log.warn({ prowjob: name, job: o.job, err: (err as Error).message }, 'behavior: the base run cannot be traced; not started');
      return;
    }
    ctx.assert();
    const result = await this.#d.prowjobs.create(run);
    metrics.prowjobsCreated.inc({ type: 'postsubmit', result });
    log.info({ prowjob: baseName, job: o.job, baseSha: o.baseSha, for: `${o.org}/${o.repo}#${o.pull}`, result }, 'behavior: no baseline; traced base run started');
  }
}

function toOutbox(o: Exclude<BehaviorOutcome, { kind: 'skipped' }>): Outbox {
  const strip = ({ html: _html, ...r }: BehaviorReport): OutboxReport => r;
  switch (o.kind) {
    case 'report': return { kind: 'report', reports: [strip(o.report)] };
    case 'baseline': return { kind: 'baseline', reports: o.reports.map(strip) };
    case 'no-baseline': return o;
  }
}

function parseOutbox(raw: string | undefined): Outbox | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as Outbox;
    return v && typeof v === 'object' && ['report', 'baseline', 'no-baseline'].includes(v.kind) ? v : undefined;
  } catch {
    return undefined;
  }
}
