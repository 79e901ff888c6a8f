// A text on a PR that may carry commands (a comment, a review body, the PR body): gather facts → planComment →
// carry out the plan under the PR's lock.
import type { GitHub, PullFacts } from '../adapters/github.ts';
import { planComment, type TextSource } from '../plan/comment.ts';
import type { HandlerDeps } from './deps.ts';
import { applyLabels, launchRuns, outcomeReplies, postReplies, setTdxApproval, throwIfFailed, withPrLock } from './effects.ts';
import { planWith, repoInput } from './facts.ts';
import { recordPullMeta } from './pull-meta.ts';
import { publishTdxStatus } from './tdx-status.ts';

export interface TextInput {
  pr: PullFacts;
  commenter: string;
  body: string;
  /** Link to the comment/review/PR, quoted in replies. */
  url: string;
  delivery: string;
  source: TextSource;
}

export async function handleText(deps: HandlerDeps, gh: GitHub, t: TextInput): Promise<void> {
  const repo = await repoInput(deps, gh);
  const input = {
    ...repo.input,
    prow: repo.snapshot.prow,
    pr: t.pr,
    commenter: t.commenter,
    body: t.body,
    source: t.source,
    requiredTests: await deps.requiredTests?.(),
  };
  const plan = await planWith((facts) => planComment(input, facts), { deps, gh, pr: t.pr });
  for (const c of plan.commands) deps.metrics.commands.inc(c);
  if (plan.commands.length === 0) return;
  deps.log.debug({ pr: t.pr.number, commands: plan.commands, runs: plan.runs.map((r) => r.job) }, 'comment plan');

  await withPrLock(deps, gh, t.pr.number, async () => {
    await setTdxApproval(deps, gh, t.pr, plan.approveTdx ? 'record' : 'keep');
    const launch = await launchRuns(deps, gh, plan.runs, { pr: t.pr, delivery: t.delivery, purpose: t.source, retest: plan.retest !== undefined });
    await applyLabels(gh, t.pr.number, plan.labels);
    await recordPullMeta(deps, gh, t.pr, plan.labels);
    if (plan.approveTdx || plan.labels.add.length || plan.labels.remove.length) await publishTdxStatus(deps, gh, t.pr, plan.labels, plan.approveTdx ? 'record' : 'keep');
    await launch.report();
    const replies = [...plan.replies, ...outcomeReplies(launch.outcomes, plan.retest, t.pr.headSha)];
    await postReplies(deps, gh, t.pr.number, replies, { delivery: t.delivery, source: t.source, commenter: t.commenter, url: t.url, body: t.body });
    throwIfFailed(launch.outcomes);
  });
}
