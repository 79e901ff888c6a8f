// What a `pull_request` event does: Prow's trigger handlePR (pull-request.go) plus katabot's TDX label
// handling. Pure: planPullRequestEvent is the decision table over the event alone; planPullRequest adds what needs
// facts (the author's trust, the PR's files, the recorded TDX approval) and picks the jobs.
import type { KatabotConfig } from '../config/types.ts';
import { needsChangedFiles, selectForTestAll } from '../jobs/select.ts';
import type { Presubmit } from '../config/prow-types.ts';
import { LABEL, applyLabelChanges, hasLabel, sameLabel } from '../policy/labels.ts';
import { isTdxApprover, isTdxLabel, tdxAllows, tdxGate, tdxLabelsOnPush } from '../policy/tdx.ts';
import { isSelfLogin, pullRequestTrusted } from '../policy/trust.ts';
import { draftNotice, inRepoConfigReply, welcomeMessage } from '../render/replies.ts';
import { isTrustedUser, need, step, type Facts, type PullFacts, type Step } from './facts.ts';
import type { Reply } from './comment.ts';
import type { ProwRun } from './runs.ts';

export interface PullRequestEventInput {
  action: string;
  draft: boolean;
  /** userTrustStep ended in trusted for the PR author. */
  authorTrusted: boolean;
  /** The PR's labels as in the payload (for `labeled`, including the added one). */
  labels: readonly string[];
  /** `label.name` of a `labeled` event. */
  labelAdded?: string;
  /** `sender.login`. */
  sender: string;
  botLogin: string;
  /** `edited` with `changes.base.ref.from` or `changes.base.sha.from`. */
  baseChanged: boolean;
  /** `pull_request.mergeable`; null while GitHub computes it. */
  mergeable: boolean | null;
  policy: KatabotConfig;
}

export interface PullRequestPlan {
  /** Abort the PR's unfinished presubmit ProwJobs (state aborted, "Aborted by trigger plugin."-style). */
  abort: boolean;
  /** 'all': run the /test all set (Prow's buildAll). Select jobs against the labels after the changes below. */
  build: 'none' | 'all';
  /** Post the welcome comment for an untrusted author. */
  welcome: boolean;
  /** Post the draft notice. */
  draftNotice: boolean;
  addLabels: string[];
  removeLabels: string[];
  /** Why, for logs. */
  reason: string;
}

function plan(p: Partial<PullRequestPlan> & { reason: string }): PullRequestPlan {
  return { abort: false, build: 'none', welcome: false, draftNotice: false, addLabels: [], removeLabels: [], ...p };
}

/** Prow's buildAllButDrafts, plus runRequested's "no jobs for an unmergeable PR". */
function buildUnlessDraft(i: PullRequestEventInput, why: string, extra: Partial<PullRequestPlan> = {}): PullRequestPlan {
  if (i.draft) return plan({ ...extra, reason: `${why}; draft PR: no jobs` });
  if (i.mergeable === false) return plan({ ...extra, reason: `${why}; PR is not mergeable: no jobs` });
  return plan({ ...extra, build: 'all', reason: why });
}

/**
 * Prow's buildAllIfTrusted: when the PR is trusted, drop a stale needs-ok-to-test (even for a draft, as
 * Prow does) and build unless draft or unmergeable.
 */
function buildIfTrusted(i: PullRequestEventInput, why: string, extra: Partial<PullRequestPlan> = {}): PullRequestPlan {
  if (!pullRequestTrusted(i.authorTrusted, i.labels)) return plan({ ...extra, reason: `${why}; PR is not trusted: no jobs` });
  const removeLabels = [...(extra.removeLabels ?? [])];
  if (hasLabel(i.labels, LABEL.needsOkToTest)) removeLabels.push(LABEL.needsOkToTest);
  return buildUnlessDraft(i, why, { ...extra, removeLabels });
}

