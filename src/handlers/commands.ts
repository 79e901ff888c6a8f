// Orchestrates slash commands from any text a PR can carry (a comment, a review body, the PR body):
// parse → decide (trust) → select jobs → effects (labels, ProwJobs, check runs, replies).
import { httpStatus, type GitHub, type PullFacts, type WorkflowRunRef } from '../adapters/github.ts';
import { PROBES_DIR } from '../adapters/bpf-packages.ts';
import { exactlyOnce } from '../adapters/store.ts';
import { isBuiltinName } from '../bpf/builtin.ts';
import { PackageError, packageFromFiles, type BpfPackage } from '../bpf/package.ts';
import { selectProbes } from '../bpf/select.ts';
import { commandText } from '../commands/markdown.ts';
import { COMMANDS, parseCommands } from '../commands/registry.ts';
import type { ParsedCommand } from '../commands/types.ts';
import { decideCommand, type ReplyKind } from '../policy/commands.ts';
import { isTdxJob } from '../policy/tdx.ts';
import { pullRequestTrusted } from '../policy/trust.ts';
import {
  jobLists,
  needsChangedFiles,
  presubmitsFor,
  selectForCommentText,
  selectForRetest,
  selectForTestAll,
  triggerOf,
  unknownTargets,
  type SelectedJob,
} from '../jobs/select.ts';
import type { Presubmit } from '../jobs/types.ts';
import {
  commandsHelp,
  formatResponse,
  jobListHelp,
  cancelUntrustedReply,
  okToTestIgnoredReply,
  retestReply,
  tdxBlockedReply,
  tdxNotApproverReply,
  tdxUntrustedPrReply,
  traceUntrustedReply,
  unknownProbesReply,
  unknownTargetsReply,
  untrustedReply,
} from '../report/replies.ts';
import { RECORD_TTL_SECONDS, type HandlerDeps } from './deps.ts';
import { runJobs, type JobRequest } from './run-jobs.ts';
import { isTrusted } from './trust.ts';
import { tdxApproval, tdxApprovalKey } from './tdx.ts';

export interface CommandInput {
  pr: PullFacts;
  commenter: string;
  body: string;
  /** Link to the comment/review/PR, quoted in replies. */
  url: string;
  delivery: string;
  /** Where the text came from; part of idempotency keys. */
  source: 'comment' | 'review' | 'body';
}

/**
 * The commands a text carries for this repo, a job's custom `trigger` counting as `/test`. Pure over the
 * config, so callers can drop ordinary comments before any GitHub call.
 */
export function commandsIn(deps: HandlerDeps, owner: string, repo: string, body: string): { commands: ParsedCommand[]; text: string; presubmits: Presubmit[] } {
  const presubmits = presubmitsFor(deps.config().jobs, owner, repo);
  const text = commandText(body);
  let commands = parseCommands(body);
  // Jobs with a custom `trigger` may be started by text that is no katabot command.
  const customTriggered = presubmits.some((p) => p.trigger !== undefined && triggerOf(p).test(text));
  if (customTriggered && !commands.some((c) => c.name === 'test')) commands = [...commands, { name: 'test', targets: [] }];
  return { commands, text, presubmits };
}

