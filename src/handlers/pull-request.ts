// pull_request: opening, pushing, reopening, drafting and labelling a PR, as Prow's trigger handles them,
// plus per-commit TDX approval. Decisions come from the pure planner in src/policy/pull-request.ts.
import type { Context } from 'probot';
import { GitHub, pullFacts, type PullPayload } from '../adapters/github.ts';
import { exactlyOnce } from '../adapters/store.ts';
import { needsChangedFiles, presubmitsFor, selectForTestAll } from '../jobs/select.ts';
import { LABELS } from '../jobs/types.ts';
import { planPullRequestEvent } from '../policy/pull-request.ts';
import { isApprover } from '../policy/tdx.ts';
import { isSelfLogin } from '../policy/trust.ts';
import { draftNotice, welcomeMessage } from '../report/replies.ts';
import { handleCommands } from './commands.ts';
import { RECORD_TTL_SECONDS, type HandlerDeps } from './deps.ts';
import { runJobs } from './run-jobs.ts';
import { tdxApprovalKey, tdxApproval } from './tdx.ts';
import { isTrusted } from './trust.ts';

const ABORT_DESCRIPTION: Record<string, string> = {
  synchronize: 'Aborted by katabot: a new commit was pushed.',
  closed: 'Aborted by katabot: the pull request was closed.',
  converted_to_draft: 'Aborted by katabot: the pull request was converted to a draft.',
};

export async function onPullRequest(deps: HandlerDeps, context: Context<'pull_request'>): Promise<void> {
  const { payload } = context;
  const gh = new GitHub(context.octokit, payload.repository.owner.login, payload.repository.name);
  const snapshot = deps.config();
  const policy = snapshot.katabot;
  const presubmits = presubmitsFor(snapshot.jobs, gh.owner, gh.repo);
  if (presubmits.length === 0) return; // as Prow: a repo without presubmits is not katabot's business

  const pr = pullFacts(payload.pull_request as unknown as PullPayload);
  const botLogin = await deps.botLogin();
  const sender = payload.sender?.login ?? '';
  const labelAdded = payload.action === 'labeled' ? (payload as { label?: { name: string } }).label?.name : undefined;

  // A TDX approval counts only from an approver, and only for the commit it was given on.
  if (labelAdded === policy.tdx.label && !isSelfLogin(botLogin, sender)) {
    if (isApprover(policy, sender)) await deps.store.set(tdxApprovalKey(gh, pr.number), pr.headSha, RECORD_TTL_SECONDS);
    else deps.log.warn({ pr: pr.number, sender }, 'TDX label added by a non-approver; TDX jobs stay gated');
  }

  const authorTrusted = await isTrusted(gh, policy, botLogin, pr.author);
  const changes = (payload as { changes?: { base?: { ref?: unknown; sha?: unknown } } }).changes;
  const plan = planPullRequestEvent({
    action: payload.action,
    draft: pr.draft,
    authorTrusted,
    labels: pr.labels,
    labelAdded,
    sender,
    botLogin,
    baseChanged: Boolean(changes?.base?.ref || changes?.base?.sha),
    mergeable: pr.mergeable,
    policy,
  });
  deps.log.debug({ pr: pr.number, action: payload.action, plan }, 'pull request plan');

  await deps.store.withLock(`pr:${gh.fullName}#${pr.number}`, 30_000, async () => {
    if (plan.abort) {
      const aborted = await deps.prowjobs.abortIncomplete(
        {
          [LABELS.type]: 'presubmit',
          [LABELS.org]: gh.owner,
          [LABELS.repo]: gh.repo,
          [LABELS.pull]: String(pr.number),
        },
        ABORT_DESCRIPTION[payload.action] ?? `Aborted by katabot (${payload.action}).`,
      );
      if (aborted.length) deps.log.info({ pr: pr.number, aborted }, 'aborted unfinished prowjobs');
    }
    if (payload.action === 'synchronize' && !policy.tdx.sticky) await deps.store.del(tdxApprovalKey(gh, pr.number));

    const labels = new Set(pr.labels);
    const add = plan.addLabels.filter((l) => !labels.has(l));
    if (add.length) await gh.addLabels(pr.number, add);
    for (const l of plan.removeLabels) {
      if (!labels.has(l)) continue;
      await gh.removeLabel(pr.number, l);
      labels.delete(l);
    }
    for (const l of add) labels.add(l);

    if (plan.welcome) {
      await exactlyOnce(
        deps.store,
        `welcome:${gh.fullName}#${pr.number}`,
        RECORD_TTL_SECONDS,
        () => gh.comment(pr.number, `${welcomeMessage({ author: pr.author, org: gh.owner, ignoreOkToTest: policy.ignore_ok_to_test })}\n<!-- katabot:welcome -->`),
        () => gh.findComment(pr.number, '<!-- katabot:welcome -->', botLogin),
      );
    }
    if (plan.draftNotice) {
      const marker = `<!-- katabot:draft ${context.id} -->`;
      await exactlyOnce(
        deps.store,
        `draft:${context.id}`,
        RECORD_TTL_SECONDS,
        () => gh.comment(pr.number, `${draftNotice()}\n${marker}`),
        () => gh.findComment(pr.number, marker, botLogin),
      );
    }
    if (plan.build === 'all') {
      const changed = needsChangedFiles(presubmits) ? await gh.changedFiles(pr.number) : [];
      const { allows } = await tdxApproval(deps, gh, pr, [...labels]);
      const jobs = selectForTestAll(presubmits, pr.baseRef, changed)
        .filter((j) => allows(j.presubmit.name))
        .map((j) => ({ presubmit: j.presubmit, traced: false }));
      await runJobs(deps, gh, pr, jobs, { delivery: context.id, purpose: `pr-${payload.action}`, retest: false });
    }
  });

  // Commands in the PR description count when the PR is opened, as Prow's generic comment handling does.
  if (payload.action === 'opened' && pr.state === 'open' && payload.pull_request.body) {
    await handleCommands(deps, gh, {
      pr: { ...pr, labels: [...new Set([...pr.labels, ...plan.addLabels])].filter((l) => !plan.removeLabels.includes(l)) },
      commenter: pr.author,
      body: payload.pull_request.body,
      url: pr.link,
      delivery: context.id,
      source: 'body',
    });
  }
}