export function planPullRequestEvent(i: PullRequestEventInput): PullRequestPlan {
  const { policy } = i;
  switch (i.action) {
    case 'opened': {
      if (i.authorTrusted) {
        if (i.draft) return plan({ draftNotice: true, reason: 'trusted author opened a draft PR' });
        return buildUnlessDraft(i, 'trusted author opened a PR', {
          removeLabels: hasLabel(i.labels, LABEL.needsOkToTest) ? [LABEL.needsOkToTest] : [],
        });
      }
      // Untrusted author: welcome, and ask for /ok-to-test unless an automation already added ok-to-test
      // (Prow builds nothing here even then; the `labeled` event for ok-to-test does) or /ok-to-test is
      // disabled.
      const needsLabel =
        !policy.ignore_ok_to_test && !hasLabel(i.labels, LABEL.okToTest) && !hasLabel(i.labels, LABEL.needsOkToTest);
      return plan({
        welcome: true,
        addLabels: needsLabel ? [LABEL.needsOkToTest] : [],
        reason: 'untrusted author opened a PR: welcome, no jobs',
      });
    }
    case 'reopened':
      return buildIfTrusted(i, 'PR reopened');
    case 'ready_for_review':
      return buildIfTrusted(i, 'PR ready for review');
    case 'edited':
      if (!i.baseChanged) return plan({ reason: 'PR edited without a base change: nothing to do' });
      return buildIfTrusted(i, 'PR base branch changed');
    case 'synchronize': {
      // New commits: abort what runs for the old head, drop a per-commit TDX approval, rebuild if trusted.
      // Labels are removed before jobs are selected, so TDX jobs never run on the new head unapproved.
      const tdx = tdxLabelsOnPush(policy).filter((l) => hasLabel(i.labels, l));
      return buildIfTrusted(i, 'new commits pushed', { abort: true, removeLabels: tdx });
    }
    case 'closed':
      return plan({ abort: true, reason: 'PR closed' });
    case 'converted_to_draft':
      return plan({ abort: true, reason: 'PR converted to draft' });
    case 'labeled': {
      const label = i.labelAdded ?? '';
      // GitHub sends the bot's own label changes back; /ok-to-test already ran the jobs.
      if (isSelfLogin(i.botLogin, i.sender)) return plan({ reason: `label ${label} added by the bot itself: nothing to do` });
      if (sameLabel(label, LABEL.okToTest)) {
        // A human added ok-to-test by hand (kubernetes/test-infra#14324).
        return buildUnlessDraft(i, 'ok-to-test label added by hand', {
          removeLabels: hasLabel(i.labels, LABEL.needsOkToTest) ? [LABEL.needsOkToTest] : [],
        });
      }
      if (sameLabel(label, LABEL.lgtm)) {
        if (pullRequestTrusted(i.authorTrusted, i.labels)) return plan({ reason: 'lgtm on a trusted PR: nothing to do' });
        return buildUnlessDraft(i, 'lgtm on an untrusted PR: run all jobs once');
      }
      if (isTdxLabel(policy, label)) {
        // The TDX label is the approval itself; only tdx.approvers may grant it. Anyone with triage
        // permission can add labels, so a TDX label from anybody else is taken off again.
        if (isTdxApprover(policy, i.sender)) return plan({ reason: 'TDX label added by an approver' });
        return plan({ removeLabels: [policy.tdx.label], reason: `TDX label added by ${i.sender}, who is not a TDX approver: removed` });
      }
      return plan({ reason: `label ${label} added: nothing to do` });
    }
    default:
      return plan({ reason: `action ${i.action}: nothing to do` });
  }
}

/** What the event says, with the config for the repository. */
export interface PullRequestInput {
  owner: string;
  repo: string;
  action: string;
  policy: KatabotConfig;
  botLogin: string;
  pr: PullFacts;
  /** `sender.login`. */
  sender: string;
  /** `label.name` of a `labeled` event. */
  labelAdded?: string;
  baseChanged: boolean;
  /** The PR description (commands in it count when the PR is opened). */
  body: string;
  presubmits: readonly Presubmit[];
  inRepoConfig: boolean;
}

export interface PullRequestEffects {
  /** Abort the PR's unfinished presubmit ProwJobs, with this description. */
  abort?: string;
  /** The per-commit TDX approval: record it for the head, clear it (a push), or leave it. */
  approval: 'record' | 'clear' | 'keep';
  /** Label changes against the PR's current labels (only real changes). */
  labels: { add: string[]; remove: string[] };
  /** The welcome comment (once per PR) and the draft notice (once per delivery). */
  welcome?: string;
  draftNotice?: string;
  runs: ProwRun[];
  replies: Reply[];
  /** The PR body to read for commands (a newly opened PR), with the labels this plan leaves. */
  bodyCommands?: { labels: string[] };
  /** Why, for logs. */
  reason: string;
}

/** The TDX label taken off: by a push (unless sticky), or when someone who is no approver added it. */
function tdxLabelChanges(i: PullRequestInput): string[] {
  const { policy, pr } = i;
  if (!hasLabel(pr.labels, policy.tdx.label)) return [];
  if (i.action === 'synchronize' && !policy.tdx.sticky) return [policy.tdx.label];
  const byOther = i.labelAdded !== undefined && isTdxLabel(policy, i.labelAdded) && !isSelfLogin(i.botLogin, i.sender) && !isTdxApprover(policy, i.sender);
  return byOther ? [policy.tdx.label] : [];
}

