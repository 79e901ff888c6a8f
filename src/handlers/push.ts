// push: a branch or tag was pushed. gather facts → planPush (src/plan/push.ts) → create the postsubmits' ProwJobs.
import type { Context } from 'probot';
import { GitHub } from '../adapters/github.ts';
import { planPush } from '../plan/push.ts';
import { repoConfig } from '../plan/repo.ts';
import { launchPostsubmits } from './backends.ts';
import type { HandlerDeps } from './deps.ts';
import { throwIfFailed } from './effects.ts';
import { planWith } from './facts.ts';

export async function onPush(deps: HandlerDeps, context: Context<'push'>): Promise<void> {
  const { payload } = context;
  const owner = payload.repository.owner?.login ?? '';
  const gh = new GitHub(context.octokit, owner, payload.repository.name);
  const rc = repoConfig(deps.config(), gh.owner, gh.repo);
  const push = { ref: payload.ref, after: payload.after, deleted: payload.deleted, commits: payload.commits ?? [] };
  const plan = await planWith((facts) => planPush({ push, postsubmits: rc.postsubmits, inRepoConfig: rc.inRepoConfig }, facts), { deps, gh, inRepoRef: payload.after });
  if (plan.inRepoError) deps.log.warn({ ref: payload.ref, sha: payload.after, problem: plan.inRepoError }, 'in-repo config unreadable; central postsubmits only');
  deps.log.debug({ ref: payload.ref, jobs: plan.jobs.map((j) => j.name), reason: plan.reason }, 'push plan');
  const outcomes = await launchPostsubmits(deps, gh, plan.jobs, {
    delivery: context.id,
    baseRef: plan.baseRef,
    baseSha: payload.after,
    repoLink: payload.repository.html_url,
    ...(payload.compare ? { compare: payload.compare } : {}),
  });
  throwIfFailed(outcomes);
}