export async function handleCommands(deps: HandlerDeps, gh: GitHub, input: CommandInput): Promise<void> {
  const { pr } = input;
  const policy = deps.config().katabot;
  const { commands, text, presubmits } = commandsIn(deps, gh.owner, gh.repo, input.body);
  if (commands.length === 0) return;

  const botLogin = await deps.botLogin();
  const commenterTrusted = await isTrusted(gh, policy, botLogin, input.commenter);
  const labels = new Set(pr.labels);
  // The PR author's trust is only needed when the commenter alone does not settle it.
  const authorTrusted =
    commenterTrusted && sameUser(input.commenter, pr.author) ? true : await isTrusted(gh, policy, botLogin, pr.author);
  const prTrusted = pullRequestTrusted(authorTrusted, [...labels]);

  const addLabels = new Set<string>();
  const removeLabels = new Set<string>();
  const replies: Array<{ key: string; text: string; oncePerPr?: boolean }> = [];
  const selected = new Map<string, JobRequest>();
  let retest = false;
  // Jobs asked for by name: a TDX one that cannot run on this head gets a reply saying why.
  const byName = new Set<string>();
  let retestCommand: 'retest' | 'retest-required' | undefined;
  let changed: string[] | undefined;
  const changes = async (jobs: readonly Presubmit[]) => {
    if (changed === undefined && needsChangedFiles(jobs)) changed = await gh.changedFiles(pr.number);
    return changed ?? [];
  };
  const add = (jobs: readonly SelectedJob[], traced = false, probes?: JobRequest['probes']) => {
    for (const { presubmit } of jobs) {
      const prev = selected.get(presubmit.name);
      const req: JobRequest = { presubmit, traced: traced || (prev?.traced ?? false) };
      // A later /trace --probe decides the probes of a job traced twice in one text.
      const p = traced ? (probes ?? prev?.probes) : prev?.probes;
      selected.set(presubmit.name, p ? { ...req, probes: p } : req);
    }
  };
  let repoPackages: { packages: BpfPackage[]; problems: string[] } | undefined;
  // Read once per text, from the base branch only: the tracer sidecar is privileged, so the PR head must not
  // choose what it runs.
  const basePackages = async () => {
    if (repoPackages) return repoPackages;
    const found: { packages: BpfPackage[]; problems: string[] } = { packages: [], problems: [] };
    for (const dir of await gh.probePackageFiles(PROBES_DIR, pr.baseRef)) {
      try {
        const pkg = packageFromFiles(dir.files, { kind: 'repo', path: dir.path }, dir.path);
        if (isBuiltinName(pkg.meta.name)) throw new PackageError(dir.path, [`name ${pkg.meta.name} is reserved for a built-in package`]);
        found.packages.push(pkg);
      } catch (err) {
        if (!(err instanceof PackageError)) throw err;
        found.problems.push(err.message);
      }
    }
    return (repoPackages = found);
  };

  for (const cmd of commands) {
    const decision = decideCommand(cmd, {
      policy,
      commenter: input.commenter,
      commenterTrusted,
      prTrusted,
      labels: [...labels],
    });
    for (const l of decision.addLabels) {
      addLabels.add(l);
      removeLabels.delete(l);
      labels.add(l);
    }
    for (const l of decision.removeLabels) {
      removeLabels.add(l);
      addLabels.delete(l);
      labels.delete(l);
    }
    if (decision.reply) replies.push(replyFor(decision.reply, policy.tdx.approvers, gh.owner, policy.ignore_ok_to_test));
    deps.metrics.commands.inc({ command: cmd.name, outcome: decision.run ? 'run' : decision.reply ? 'denied' : 'noop' });
    if (!decision.run) continue;

    switch (cmd.name) {
      case 'test': {
        // Named jobs are forced: their change rules do not decide, so no PR files are needed.
        const forced = selectForCommentText(presubmits, pr.baseRef, text);
        add(forced);
        for (const t of cmd.targets) byName.add(t);
        const { unknown, suggestions } = unknownTargets(cmd.targets, presubmits, pr.baseRef);
        if (unknown.length > 0) {
          replies.push({ key: 'unknown-targets', text: unknownTargetsReply(unknown, suggestions) });
        } else if (forced.length === 0 && cmd.targets.length > 0) {
          replies.push({ key: 'test-help', text: helpFor(presubmits, gh, pr, 'The specified target(s) for `/test` were not found.') });
        }
        break;
      }
      case 'test-all':
      case 'ok-to-test': {
        const jobs = selectForTestAll(presubmits, pr.baseRef, await changes(presubmits));
        if (jobs.length === 0 && cmd.name === 'test-all') {
          replies.push({ key: 'test-help', text: helpFor(presubmits, gh, pr, 'No jobs can be run with `/test all`.') });
        }
        add(jobs);
        break;
      }
      case 'ok-to-test-tdx': {
        const jobs = selectForTestAll(presubmits, pr.baseRef, await changes(presubmits));
        // An approver vouching for an untrusted PR also makes it ok-to-test: run its automatic jobs too.
        add(decision.impliesOkToTest ? jobs : jobs.filter((j) => isTdxJob(policy, j.presubmit.name)));
        await deps.store.set(tdxApprovalKey(gh, pr.number), pr.headSha, RECORD_TTL_SECONDS);
        break;
      }
      case 'retest':
      case 'retest-required': {
        const results = await gh.results(pr.headSha);
        add(
          selectForRetest(presubmits, pr.baseRef, await changes(presubmits), results, {
            requiredOnly: cmd.name === 'retest-required',
          }),
        );
        retest = true;
        if (retestCommand !== 'retest') retestCommand = cmd.name;
        break;
      }
      case 'trace': {
        const named = cmd.targets.length
          ? presubmits.filter((p) => cmd.targets.includes(p.name)).map((presubmit) => ({ presubmit, forced: true }))
          : selectForTestAll(presubmits, pr.baseRef, await changes(presubmits));
        const { unknown, suggestions } = unknownTargets(cmd.targets, presubmits, pr.baseRef);
        if (unknown.length > 0) replies.push({ key: 'unknown-targets', text: unknownTargetsReply(unknown, suggestions) });
        for (const t of cmd.targets) byName.add(t);
        const asked = cmd.probes ?? [];
        if (asked.length === 0) {
          add(named, true);
          break;
        }
        // Built-in probes alone need nothing from the repository.
        const repo = asked.every((p) => isBuiltinName(p)) ? { packages: [], problems: [] } : await basePackages();
        const sel = selectProbes(asked, repo.packages);
        if (sel.unknown.length > 0 || sel.problems.length > 0) {
          // Broken package directories are named too: one of them may be the probe that was asked for.
          replies.push({
            key: 'unknown-probes',
            text: unknownProbesReply({ unknown: sel.unknown, known: sel.known, problems: [...sel.problems, ...repo.problems], baseRef: pr.baseRef }),
          });
          break;
        }
        add(named, true, { probes: sel.probes, packages: sel.packages });
        break;
      }
      case 'test-help':
        replies.push({
          key: 'test-help',
          text: helpFor(presubmits, gh, pr, cmd.reason === 'empty' ? 'The `/test` command needs one or more targets.' : undefined),
        });
        break;
      case 'retest-with-target':
        replies.push({ key: 'test-help', text: helpFor(presubmits, gh, pr, 'The `/retest` command does not accept any targets.') });
        break;
      case 'help':
        replies.push({ key: 'help', text: commandsHelp(COMMANDS) });
        break;
    }
  }

  await deps.store.withLock(`pr:${gh.fullName}#${pr.number}`, 30_000, async () => {
    if (addLabels.size) await gh.addLabels(pr.number, [...addLabels]);
    for (const l of removeLabels) await gh.removeLabel(pr.number, l);

    const approval = await tdxApproval(deps, gh, pr, [...labels]);
    const jobs = [...selected.values()].filter((j) => approval.allows(j.presubmit.name));
    const blocked = [...selected.keys()].filter((name) => byName.has(name) && !approval.allows(name)).sort();
    if (blocked.length > 0) {
      replies.push({
        key: 'tdx-blocked',
        text: tdxBlockedReply(blocked, policy.tdx.label, { sha: pr.headSha, approvers: [...policy.tdx.approvers], stale: approval.stale }),
      });
    }
    if (jobs.length > 0 && pr.mergeable === false) {
      replies.push({ key: 'unmergeable', text: 'This PR has merge conflicts, so no jobs were started. Rebase it and try again.' });
    } else {
      const ran = await runJobs(deps, gh, pr, jobs, { delivery: input.delivery, purpose: input.source, retest });
      if (retestCommand) {
        // /retest also re-runs failed GitHub Actions jobs of the head commit, and says what it re-ran where.
        let actions: WorkflowRunRef[] | undefined;
        let actionsError: string | undefined;
        if (retestCommand === 'retest' && policy.retest.github_actions) {
          try {
            actions = await rerunFailedActions(deps, gh, pr.headSha, input.delivery);
          } catch (err) {
            const code = httpStatus(err);
            actionsError = code === 403 ? 'katabot lacks the `actions: write` permission here' : `GitHub answered ${code ?? (err as Error).message}`;
            deps.log.warn({ pr: pr.number, err: (err as Error).message, status: code }, 'could not re-run GitHub Actions jobs');
          }
        }
        replies.push({
          key: 'retest',
          text: retestReply({
            sha: pr.headSha,
            prow: ran.map((pj) => pj.spec.job),
            ...(actions ? { actions } : {}),
            ...(actionsError ? { actionsError } : {}),
          }),
        });
      }
    }

    for (const r of dedupeReplies(replies)) {
      const key = r.oncePerPr ? `reply:${gh.fullName}#${pr.number}:${r.key}` : `reply:${input.delivery}:${input.source}:${r.key}`;
      const marker = `<!-- katabot:reply ${key} -->`;
      await exactlyOnce(
        deps.store,
        key,
        RECORD_TTL_SECONDS,
        () => gh.comment(pr.number, `${formatResponse(input.commenter, r.text, input.url, input.body)}\n${marker}`),
        () => gh.findComment(pr.number, marker, botLogin),
      );
    }
  });
}

