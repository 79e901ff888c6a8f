// What a text on a PR (a comment, a review body, the PR body) makes katabot do: Prow's trigger plugin
// (generic-comment.go) plus katabot's /ok-to-test-tdx, /trace and /retest of GitHub Actions. Pure: the handler
// gathers the facts this asks for (src/plan/facts.ts) and carries out the plan.
//
// One pass over the commands, in registry order: each is decided by the policy (src/policy/commands.ts) against
// the PR's labels as the earlier commands of the same text left them; the jobs of all commands are then put
// through the TDX gate once, and an unmergeable PR starts nothing.
import { COMMANDS, parseCommands } from '../commands/registry.ts';
import { commandText } from '../commands/markdown.ts';
import type { ParsedCommand } from '../commands/types.ts';
import type { KatabotConfig } from '../config/types.ts';
import { isBuiltinName } from '../bpf/builtin.ts';
import { repoPackages, selectProbes } from '../bpf/select.ts';
import {
  jobLists,
  needsChangedFiles,
  selectForCommentText,
  selectForRetest,
  selectForTestAll,
  selectForTestManualRequired,
  triggerOf,
  unknownTargets,
  type SelectedJob,
} from '../jobs/select.ts';
import { traceProblem, type TraceProbes } from '../jobs/trace.ts';
import type { Presubmit, ProwConfig } from '../config/prow-types.ts';
import { decideCommand, type CommandDecision } from '../policy/commands.ts';
import { applyLabelChanges } from '../policy/labels.ts';
import { isTdxJob, tdxAllows, tdxGate, tdxGateWhen } from '../policy/tdx.ts';
import type { RequiredTests } from '../dashboard/required.ts';
import { actionsForTargets, actionsListing, actionsRetest, isTdxActionsRun, type ActionsContext, type RetestActions } from './actions.ts';
import { isSelfLogin, pullRequestTrusted } from '../policy/trust.ts';
import {
  actionsJobsHelp,
  ambiguousTargetsReply,
  commandsHelp,
  decisionReply,
  inRepoConfigReply,
  jobListHelp,
  tdxBlockedReply,
  unknownProbesReply,
  unknownTargetsReply,
  unmergeableReply,
  untraceableReply,
} from '../render/replies.ts';
import { isTrustedUser, need, step, type Facts, type PullFacts, type Step } from './facts.ts';
import type { ActionsRun, ActionsTraceRun, JobRun, ProwRun } from './runs.ts';
import { actionsTraceRuns } from './actions-trace.ts';

/** Where a command text came from; part of idempotency keys. */
export type TextSource = 'comment' | 'review' | 'body';

/** What the event itself says, with the config for the repository; no I/O was needed for these. */
export interface CommentInput {
  owner: string;
  repo: string;
  /** The effective policy for this repository. */
  policy: KatabotConfig;
  prow: ProwConfig;
  botLogin: string;
  pr: PullFacts;
  commenter: string;
  body: string;
  source: TextSource;
  /** The central job config's presubmits for this repository. */
  presubmits: readonly Presubmit[];
  /** Prow's in_repo_config is enabled here: trusted PRs add the jobs of their `.prow.yaml`. */
  inRepoConfig: boolean;
  /** Kata's required-tests.yaml (KATABOT_REQUIRED_TESTS): what `/retest-required` re-runs of GitHub Actions. */
  requiredTests?: RequiredTests | undefined;
}

/** One answer on the PR. */
export interface Reply {
  /** What it answers; one reply per kind and text. */
  kind: string;
  text: string;
  /** Answer once per PR, not once per text (an outsider's every comment need not be refused again). */
  oncePerPr?: boolean;
}

/** What /retest's answer covers: GitHub Actions too (`/retest`, when configured), or why they could not be listed. */
export interface RetestAnswer {
  actions: boolean;
  actionsError?: string;
  /** Failed runs held back by the TDX gate, and runs whose optional failed jobs re-run too. */
  actionsHeld?: RetestActions['held'];
  actionsAlsoOptional?: RetestActions['alsoOptional'];
}

export interface CommentPlan {
  labels: { add: string[]; remove: string[] };
  /** Record an approver's TDX approval for the head commit, before anything starts. */
  approveTdx: boolean;
  runs: JobRun[];
  /**
   * `/retest` or `/retest-required`: answer with what was re-run, from the runs' outcomes. Its ProwJobs (and those
   * of every other command in the same text, as Prow does) carry the retest label.
   */
  retest?: RetestAnswer;
  replies: Reply[];
  /** For metrics: each command and what came of it. */
  commands: Array<{ command: string; outcome: 'run' | 'denied' | 'noop' }>;
}

/**
 * The commands a text carries, a job's custom `trigger` counting as `/test`. Cheap and pure, so callers can drop
 * ordinary comments before any API call.
 */
