// check_run: GitHub's "Re-run" on one of katabot's check runs (rerequested), and the buttons katabot puts on failed
// runs (requested_action: Re-run, Trace). Each starts a new ProwJob for that job, with a new check run.
import type { Context } from 'probot';
import { GitHub } from '../adapters/github.ts';
import { isOurApp } from '../plan/deliveries.ts';
import { CHECK_ACTIONS } from '../render/check-run.ts';
import type { HandlerDeps } from './deps.ts';
import { rerunFromChecks } from './rerun.ts';

export async function onCheckRun(deps: HandlerDeps, context: Context<'check_run'>): Promise<void> {
  const { payload } = context;
  const run = payload.check_run;
  let traced = false;
  if (payload.action === 'requested_action') {
    const id = (payload as { requested_action?: { identifier?: string } }).requested_action?.identifier;
    if (id === CHECK_ACTIONS.trace.identifier) traced = true;
    else if (id !== CHECK_ACTIONS.rerun.identifier) return;
  } else if (payload.action !== 'rerequested') return;
  if (!run.external_id || !isOurApp(await deps.botLogin(), run.app)) return;

  const gh = new GitHub(context.octokit, payload.repository.owner.login, payload.repository.name);
  await rerunFromChecks(deps, gh, {
    requester: payload.sender?.login ?? '',
    headSha: run.head_sha,
    pullNumbers: (run.pull_requests ?? []).map((p) => p.number),
    prowjobs: [run.external_id],
    traced,
    delivery: context.id,
    purpose: `check-run:${run.id}:${traced ? 'trace' : 'rerun'}`,
  });
}
