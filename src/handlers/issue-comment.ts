// issue_comment: only newly created comments on open PRs count; edits never trigger, and the bot's own
// comments are ignored (they could otherwise echo commands back into the bot).
import type { Context } from 'probot';
import { GitHub } from '../adapters/github.ts';
import { isSelfLogin } from '../policy/trust.ts';
import { commandsIn, handleCommands } from './commands.ts';
import type { HandlerDeps } from './deps.ts';

export async function onIssueComment(deps: HandlerDeps, context: Context<'issue_comment'>): Promise<void> {
  const { payload } = context;
  if (payload.action !== 'created') return;
  if (!payload.issue.pull_request || payload.issue.state !== 'open') return;
  const commenter = payload.comment.user?.login ?? '';
  if (isSelfLogin(await deps.botLogin(), commenter)) return;
  // Most comments carry no command: drop them before any GitHub call (the PR lookup below).
  const body = payload.comment.body ?? '';
  if (commandsIn(deps, payload.repository.owner.login, payload.repository.name, body).commands.length === 0) return;

  const gh = new GitHub(context.octokit, payload.repository.owner.login, payload.repository.name);
  const pr = await gh.pull(payload.issue.number);
  if (pr.state !== 'open') return;
  await handleCommands(deps, gh, {
    pr,
    commenter,
    body,
    url: payload.comment.html_url,
    delivery: context.id,
    source: 'comment',
  });
}