/** Re-runs the failed jobs of the head commit's failed workflow runs, once per run and delivery. */
async function rerunFailedActions(deps: HandlerDeps, gh: GitHub, sha: string, delivery: string): Promise<WorkflowRunRef[]> {
  const runs = await gh.failedWorkflowRuns(sha);
  for (const run of runs) {
    await exactlyOnce(deps.store, `actions-rerun:${delivery}:${run.id}`, RECORD_TTL_SECONDS, async () => {
      await gh.rerunFailedJobs(run.id);
      return true;
    });
  }
  if (runs.length) deps.log.info({ sha, runs: runs.map((r) => r.id) }, 're-ran failed GitHub Actions jobs');
  return runs;
}

function helpFor(presubmits: readonly Presubmit[], gh: GitHub, pr: PullFacts, reason?: string): string {
  const lists = jobLists(presubmits, pr.baseRef);
  return jobListHelp({ org: gh.owner, repo: gh.repo, branch: pr.baseRef, ...lists, reason });
}

function replyFor(
  kind: ReplyKind,
  approvers: readonly string[],
  org: string,
  ignoreOkToTest: boolean,
): { key: string; text: string; oncePerPr?: boolean } {
  switch (kind) {
    case 'untrusted':
      // Reply once per PR, not on every comment an outsider makes.
      return { key: 'untrusted', text: untrustedReply({ ignoreOkToTest, org }), oncePerPr: true };
    case 'ok-to-test-ignored':
      return { key: kind, text: okToTestIgnoredReply() };
    case 'tdx-not-approver':
      return { key: kind, text: tdxNotApproverReply([...approvers]) };
    case 'tdx-untrusted-pr':
      return { key: kind, text: tdxUntrustedPrReply() };
    case 'cancel-untrusted':
      return { key: kind, text: cancelUntrustedReply() };
    case 'trace-untrusted':
      return { key: kind, text: traceUntrustedReply() };
  }
}

function dedupeReplies<T extends { key: string }>(replies: T[]): T[] {
  const seen = new Set<string>();
  return replies.filter((r) => !seen.has(r.key) && seen.add(r.key));
}

function sameUser(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export type { ParsedCommand };
