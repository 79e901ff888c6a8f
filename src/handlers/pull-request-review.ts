// pull_request_review: a submitted review's body counts like a comment (Prow's generic comment events).
import type { Context } from 'probot';
import { GitHub, pullFacts, type PullPayload } from '../adapters/github.ts';
import { isSelfLogin } from '../policy/trust.ts';
import type { HandlerDeps } from './deps.ts';
import { handleText } from './text.ts';

export async function onPullRequestReview(deps: HandlerDeps, context: Context<'pull_request_review'>): Promise<void> {
  const { payload } = context;
  if (payload.action !== 'submitted') return;
  const body = payload.review.body;
  if (!body || payload.pull_request.state !== 'open') return;
  const reviewer = payload.review.user?.login ?? '';
  if (isSelfLogin(await deps.botLogin(), reviewer)) return;
  const gh = new GitHub(context.octokit, payload.repository.owner.login, payload.repository.name);
  await handleText(deps, gh, {
    pr: pullFacts(payload.pull_request as unknown as PullPayload),
    commenter: reviewer,
    body,
    url: payload.review.html_url,
    delivery: context.id,
    source: 'review',
  });
}
