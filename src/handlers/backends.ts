// The CI systems katabot starts runs on, behind one shape (src/plan/runs.ts): each launches its runs, then reports
// them on GitHub. Launching never waits for GitHub's write pacing, and every run is launched on its own: one that
// the CI system refuses gets a failed check run saying why, and the others still run.
//   prow     ProwJobs on Kubernetes (creation is idempotent: names derive from the delivery), then a queued check
//            run each, exactly once, shared with the reporter.
//   actions  GitHub Actions: "Re-run failed jobs" of a run, "Re-run job" of one job, or a workflow_dispatch, each
//            once per delivery.
import PQueue from 'p-queue';
import { httpStatus, type GitHub, type PullFacts } from '../adapters/github.ts';
import { KubeApiError } from '../adapters/kube.ts';
import { exactlyOnce } from '../adapters/store.ts';
import { deckLinkForProwJob } from '../jobs/deck.ts';
import { prowJobName } from '../jobs/names.ts';
import { buildPostsubmitProwJob, buildPresubmitProwJob } from '../jobs/prowjob.ts';
import { injectTracer } from '../jobs/trace.ts';
import { LABELS, type ProwJob } from '../jobs/types.ts';
import { type Postsubmit } from '../config/prow-types.ts';
import type { ActionsRun, ProwRun, RunOutcome } from '../plan/runs.ts';
import { queuedCheckRun, refusedCheckRun } from '../render/check-run.ts';
import { RECORD_TTL_SECONDS, type HandlerDeps } from './deps.ts';

/** What every run of one event shares. */
export interface RunContext {
  pr: PullFacts;
  delivery: string;
  /** Distinguishes several run sets of one delivery (e.g. the PR body and the PR open); part of ProwJob names. */
  purpose: string;
  /** Prow's retest label on the ProwJobs (/retest, reruns from the checks UI). */
  retest: boolean;
}

/** ProwJobs kept in flight at once while launching; the API server double and real ones take this easily. */
const CREATE_CONCURRENCY = 8;

/** A launched ProwJob, for the report step. */
interface Launched {
  outcome: RunOutcome;
  pj: ProwJob;
}

export class ProwBackend {
  readonly #deps: HandlerDeps;
  readonly #gh: GitHub;

  constructor(deps: HandlerDeps, gh: GitHub) {
    this.#deps = deps;
    this.#gh = gh;
  }

  /** Creates the ProwJobs of `runs`, each on its own. No GitHub write happens here. */
  async launch(runs: readonly ProwRun[], ctx: RunContext): Promise<Launched[]> {
    if (runs.length === 0) return [];
    const { prow, katabot } = this.#deps.config();
    const { pr } = ctx;
    // Prow's trigger tests against the base branch tip at trigger time, not the payload's base.sha.
    const baseSha = await this.#gh.branchSha(pr.baseRef).catch(() => pr.baseSha);
    const queue = new PQueue({ concurrency: CREATE_CONCURRENCY });
    return Promise.all(
      runs.map((run) =>
        queue.add(async (): Promise<Launched> => {
          const pj = this.#build(run, ctx, baseSha, prow, katabot.trace);
          try {
            const result = await this.#deps.prowjobs.create(pj);
            this.#deps.metrics.prowjobsCreated.inc({ type: 'presubmit', result });
            this.#deps.log.info({ prowjob: pj.metadata.name, job: run.job, pr: pr.number, result, traced: run.traced }, 'prowjob created');
            return { pj, outcome: { run, result: result === 'created' ? 'started' : 'exists', id: pj.metadata.name } };
          } catch (err) {
            if (err instanceof KubeApiError && err.refused) {
              this.#deps.metrics.prowjobsCreated.inc({ type: 'presubmit', result: 'refused' });
              this.#deps.log.warn({ prowjob: pj.metadata.name, job: run.job, pr: pr.number, code: err.code, err: err.serverMessage }, 'prowjob refused by the cluster');
              return { pj, outcome: { run, result: 'refused', id: pj.metadata.name, message: err.serverMessage } };
            }
            this.#deps.log.warn({ prowjob: pj.metadata.name, job: run.job, pr: pr.number, err: (err as Error).message }, 'prowjob not created; the delivery will be retried');
            return { pj, outcome: { run, result: 'failed', error: err as Error } };
          }
        }),
      ),
    );
  }