export function commandsIn(presubmits: readonly Presubmit[], body: string): ParsedCommand[] {
  const commands = parseCommands(body);
  // Jobs with a custom `trigger` may be started by text that is no katabot command.
  if (commands.some((c) => c.name === 'test')) return commands;
  const text = commandText(body);
  const customTriggered = presubmits.some((p) => p.trigger !== undefined && triggerOf(p).test(text));
  return customTriggered ? [...commands, { name: 'test', targets: [] }] : commands;
}

/** What a comment delivery says before any API call. */
export interface CommentDelivery {
  action: string;
  /** The issue is a pull request. */
  onPullRequest: boolean;
  /** The state, as the payload has it. */
  state: string;
  commenter: string;
  body: string;
}

/**
 * Whether a comment delivery can make katabot do anything (Prow's trigger filters the same way): a newly created
 * comment (edits never trigger) on an open PR, not the bot's own (it could echo commands back), that carries a
 * command. With in-repo config, a job of the PR's own `.prow.yaml` may have a custom trigger, so any comment counts.
 */
export function commentNeedsWork(d: CommentDelivery, ctx: { botLogin: string; serves?: boolean; presubmits: readonly Presubmit[]; inRepoConfig: boolean }): boolean {
  if (ctx.serves === false) return false;
  if (d.action !== 'created' || !d.onPullRequest || d.state !== 'open') return false;
  if (isSelfLogin(ctx.botLogin, d.commenter)) return false;
  return ctx.inRepoConfig || commandsIn(ctx.presubmits, d.body).length > 0;
}

export function planComment(input: CommentInput, facts: Facts): Step<CommentPlan> {
  return step(() => plan(input, facts));
}

