// issue_comment: a comment on a PR may carry commands. Deliveries that cannot (edits, closed PRs, the bot's own
// comments, no command) are dropped before any GitHub call, by the same pure filter intake can use.
import type { Context } from 'probot';
import { GitHub } from '../adapters/github.ts';
import { repoConfig } from '../plan/repo.ts';
import { commentNeedsWork } from '../plan/comment.ts';
import type { HandlerDeps } from './deps.ts';
import { handleText } from './text.ts';

export async function onIssueComment(deps: HandlerDeps, context: Context<'issue_comment'>): Promise<void> {
  const { payload } = context;
  const owner = payload.repository.owner.login;
  const name = payload.repository.name;
  const delivery = {
    action: payload.action,
    onPullRequest: Boolean(payload.issue.pull_request),
    state: payload.issue.state,
    commenter: payload.comment.user?.login ?? '',
    body: payload.comment.body ?? '',
  };
  const ctx = { botLogin: await deps.botLogin(), ...repoConfig(deps.config(), owner, name) };
  if (!commentNeedsWork(delivery, ctx)) return;

  const gh = new GitHub(context.octokit, owner, name);
  const pr = await gh.pull(payload.issue.number);
  await handleText(deps, gh, { pr, commenter: delivery.commenter, body: delivery.body, url: payload.comment.html_url, delivery: context.id, source: 'comment' });
}