  /** A check run for every launched ProwJob that reports: queued, or failed with the cluster's reason. Paced. */
  async report(launched: readonly Launched[]): Promise<void> {
    const { prow, katabot } = this.#deps.config();
    for (const { pj, outcome } of launched) {
      if (pj.spec.report === false || outcome.result === 'failed') continue;
      const url = deckLinkForProwJob(pj, prow, katabot.deck_url);
      if (outcome.result === 'refused') {
        await this.#deps.reports.ensureCheckRun(this.#gh, pj, refusedCheckRun(pj, outcome.message), { state: 'error' });
        continue;
      }
      // The attempt number is assigned here, at creation, so the queued check run already shows it.
      const { attempt } = await this.#deps.results.record(pj, url);
      // Records the check run (checkrun-id:<name>) and that `triggered` is reported, so the reporter only PATCHes
      // on the next state change.
      await this.#deps.reports.ensureCheckRun(this.#gh, pj, queuedCheckRun(pj, url, attempt), { state: pj.status?.state ?? 'triggered' });
    }
  }

  #build(run: ProwRun, ctx: RunContext, baseSha: string, prow: ReturnType<HandlerDeps['config']>['prow'], trace: ReturnType<HandlerDeps['config']>['katabot']['trace']): ProwJob {
    const { pr } = ctx;
    // The probe list is a name part only when probes were asked for, so names of other jobs stay as they were.
    const probeList = run.traced && run.probes?.probes && run.probes.probes.length > 0 ? [run.probes.probes.join(',')] : [];
    const name = prowJobName([ctx.delivery, ctx.purpose, run.job, pr.headSha, run.traced ? 'trace' : 'plain', ...probeList]);
    const pj = buildPresubmitProwJob({
      presubmit: run.presubmit,
      prow,
      name,
      namespace: this.#deps.prowjobs.namespace,
      org: this.#gh.owner,
      repo: this.#gh.repo,
      baseRef: pr.baseRef,
      baseSha,
      repoLink: pr.repoLink,
      pull: { number: pr.number, author: pr.author, sha: pr.headSha, title: pr.title, headRef: pr.headRef, link: pr.link, authorLink: pr.authorLink },
      eventGuid: ctx.delivery,
      now: this.#deps.now(),
      retest: ctx.retest,
      extraLabels: run.traced ? { [LABELS.trace]: 'true' } : undefined,
    });
    return run.traced ? injectTracer(pj, trace, run.probes ?? {}) : pj;
  }
}

/** What the postsubmits of one push share. */
export interface PushContext {
  delivery: string;
  baseRef: string;
  /** The pushed commit. */
  baseSha: string;
  repoLink: string;
  /** The push's compare URL (refs.base_link, as Prow's push handler sets it). */
  compare?: string;
}

/**
 * Creates the ProwJobs of a push's postsubmits, each on its own, as Prow's trigger does; crier (or katabot's
 * reporter) reports them. A job the cluster refuses is logged and counted; a transient failure retries the delivery.
 */
