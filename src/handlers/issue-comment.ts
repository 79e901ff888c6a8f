// issue_comment: only newly created comments on open PRs count; edits never trigger, and the bot's own
// comments are ignored (they could otherwise echo commands back into the bot).
import type { Context } from 'probot';
import { GitHub } from '../adapters/github.ts';
import { isSelfLogin } from '../policy/trust.ts';
import { handleCommands } from './commands.ts';
import type { HandlerDeps } from './deps.ts';

export async function onIssueComment(deps: HandlerDeps, context: Context<'issue_comment'>): Promise<void> {
  const { payload } = context;
  if (payload.action !== 'created') return;
  if (!payload.issue.pull_request || payload.issue.state !== 'open') return;
  const commenter = payload.comment.user?.login ?? '';
  if (isSelfLogin(await deps.botLogin(), commenter)) return;
  // Cheap filter before any API call: no slash at a line start and no custom trigger means nothing to do.
  if (!mightHoldCommand(payload.comment.body)) return;

  const gh = new GitHub(context.octokit, payload.repository.owner.login, payload.repository.name);
  const pr = await gh.pull(payload.issue.number);
  if (pr.state !== 'open') return;
  await handleCommands(deps, gh, {
    pr,
    commenter,
    body: payload.comment.body,
    url: payload.comment.html_url,
    delivery: context.id,
    source: 'comment',
  });
}

/** A command or a custom trigger needs some non-space text; an empty body needs no PR lookup. */
export function mightHoldCommand(body: string | null | undefined): boolean {
  return typeof body === 'string' && body.trim().length > 0;
}
