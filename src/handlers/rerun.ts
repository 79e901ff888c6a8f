// Reruns from GitHub's check UI, for check_run and check_suite: gather facts → planRerun (src/plan/rerun.ts) →
// start new ProwJobs labelled prow.k8s.io/retest, each with a new check run.
import type { GitHub } from '../adapters/github.ts';
import { planRerun, type RerunPlan } from '../plan/rerun.ts';
import type { HandlerDeps } from './deps.ts';
import { launchRuns, outcomeReplies, postReplies, throwIfFailed, withPrLock } from './effects.ts';
import { planWith, repoInput } from './facts.ts';

export interface RerunRequest {
  requester: string;
  headSha: string;
  /** From the payload; empty for forks. */
  pullNumbers: number[];
  /** The check runs' external_id: the ProwJobs they reported. */
  prowjobs: Array<string | null | undefined>;
  traced: boolean;
  delivery: string;
  /** Part of the new ProwJobs' names, so a redelivery finds the same objects. */
  purpose: string;
}

export async function rerunFromChecks(deps: HandlerDeps, gh: GitHub, req: RerunRequest): Promise<RerunPlan> {
  const input = {
    ...(await repoInput(deps, gh)).input,
    requester: req.requester,
    headSha: req.headSha,
    traced: req.traced,
  };
  const scope = { deps, gh, rerun: { targets: req.prowjobs.map((prowjob) => ({ prowjob })), headSha: req.headSha, pullNumbers: req.pullNumbers } };
  const plan = await planWith((facts) => planRerun(input, facts), scope);
  if (plan.command) deps.metrics.commands.inc(plan.command);
  if ('skipped' in plan) {
    deps.log.info({ sha: req.headSha, requester: req.requester, purpose: req.purpose, skipped: plan.skipped }, `rerun skipped: ${plan.reason}`);
    return plan;
  }
  const { pr } = plan;
  await withPrLock(deps, gh, pr.number, async () => {
    const launch = await launchRuns(deps, gh, plan.runs, { pr, delivery: req.delivery, purpose: req.purpose, retest: true });
    await launch.report();
    // GitHub shows no answer to its own buttons; only a refusal by the cluster is worth a comment.
    const replies = outcomeReplies(launch.outcomes, undefined, pr.headSha);
    await postReplies(deps, gh, pr.number, replies, { delivery: req.delivery, source: req.purpose, commenter: req.requester, url: pr.link, body: '' });
    throwIfFailed(launch.outcomes);
    deps.log.info({ pr: pr.number, jobs: plan.runs.map((r) => r.job), traced: req.traced, requester: req.requester }, 'rerun from checks');
  });
  return plan;
}