const ABORT_DESCRIPTION: Readonly<Record<string, string>> = {
  synchronize: 'Aborted by katabot: a new commit was pushed.',
  closed: 'Aborted by katabot: the pull request was closed.',
  converted_to_draft: 'Aborted by katabot: the pull request was converted to a draft.',
};

export function planPullRequest(input: PullRequestInput, facts: Facts): Step<PullRequestEffects> {
  return step(() => planEffects(input, facts));
}

function planEffects(i: PullRequestInput, facts: Facts): PullRequestEffects {
  const { policy, pr } = i;
  const out: PullRequestEffects = { approval: 'keep', labels: { add: [], remove: [] }, runs: [], replies: [], reason: '' };

  // A TDX approval counts only from an approver, and only for the commit it was given on.
  if (i.labelAdded !== undefined && isTdxLabel(policy, i.labelAdded) && !isSelfLogin(i.botLogin, i.sender) && isTdxApprover(policy, i.sender)) {
    out.approval = 'record';
  }
  if (i.action === 'synchronize' && !policy.tdx.sticky) out.approval = 'clear';
  // As Prow: a repository without presubmits is not katabot's business, except the TDX label: its workflows may
  // gate on it (and on the katabot/tdx-approved status), so it is still kept per commit and to approvers.
  if (i.presubmits.length === 0 && !i.inRepoConfig) return { ...out, labels: { add: [], remove: tdxLabelChanges(i) }, reason: 'no presubmits for this repository' };

  const author = pr.author;
  const decided = planPullRequestEvent({
    action: i.action,
    draft: pr.draft,
    // A getter: closing a PR needs no trust lookup.
    get authorTrusted() {
      return isTrustedUser(policy, i.botLogin, i.owner, author, facts);
    },
    labels: pr.labels,
    ...(i.labelAdded !== undefined ? { labelAdded: i.labelAdded } : {}),
    sender: i.sender,
    botLogin: i.botLogin,
    baseChanged: i.baseChanged,
    mergeable: pr.mergeable,
    policy,
  });
  out.reason = decided.reason;
  if (decided.abort) out.abort = ABORT_DESCRIPTION[i.action] ?? `Aborted by katabot (${i.action}).`;
  out.labels.add = decided.addLabels.filter((l) => !hasLabel(pr.labels, l));
  out.labels.remove = decided.removeLabels.filter((l) => hasLabel(pr.labels, l));
  const labels = applyLabelChanges(pr.labels, out.labels.add, out.labels.remove);
  if (decided.welcome) out.welcome = welcomeMessage({ author, org: i.owner, ignoreOkToTest: policy.ignore_ok_to_test });
  if (decided.draftNotice) out.draftNotice = draftNotice();

  if (decided.build === 'all') {
    let presubmits = i.presubmits;
    // Only trusted PRs build, so the PR's own .prow.yaml may add jobs.
    if (i.inRepoConfig) {
      const inRepo = need(facts.inRepoConfig, { fact: 'inRepoConfig' });
      if ('error' in inRepo) out.replies.push({ kind: 'in-repo-config', text: inRepoConfigReply(inRepo.error) });
      else presubmits = [...presubmits, ...inRepo.presubmits];
    }
    const changed = needsChangedFiles(presubmits) ? need(facts.changedFiles, { fact: 'changedFiles' }) : [];
    const jobs = selectForTestAll(presubmits, pr.baseRef, changed);
    // This event's own approval (or its push clearing one) counts before the recorded one.
    const approvedSha = (): string | null =>
      out.approval === 'record' ? pr.headSha : out.approval === 'clear' ? null : need(facts.tdxApproval, { fact: 'tdxApproval' });
    const gate = tdxGate(policy, labels, jobs.map((j) => j.presubmit.name), pr.headSha, approvedSha);
    out.runs = jobs.filter((j) => tdxAllows(policy, gate, j.presubmit.name)).map((j) => ({ backend: 'prow', job: j.presubmit.name, presubmit: j.presubmit, traced: false }));
  }

  // Commands in the PR description count when the PR is opened, as Prow's generic comment handling does.
  if (i.action === 'opened' && pr.state === 'open' && i.body.trim() !== '') out.bodyCommands = { labels };
  return out;
}