export async function launchPostsubmits(deps: HandlerDeps, gh: GitHub, jobs: readonly Postsubmit[], ctx: PushContext): Promise<RunOutcome[]> {
  const { prow } = deps.config();
  const queue = new PQueue({ concurrency: CREATE_CONCURRENCY });
  return Promise.all(
    jobs.map((postsubmit) =>
      queue.add(async (): Promise<RunOutcome> => {
        const run = { backend: 'prow-postsubmit', job: postsubmit.name, postsubmit } as const;
        const pj = buildPostsubmitProwJob({
          postsubmit,
          prow,
          name: prowJobName([ctx.delivery, 'push', postsubmit.name, ctx.baseSha]),
          namespace: deps.prowjobs.namespace,
          org: gh.owner,
          repo: gh.repo,
          baseRef: ctx.baseRef,
          baseSha: ctx.baseSha,
          repoLink: ctx.repoLink,
          ...(ctx.compare ? { baseLink: ctx.compare } : {}),
          eventGuid: ctx.delivery,
          now: deps.now(),
        });
        try {
          const result = await deps.prowjobs.create(pj);
          deps.metrics.prowjobsCreated.inc({ type: 'postsubmit', result });
          deps.log.info({ prowjob: pj.metadata.name, job: postsubmit.name, ref: ctx.baseRef, result }, 'prowjob created');
          return { run, result: result === 'created' ? 'started' : 'exists', id: pj.metadata.name };
        } catch (err) {
          if (err instanceof KubeApiError && err.refused) {
            deps.metrics.prowjobsCreated.inc({ type: 'postsubmit', result: 'refused' });
            deps.log.warn({ prowjob: pj.metadata.name, job: postsubmit.name, ref: ctx.baseRef, code: err.code, err: err.serverMessage }, 'postsubmit refused by the cluster');
            return { run, result: 'refused', id: pj.metadata.name, message: err.serverMessage };
          }
          return { run, result: 'failed', error: err as Error };
        }
      }),
    ),
  );
}

export class ActionsBackend {
  readonly #deps: HandlerDeps;
  readonly #gh: GitHub;

  constructor(deps: HandlerDeps, gh: GitHub) {
    this.#deps = deps;
    this.#gh = gh;
  }

  /**
   * Starts each Actions run once per delivery: "Re-run failed jobs" of a run, "Re-run job" of one job, or a
   * workflow_dispatch. A refusal (the run is still going, a missing permission) is answered, not retried.
   */
  async launch(runs: readonly ActionsRun[], ctx: RunContext): Promise<RunOutcome[]> {
    const out: RunOutcome[] = [];
    for (const run of runs) {
      const { key, id, start } = this.#how(run);
      try {
        await exactlyOnce(this.#deps.store, `actions-${key}:${ctx.delivery}:${id}`, RECORD_TTL_SECONDS, async () => {
          await start();
          return true;
        });
        out.push({ run, result: 'started', id });
      } catch (err) {
        const code = httpStatus(err);
        this.#deps.log.warn({ pr: ctx.pr.number, run: id, kind: key, err: (err as Error).message, status: code }, 'could not start GitHub Actions run');
        out.push({ run, result: 'refused', id, message: actionsRefusal(err) });
      }
    }
    if (runs.length) this.#deps.log.info({ sha: ctx.pr.headSha, runs: runs.map((r) => this.#how(r).id) }, 'started GitHub Actions runs');
    return out;
  }

  #how(run: ActionsRun): { key: string; id: string; start: () => Promise<void> } {
    switch (run.kind) {
      case 'job':
        return { key: 'job', id: String(run.jobId), start: () => this.#gh.rerunJob(run.jobId) };
      case 'dispatch':
        return { key: 'dispatch', id: run.job, start: () => this.#gh.dispatchWorkflow(run.workflow, run.ref, run.inputs) };
      default:
        return { key: 'rerun', id: String(run.runId), start: () => this.#gh.rerunFailedJobs(run.runId) };
    }
  }
}

/** GitHub's reason for refusing an Actions run, in a reply's words. */
function actionsRefusal(err: unknown): string {
  const code = httpStatus(err);
  const said = (err as { response?: { data?: { message?: unknown } } }).response?.data?.message;
  if (code === 403 && typeof said === 'string' && !/resource not accessible/i.test(said)) return `GitHub answered 403: ${said}`;
  if (code === 403) return 'katabot lacks the `actions: write` permission here';
  if (code === 422 && typeof said === 'string') return `GitHub refused it: ${said}`;
  return `GitHub answered ${code ?? (err as Error).message}`;
}
