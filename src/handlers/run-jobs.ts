// Effect: create the ProwJobs chosen for a PR and a queued check run for each. Safe to repeat: ProwJob
// names are derived from the delivery, so a retry finds the same objects, and check runs are created
// exactly once per ProwJob (shared with the reporter, which may see the ProwJob first).
import type { GitHub, PullFacts } from '../adapters/github.ts';
import { deckLinkForProwJob } from '../jobs/deck.ts';
import { prowJobName } from '../jobs/names.ts';
import { buildPresubmitProwJob } from '../jobs/prowjob.ts';
import { injectTracer, type TraceProbes } from '../jobs/trace.ts';
import { LABELS, type Presubmit, type ProwJob } from '../jobs/types.ts';
import { queuedCheckRun } from '../report/check-run.ts';
import type { HandlerDeps } from './deps.ts';

export interface JobRequest {
  presubmit: Presubmit;
  traced: boolean;
  /** `/trace --probe …`: the probes and custom packages the tracer runs (absent: all of katabot's built-ins). */
  probes?: TraceProbes;
}

export interface RunOptions {
  delivery: string;
  /** Distinguishes several job sets started by one delivery (e.g. the PR body and the PR open). */
  purpose: string;
  retest: boolean;
}

export async function runJobs(
  deps: HandlerDeps,
  gh: GitHub,
  pr: PullFacts,
  jobs: readonly JobRequest[],
  opts: RunOptions,
): Promise<ProwJob[]> {
  if (jobs.length === 0) return [];
  const { prow, katabot } = deps.config();
  // Prow's trigger tests against the base branch tip at trigger time, not the payload's base.sha.
  const baseSha = await gh.branchSha(pr.baseRef).catch(() => pr.baseSha);
  const created: ProwJob[] = [];
  for (const { presubmit, traced, probes } of jobs) {
    // The probe list is a name part only when probes were asked for, so names of other jobs stay as they were.
    const probeList = traced && probes?.probes && probes.probes.length > 0 ? [probes.probes.join(',')] : [];
    const name = prowJobName([opts.delivery, opts.purpose, presubmit.name, pr.headSha, traced ? 'trace' : 'plain', ...probeList]);
    let pj = buildPresubmitProwJob({
      presubmit,
      prow,
      name,
      namespace: deps.prowjobs.namespace,
      org: gh.owner,
      repo: gh.repo,
      baseRef: pr.baseRef,
      baseSha,
      repoLink: pr.repoLink,
      pull: {
        number: pr.number,
        author: pr.author,
        sha: pr.headSha,
        title: pr.title,
        headRef: pr.headRef,
        link: pr.link,
        authorLink: pr.authorLink,
      },
      eventGuid: opts.delivery,
      now: deps.now(),
      retest: opts.retest,
      extraLabels: traced ? { [LABELS.trace]: 'true' } : undefined,
    });
    if (traced) pj = injectTracer(pj, katabot.trace, probes ?? {});
    const result = await deps.prowjobs.create(pj);
    deps.metrics.prowjobsCreated.inc({ type: 'presubmit', result });
    deps.log.info({ prowjob: name, job: presubmit.name, pr: pr.number, result, traced }, 'prowjob created');
    if (pj.spec.report !== false) await queueCheckRun(deps, gh, pj);
    created.push(pj);
  }
  return created;
}

async function queueCheckRun(deps: HandlerDeps, gh: GitHub, pj: ProwJob): Promise<void> {
  const { prow, katabot } = deps.config();
  const url = deckLinkForProwJob(pj, prow, katabot.deck_url);
  // The attempt number is assigned here, at creation, so the queued check run already shows it.
  const { attempt } = await deps.results.record(pj, url);
  const body = queuedCheckRun(pj, url, attempt);
  // Records the check run (checkrun-id:<name>) and that `triggered` is reported, so the reporter only PATCHes
  // on the next state change.
  await deps.reports.ensureCheckRun(gh, pj, body, { state: pj.status?.state ?? 'triggered' });
}
