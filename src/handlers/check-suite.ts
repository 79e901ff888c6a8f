// check_suite.rerequested: "Re-run failed checks" / "Re-run all checks" on katabot's suite re-runs the suite's
// failed jobs, as /retest would.
import type { Context } from 'probot';
import { GitHub } from '../adapters/github.ts';
import { isOurApp } from '../plan/deliveries.ts';
import type { HandlerDeps } from './deps.ts';
import { rerunFromChecks } from './rerun.ts';

export async function onCheckSuite(deps: HandlerDeps, context: Context<'check_suite'>): Promise<void> {
  const { payload } = context;
  if (payload.action !== 'rerequested') return;
  const suite = payload.check_suite;
  if (!isOurApp(await deps.botLogin(), suite.app)) return;
  const gh = new GitHub(context.octokit, payload.repository.owner.login, payload.repository.name);
  const failed = await gh.failedCheckRunsInSuite(suite.id);
  if (failed.length === 0) return;
  await rerunFromChecks(deps, gh, {
    requester: payload.sender?.login ?? '',
    headSha: suite.head_sha,
    pullNumbers: (suite.pull_requests ?? []).map((p) => p.number),
    prowjobs: failed.map((r) => r.external_id),
    traced: false,
    delivery: context.id,
    purpose: `check-suite:${suite.id}`,
  });
}