function plan(i: CommentInput, facts: Facts): CommentPlan {
  const { pr, policy } = i;
  const out: CommentPlan = { labels: { add: [], remove: [] }, approveTdx: false, runs: [], replies: [], commands: [] };
  // The PR may have closed since the comment was written.
  if (pr.state !== 'open') return out;
  const central = commandsIn(i.presubmits, i.body);
  // With in-repo config, a job of the PR's own `.prow.yaml` may have a custom trigger this text matches.
  if (central.length === 0 && !i.inRepoConfig) return out;

  const trusted = (login: string): boolean => isTrustedUser(policy, i.botLogin, i.owner, login, facts);
  // Trust is asked for only by the commands that need it (/help needs none), and the author's only when the
  // commenter's does not settle it. Getters, so building a context asks for nothing (never spread one).
  const prTrusted = (): boolean => pullRequestTrusted(trusted(pr.author), pr.labels);
  const contextFor = (labels: readonly string[]) => ({
    policy,
    commenter: i.commenter,
    get commenterTrusted() {
      return trusted(i.commenter);
    },
    get prTrusted() {
      return prTrusted();
    },
    labels,
  });

  // Trusted PRs bring their own jobs when in-repo config is on (Prow reads .prow.yaml only for trusted PRs).
  let presubmits = i.presubmits;
  if (i.inRepoConfig && prTrusted()) {
    const inRepo = need(facts.inRepoConfig, { fact: 'inRepoConfig' });
    if ('error' in inRepo) out.replies.push({ kind: 'in-repo-config', text: inRepoConfigReply(inRepo.error) });
    else presubmits = [...presubmits, ...inRepo.presubmits];
  }
  const commands = i.inRepoConfig ? commandsIn(presubmits, i.body) : central;
  const text = commandText(i.body);
  const changed = (): readonly string[] => (needsChangedFiles(presubmits) ? need(facts.changedFiles, { fact: 'changedFiles' }) : []);
  const help = (reason?: string): string => jobListHelp({ org: i.owner, repo: i.repo, branch: pr.baseRef, ...jobLists(presubmits, pr.baseRef), ...(reason ? { reason } : {}) });

  let labels = [...pr.labels];
  const selected = new Map<string, ProwRun>();
  /** Jobs asked for by name: a TDX one that cannot run on this head gets a reply saying why. */
  const byName = new Set<string>();
  let retest: 'retest' | 'retest-required' | undefined;
  // GitHub Actions runs `/test` named (jobs of the head, dispatched workflows), gated with the Prow jobs below.
  const actionRuns: ActionsRun[] = [];
  const actx = (): ActionsContext => ({
    owner: i.owner,
    repo: i.repo,
    policy,
    pr,
    labels,
    approvedSha: () => (out.approveTdx ? pr.headSha : need(facts.tdxApproval, { fact: 'tdxApproval' })),
    requiredTests: i.requiredTests,
  });
  /** `/trace <job>` of GitHub Actions jobs traced by the katabot action (src/plan/actions-trace.ts). */
  const actionsTraced: ActionsTraceRun[] = [];
  const add = (jobs: readonly SelectedJob[], traced = false, probes?: TraceProbes): void => {
    for (const { presubmit } of jobs) {
      const prev = selected.get(presubmit.name);
      const run: ProwRun = { backend: 'prow', job: presubmit.name, presubmit, traced: traced || (prev?.traced ?? false) };
      // A later /trace --probe decides the probes of a job traced twice in one text.
      const p = traced ? (probes ?? prev?.probes) : prev?.probes;
      selected.set(presubmit.name, p ? { ...run, probes: p } : run);
    }
  };
  const reply = (kind: string, text: string, oncePerPr = false): void => {
    if (!out.replies.some((r) => r.kind === kind)) out.replies.push(oncePerPr ? { kind, text, oncePerPr } : { kind, text });
  };

  for (const cmd of commands) {
    const decision: CommandDecision = decideCommand(cmd, contextFor(labels));
    labels = applyLabelChanges(labels, decision.addLabels, decision.removeLabels);
    for (const l of decision.addLabels) addLabel(out, l);
    for (const l of decision.removeLabels) removeLabel(out, l);
    if (decision.reply) {
      // An outsider is told once per PR, not on every comment.
      reply(decision.reply, decisionReply(decision.reply, { org: i.owner, ignoreOkToTest: policy.ignore_ok_to_test, tdxApprovers: policy.tdx.approvers }), decision.reply === 'untrusted');
    }
    out.commands.push({ command: cmd.name, outcome: decision.run ? 'run' : decision.reply ? 'denied' : 'noop' });
    if (!decision.run) continue;

    switch (cmd.name) {
      case 'test': {
        // Named jobs are forced: their change rules do not decide, so no PR files are needed.
        const forced = selectForCommentText(presubmits, pr.baseRef, text);
        add(forced);
        for (const t of cmd.targets) byName.add(t);
        const prowUnknown = unknownTargets(cmd.targets, presubmits, pr.baseRef);
        // Targets Prow does not know may name GitHub Actions jobs of the head, or workflows to dispatch.
        const viaActions = prowUnknown.unknown.length > 0 ? actionsForTargets(prowUnknown.unknown, actx(), facts) : undefined;
        for (const r of viaActions?.runs ?? []) if (!actionRuns.some((x) => x.kind === r.kind && x.job === r.job)) actionRuns.push(r);
        const unknown = viaActions ? viaActions.unknown : prowUnknown.unknown;
        const suggestions = { ...prowUnknown.suggestions };
        for (const [t, more] of Object.entries(viaActions?.suggestions ?? {})) suggestions[t] = [...new Set([...(suggestions[t] ?? []), ...more])].slice(0, 3);
        if (viaActions && Object.keys(viaActions.ambiguous).length > 0) reply('ambiguous-targets', ambiguousTargetsReply(viaActions.ambiguous));
        if (unknown.length > 0) {
          const note = viaActions?.error ? `\n\nGitHub Actions jobs could not be listed: ${viaActions.error}.` : '';
          reply('unknown-targets', unknownTargetsReply(unknown, suggestions, { org: i.owner, repo: i.repo, branch: pr.baseRef, ...jobLists(presubmits, pr.baseRef) }) + note);
        } else if (forced.length === 0 && cmd.targets.length > 0 && !viaActions) {
          reply('test-help', help('The specified target(s) for `/test` were not found.'));
        }
        break;
      }
      case 'test-all':
      case 'ok-to-test': {
        const jobs = selectForTestAll(presubmits, pr.baseRef, changed());
        if (jobs.length === 0 && cmd.name === 'test-all') reply('test-help', help('No jobs can be run with `/test all`.'));
        add(jobs);
        break;
      }
      case 'test-manual-required':
        add(selectForTestManualRequired(presubmits, pr.baseRef));
        break;
      case 'ok-to-test-tdx': {
        const jobs = selectForTestAll(presubmits, pr.baseRef, changed());
        // An approver vouching for an untrusted PR also makes it ok-to-test: run its automatic jobs too.
        add(decision.impliesOkToTest ? jobs : jobs.filter((j) => isTdxJob(policy, j.presubmit.name)));
        out.approveTdx = true;
        break;
      }
      case 'retest':
      case 'retest-required': {
        const results = need(facts.results, { fact: 'results' });
        add(selectForRetest(presubmits, pr.baseRef, changed(), results, { requiredOnly: cmd.name === 'retest-required' }));
        if (retest !== 'retest') retest = cmd.name;
        break;
      }
      case 'trace': {
        const named = cmd.targets.length
          ? presubmits.filter((p) => cmd.targets.includes(p.name)).map((presubmit) => ({ presubmit, forced: true }))
          : selectForTestAll(presubmits, pr.baseRef, changed());
        const actions = actionsTraceRuns(policy.trace.actions, cmd.targets, pr);
        for (const r of actions.runs) if (!actionsTraced.some((a) => a.job === r.job)) actionsTraced.push(r);
        const { unknown, suggestions } = unknownTargets(cmd.targets.filter((t) => !actions.claimed.includes(t)), presubmits, pr.baseRef);
        if (unknown.length > 0) reply('unknown-targets', unknownTargetsReply(unknown, suggestions, { org: i.owner, repo: i.repo, branch: pr.baseRef, ...jobLists(presubmits, pr.baseRef) }));
        for (const t of cmd.targets) byName.add(t);
        const untraceable = named.flatMap((j) => {
          const problem = traceProblem(j.presubmit, i.prow);
          return problem ? [{ job: j.presubmit.name, problem }] : [];
        });
        if (untraceable.length > 0) reply('untraceable', untraceableReply(untraceable));
        const traceable = named.filter((j) => !untraceable.some((u) => u.job === j.presubmit.name));
        const asked = cmd.probes ?? [];
        if (asked.length === 0) {
          add(traceable, true);
          break;
        }
        // Built-in probes alone need nothing from the repository; packages come from the base branch only.
        const repo = asked.every((p) => isBuiltinName(p)) ? { packages: [], problems: [] } : repoPackages(need(facts.probeDirs, { fact: 'probeDirs' }));
        const sel = selectProbes(asked, repo.packages);
        if (sel.unknown.length > 0 || sel.problems.length > 0) {
          // Broken package directories are named too: one of them may be the probe that was asked for.
          reply('unknown-probes', unknownProbesReply({ unknown: sel.unknown, known: sel.known, problems: [...sel.problems, ...repo.problems], baseRef: pr.baseRef }));
          break;
        }
        add(traceable, true, { probes: sel.probes, packages: sel.packages });
        break;
      }
      case 'test-help': {
        // Prow's list, then what GitHub Actions can run on this commit.
        const listed = actionsJobsHelp(actionsListing(actx(), facts));
        reply('test-help', help(cmd.reason === 'empty' ? 'The `/test` command needs one or more targets.' : undefined) + (listed ? `\n\n${listed}` : ''));
        break;
      }
      case 'retest-with-target':
        reply('test-help', help('The `/retest` command does not accept any targets.'));
        break;
      case 'help':
        reply('help', commandsHelp(COMMANDS));
        break;
    }
  }

  // The TDX gate, against the labels as this text leaves them; an approval given in this text counts.
  const names = [...selected.keys()];
  const gate = tdxGate(policy, labels, names, pr.headSha, () => (out.approveTdx ? pr.headSha : need(facts.tdxApproval, { fact: 'tdxApproval' })));
  const runs: JobRun[] = [...selected.values()].filter((r) => tdxAllows(policy, gate, r.job));
  runs.push(...actionsTraced);
  const blocked = names.filter((name) => byName.has(name) && !tdxAllows(policy, gate, name));
  // The same gate for GitHub Actions jobs and dispatched workflows named by /test.
  const actionsTdx = actionRuns.filter((r) => isTdxActionsRun(policy, r));
  const actionsGate = actionsTdx.length > 0 ? tdxGateWhen(policy, labels, true, pr.headSha, actx().approvedSha) : { approved: false, stale: false };
  runs.push(...actionRuns.filter((r) => actionsGate.approved || !actionsTdx.includes(r)));
  if (!actionsGate.approved) blocked.push(...actionsTdx.map((r) => r.job));
  if (blocked.length > 0) {
    reply('tdx-blocked', tdxBlockedReply(blocked.sort(), policy.tdx.label, { sha: pr.headSha, approvers: policy.tdx.approvers, stale: gate.stale || actionsGate.stale }));
  }

  if (runs.length > 0 && pr.mergeable === false) {
    reply('unmergeable', unmergeableReply());
    return out;
  }
  out.runs = runs;
  if (retest) {
    // /retest and /retest-required also re-run the failed (required) jobs of the head commit's failed GitHub Actions runs.
    out.retest = { actions: policy.retest.github_actions };
    if (out.retest.actions) {
      const a = actionsRetest(retest, actx(), facts);
      if ('error' in a) out.retest.actionsError = a.error;
      else {
        out.runs.push(...a.runs);
        if (a.held.length) out.retest.actionsHeld = a.held;
        if (a.alsoOptional.length) out.retest.actionsAlsoOptional = a.alsoOptional;
      }
    }
  }
  return out;
}

function addLabel(p: CommentPlan, label: string): void {
  p.labels.remove = p.labels.remove.filter((l) => l !== label);
  if (!p.labels.add.includes(label)) p.labels.add.push(label);
}

function removeLabel(p: CommentPlan, label: string): void {
  p.labels.add = p.labels.add.filter((l) => l !== label);
  if (!p.labels.remove.includes(label)) p.labels.remove.push(label);
}
