// pull_request: opening, pushing, reopening, drafting and labelling a PR, as Prow's trigger handles them, plus
// per-commit TDX approval: gather facts → planPullRequest (src/plan/pull-request.ts) → carry out the plan.
import type { Context } from 'probot';
import { GitHub, pullFacts, type PullPayload } from '../adapters/github.ts';
import { LABELS } from '../jobs/types.ts';
import { planPullRequest } from '../plan/pull-request.ts';
import { MARKERS } from '../render/markers.ts';
import type { HandlerDeps } from './deps.ts';
import { applyLabels, launchRuns, outcomeReplies, postNotice, postReplies, setTdxApproval, throwIfFailed, withPrLock } from './effects.ts';
import { planWith, repoInput } from './facts.ts';
import { recordPullMeta } from './pull-meta.ts';
import { publishTdxStatus } from './tdx-status.ts';
import { handleText } from './text.ts';

export async function onPullRequest(deps: HandlerDeps, context: Context<'pull_request'>): Promise<void> {
  const { payload } = context;
  const gh = new GitHub(context.octokit, payload.repository.owner.login, payload.repository.name);
  const pr = pullFacts(payload.pull_request as unknown as PullPayload);
  const sender = payload.sender?.login ?? '';
  const labelAdded = payload.action === 'labeled' ? (payload as { label?: { name: string } }).label?.name : undefined;
  const changes = (payload as { changes?: { base?: { ref?: unknown; sha?: unknown } } }).changes;
  const input = {
    ...(await repoInput(deps, gh)).input,
    action: payload.action,
    pr,
    sender,
    ...(labelAdded !== undefined ? { labelAdded } : {}),
    baseChanged: Boolean(changes?.base?.ref || changes?.base?.sha),
    body: payload.pull_request.body ?? '',
  };
  const plan = await planWith((facts) => planPullRequest(input, facts), { deps, gh, pr });
  deps.log.debug({ pr: pr.number, action: payload.action, plan: { ...plan, runs: plan.runs.map((r) => r.job) } }, 'pull request plan');
  await withPrLock(deps, gh, pr.number, async () => {
    if (plan.abort) {
      const selector = { [LABELS.type]: 'presubmit', [LABELS.org]: gh.owner, [LABELS.repo]: gh.repo, [LABELS.pull]: String(pr.number) };
      const aborted = await deps.prowjobs.abortIncomplete(selector, plan.abort);
      if (aborted.length) deps.log.info({ pr: pr.number, aborted }, 'aborted unfinished prowjobs');
    }
    await setTdxApproval(deps, gh, pr, plan.approval);
    const launch = await launchRuns(deps, gh, plan.runs, { pr, delivery: context.id, purpose: `pr-${payload.action}`, retest: false });
    await applyLabels(gh, pr.number, plan.labels);
    await recordPullMeta(deps, gh, pr, plan.labels);
    await publishTdxStatus(deps, gh, pr, plan.labels, plan.approval);
    if (plan.welcome) await postNotice(deps, gh, pr.number, `welcome:${gh.fullName}#${pr.number}`, plan.welcome, MARKERS.welcome());
    if (plan.draftNotice) await postNotice(deps, gh, pr.number, `draft:${context.id}`, plan.draftNotice, MARKERS.draft(context.id));
    await launch.report();
    const replies = [...plan.replies, ...outcomeReplies(launch.outcomes, undefined, pr.headSha)];
    await postReplies(deps, gh, pr.number, replies, { delivery: context.id, source: `pr-${payload.action}`, commenter: pr.author, url: pr.link, body: input.body });
    throwIfFailed(launch.outcomes);
  });

  if (plan.bodyCommands) {
    await handleText(deps, gh, { pr: { ...pr, labels: plan.bodyCommands.labels }, commenter: pr.author, body: input.body, url: pr.link, delivery: context.id, source: 'body' });
  }
}
