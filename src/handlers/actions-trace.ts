// The backend of `/trace` for GitHub Actions jobs (ActionsTraceRun, src/plan/runs.ts): dispatch the workflow on the
// base branch with the PR's number and head (the workflow checks the PR out after the katabot action attached its
// tracer), or re-run the job of the PR head's latest run of a workflow that always traces. Each once per delivery.
import { httpStatus, type GitHub } from '../adapters/github.ts';
import { ActionsTraceApi } from '../adapters/github-actions-trace.ts';
import { exactlyOnce } from '../adapters/store.ts';
import { dispatchInputs, jobMatches } from '../plan/actions-trace.ts';
import type { ActionsTraceRun, RunOutcome } from '../plan/runs.ts';
import { workflowFile } from '../plan/trace-artifacts.ts';
import type { RunContext } from './backends.ts';
import { RECORD_TTL_SECONDS, type HandlerDeps } from './deps.ts';

export class ActionsTraceBackend {
  readonly #deps: HandlerDeps;
  readonly #gh: GitHub;
  readonly #api: ActionsTraceApi;

  constructor(deps: HandlerDeps, gh: GitHub, api: ActionsTraceApi) {
    this.#deps = deps;
    this.#gh = gh;
    this.#api = api;
  }

  async launch(runs: readonly ActionsTraceRun[], ctx: RunContext): Promise<RunOutcome[]> {
    const out: RunOutcome[] = [];
    for (const run of runs) {
      try {
        const id = await exactlyOnce(this.#deps.store, `actions-trace:${ctx.delivery}:${run.workflow}:${run.job}`, RECORD_TTL_SECONDS, () => this.#start(run));
        out.push({ run, result: 'started', id: String(id) });
      } catch (err) {
        const code = httpStatus(err);
        this.#deps.log.warn({ pr: run.pr, job: run.job, workflow: run.workflow, err: (err as Error).message, status: code }, '/trace of a GitHub Actions job not started');
        const message = err instanceof NotFound ? err.message
          : code === 403 ? 'katabot lacks the `actions: write` permission here'
          : code === 422 ? `GitHub refused it (does ${run.workflow} have the katabot-trace, katabot-pr and katabot-sha workflow_dispatch inputs?)`
          : `GitHub answered ${code ?? (err as Error).message}`;
        out.push({ run, result: 'refused', message });
      }
    }
    return out;
  }

  async #start(run: ActionsTraceRun): Promise<string> {
    if (run.how === 'dispatch') {
      await this.#api.dispatch(run.workflow, run.baseRef, dispatchInputs(run));
      this.#deps.log.info({ pr: run.pr, job: run.job, workflow: run.workflow, ref: run.baseRef }, '/trace: workflow dispatched');
      return `${run.workflow}@${run.baseRef}`;
    }
    const latest = (await this.#gh.workflowRuns(run.headSha))
      .filter((r) => workflowFile(String((r as { path?: string }).path ?? '')) === run.workflow)
      .sort((a, b) => (a.created_at > b.created_at ? -1 : 1))[0];
    if (!latest) throw new NotFound(`no run of ${run.workflow} on this PR's head yet`);
    const job = (await this.#api.runJobs(latest.id)).find((j) => jobMatches(j.name, run.job));
    if (!job) throw new NotFound(`run ${latest.id} of ${run.workflow} has no job named ${run.job}`);
    if (job.status !== 'completed') throw new NotFound(`job ${job.name} of run ${latest.id} is still ${job.status}; /trace it when it has finished`);
    await this.#api.rerunJob(job.id);
    this.#deps.log.info({ pr: run.pr, job: job.name, workflow: run.workflow, run: latest.id }, '/trace: job re-run');
    return String(job.id);
  }
}

/** The job or run to trace is not there (yet): said in the reply, nothing is retried. */
class NotFound extends Error {}
