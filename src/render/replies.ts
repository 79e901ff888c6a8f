// Markdown for every comment katabot posts on a PR. Pure: no I/O.
//
// Texts carry no marker: the shell posts each with exactly one, from src/render/markers.ts.
import type { CommandSpec } from '../commands/types.ts';
import type { ReplyKind } from '../policy/commands.ts';

/** Footer in place of Prow's AboutThisBotWithoutCommands. */
export const ABOUT_THIS_BOT =
  'Instructions for interacting with me using PR comments are available by commenting `/help` on its own line.';

/** Prow's ShouldRespondWithHelp notes, for jobListHelp's `reason`. */
export const HELP_NOTES = {
  testWithoutTarget: 'The `/test` command needs one or more targets.\n',
  retestWithTarget: 'The `/retest` command does not accept any targets.\n',
  targetNotFound: 'The specified target(s) for `/test` were not found.\n',
  noTestAllJobs: 'No jobs can be run with `/test all`.\n',
} as const;

/** Longest quoted comment in a reply; GitHub rejects comments over 65536 characters. */
export const MAX_QUOTE_CHARS = 4000;

/** Breaks @mentions (users and teams) so quoting a comment does not notify anyone again. */
function defuseMentions(text: string): string {
  return text.replace(/(^|[^A-Za-z0-9`])@(?=[A-Za-z0-9])/g, '$1@\u200b');
}

/** An inline code span holding `text` verbatim (CommonMark: fence with a longer backtick run). */
export function code(text: string): string {
  const clean = text.replace(/[\r\n]+/g, ' ');
  let longest = 0;
  for (const m of clean.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = '`'.repeat(longest + 1);
  const pad = clean.startsWith('`') || clean.endsWith('`') || clean.trim() === '' ? ' ' : '';
  return `${fence}${pad}${clean}${pad}${fence}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max) + '…';
}

/**
 * Prow's FormatResponseRaw: "@user: reply", then a <details> block quoting the comment being answered
 * and the instructions footer. The quote is cut to MAX_QUOTE_CHARS and its @mentions are defused.
 */
export function formatResponse(user: string, reply: string, commentUrl: string, quotedBody: string): string {
  const body = truncate(quotedBody.replace(/\r\n?/g, '\n'), MAX_QUOTE_CHARS);
  const quoted = defuseMentions(body)
    .split('\n')
    .map((l) => '>' + l)
    .join('\n');
  const reason = `In response to [this](${commentUrl}):\n\n${quoted}\n`;
  return `@${user}: ${reply}\n\n<details>\n\n${reason}\n\n${ABOUT_THIS_BOT}\n</details>`;
}

export interface WelcomeOptions {
  author: string;
  org: string;
  ignoreOkToTest: boolean;
  /** GitHub host for links; default github.com. */
  host?: string;
  /** Where regular contributors ask to join; default the org's people page. */
  joinOrgUrl?: string;
}

/** Prow's welcomeMsg for an untrusted author's new PR. */
export function welcomeMessage(o: WelcomeOptions): string {
  const host = o.host ?? 'github.com';
  const people = `https://${host}/orgs/${o.org}/people`;
  return o.ignoreOkToTest
    ? `Hi @${o.author}. Thanks for your PR.\n\n` +
      'PRs from untrusted users cannot be marked as trusted with `/ok-to-test` in this repo meaning untrusted PR authors can never trigger tests themselves. Collaborators can still trigger tests on the PR using `/test all`.\n\n' +
      'Comment `/help` on its own line to list the commands I understand.'
    : `Hi @${o.author}. Thanks for your PR.\n\n` +
      `I'm waiting for a [${o.org}](${people}) member to verify that this patch is reasonable to test. If it is, they should reply with \`/ok-to-test\` on its own line. Until that is done, I will not automatically test new commits in this PR, but the usual testing commands by org members will still work. Regular contributors should [join the org](${o.joinOrgUrl ?? people}) to skip this step.\n\n` +
      'Once the patch is verified, the new status will be reflected by the `ok-to-test` label.\n\n' +
      'Comment `/help` on its own line to list the commands I understand.';
}

/**
 * Prow's reply to a command from an untrusted user on an untrusted PR (wrap with formatResponse).
 * `org`, when given, names an org whose members can vouch for the PR.
 */
export function untrustedReply(o: { ignoreOkToTest: boolean; org?: string }): string {
  return o.ignoreOkToTest
    ? 'PRs from untrusted users cannot be marked as trusted with `/ok-to-test` in this repo meaning untrusted PR authors can never trigger tests themselves. Collaborators can still trigger tests on the PR using `/test`.'
    : 'Cannot trigger testing until a trusted user reviews the PR and leaves an `/ok-to-test` message.' +
        (o.org ? ` A member of ${code(o.org)} can do that.` : '');
}

/** /ok-to-test (or cancel) while ignore_ok_to_test is set (wrap with formatResponse). */
export function okToTestIgnoredReply(): string {
  return '`/ok-to-test` is disabled in this repo: PRs from untrusted users cannot be marked as trusted. Collaborators can still trigger tests on the PR using `/test all` or `/test <job>`.';
}

/** Prow's reply to /ok-to-test cancel from an untrusted user (wrap with formatResponse). */
export function cancelUntrustedReply(): string {
  return 'Only trusted users can revoke `/ok-to-test`.';
}

/** /ok-to-test-tdx from someone who is not a TDX approver (wrap with formatResponse). Does not @-mention approvers. */
export function tdxNotApproverReply(approvers: readonly string[]): string {
  const who =
    approvers.length === 0
      ? 'No TDX approvers are configured, so TDX jobs cannot be approved in this repo.'
      : `The TDX approvers are: ${approvers.map(code).join(', ')}.`;
  return `Only TDX approvers can use \`/ok-to-test-tdx\`: TDX jobs run on confidential hardware and are approved commit by commit. ${who}`;
}

/** /ok-to-test-tdx by an approver on an untrusted PR while ignore_ok_to_test is set (wrap with formatResponse). */
export function tdxUntrustedPrReply(): string {
  return 'TDX jobs only run on trusted PRs, and PRs from untrusted users cannot be marked as trusted in this repo (`/ok-to-test` is disabled). Nothing was started.';
}

/**
 * TDX jobs were asked for by name, but the head commit has no approval: no label, or a label given for an earlier
 * commit (wrap with formatResponse).
 */
export function tdxBlockedReply(jobs: readonly string[], label: string, facts: { sha: string; approvers: readonly string[]; stale: boolean }): string {
  const list = jobs.slice(0, 20).map(code).join(', ') + (jobs.length > 20 ? `, and ${jobs.length - 20} more` : '');
  const why = facts.stale
    ? `The ${code(label)} label was given for an earlier commit, and approval is per commit: a TDX approver needs to say \`/ok-to-test-tdx\` again for ${code(facts.sha.slice(0, 7))}.`
    : `They need a TDX approver's \`/ok-to-test-tdx\` (or the ${code(label)} label) for this commit, ${code(facts.sha.slice(0, 7))}.`;
  const who = facts.approvers.length ? ` The TDX approvers are: ${facts.approvers.map(code).join(', ')}.` : ' No TDX approvers are configured in this repo.';
  return `These jobs run on confidential (TDX) hardware and were not started: ${list}. ${why}${who}`;
}

/** /trace from an untrusted user or on an untrusted PR (wrap with formatResponse). */
export function traceUntrustedReply(): string {
  return '`/trace` runs a privileged tracer next to the job, so it needs a trusted user on a trusted PR (author trusted, or the `ok-to-test` label).';
}

export interface RetestSummary {
  /** The head commit the reruns are for. */
  sha: string;
  /** Prow jobs started. */
  prow: readonly string[];
  /** GitHub Actions workflow runs whose failed jobs were re-run; undefined when Actions were not asked. */
  actions?: ReadonlyArray<{ name: string; url: string }>;
  /** Why Actions could not be re-run (e.g. a missing permission). */
  actionsError?: string;
  /** Failed runs not re-run: their failed jobs include TDX jobs without the head's approval. */
  actionsHeld?: ReadonlyArray<{ name: string; url: string; tdx: readonly string[]; others: readonly string[] }>;
  /** Runs re-run whole, so their optional failed jobs run again too. */
  actionsAlsoOptional?: ReadonlyArray<{ name: string; url: string; jobs: readonly string[] }>;
}

function listed(names: readonly string[], max = 10): string {
  return names.slice(0, max).map(code).join(', ') + (names.length > max ? `, and ${names.length - max} more` : '');
}

function link(name: string, url: string): string {
  return `[${name.replace(/[[\]]/g, '')}](${url})`;
}

/** /retest's answer: what it re-ran on each CI system (wrap with formatResponse). */
export function retestReply(s: RetestSummary): string {
  const lines = [`Re-running the failed jobs of \`${s.sha.slice(0, 12)}\`:`, ''];
  lines.push(s.prow.length ? `- **Prow**: ${s.prow.map(code).join(', ')}` : '- **Prow**: nothing to re-run (no failed or missing jobs)');
  if (s.actionsError) lines.push(`- **GitHub Actions**: could not re-run failed jobs: ${s.actionsError}`);
  else if (s.actions) {
    lines.push(
      s.actions.length
        ? `- **GitHub Actions**: failed jobs of ${s.actions.map((a) => link(a.name, a.url)).join(', ')}`
        : s.actionsHeld?.length
          ? '- **GitHub Actions**: nothing re-run'
          : '- **GitHub Actions**: no failed workflow runs',
    );
  }
  for (const o of s.actionsAlsoOptional ?? []) {
    lines.push(`  - GitHub re-runs the failed jobs of a run together, so these optional jobs of ${link(o.name, o.url)} run again too: ${listed(o.jobs)}`);
  }
  for (const h of s.actionsHeld ?? []) {
    const others = h.others.length ? ` GitHub re-runs a run's failed jobs together, so ${listed(h.others)} did not run again either.` : '';
    lines.push(
      `  - Not re-run in ${link(h.name, h.url)}: ${listed(h.tdx)} run on confidential (TDX) hardware and this commit has no TDX approval.${others} ` +
        'A TDX approver\'s `/ok-to-test-tdx` approves this commit.',
    );
  }
  return lines.join('\n');
}

/** `/test ?`: the GitHub Actions jobs of the head commit and the workflows `/test` dispatches. */
export function actionsJobsHelp(a: { jobs: readonly string[]; dispatch: readonly string[]; error?: string }): string {
  const parts: string[] = [];
  if (a.error) parts.push(`GitHub Actions jobs could not be listed: ${a.error}.`);
  else if (a.jobs.length > 0) parts.push(`The following commands re-run a GitHub Actions job of this commit:${fencedList(a.jobs.map((j) => `/test ${j}`))}`);
  if (a.dispatch.length > 0) parts.push(`The following commands start a GitHub Actions workflow for this PR:${fencedList(a.dispatch.map((d) => `/test ${d}`))}`);
  return parts.join('\n\n');
}

/** GitHub Actions runs GitHub refused to start, each with its reason (wrap with formatResponse). */
export function refusedActionsReply(refused: ReadonlyArray<{ job: string; url: string; message: string }>): string {
  const lines = refused.slice(0, MAX_UNKNOWN_LISTED).map((r) => `- ${link(r.job, r.url)}: ${truncate(r.message, 500)}`);
  if (refused.length > MAX_UNKNOWN_LISTED) lines.push(`- and ${refused.length - MAX_UNKNOWN_LISTED} more`);
  return `GitHub did not start these GitHub Actions runs:\n\n${lines.join('\n')}\n\nA run that is still going cannot be re-run until it finishes.`;
}

/** `/test` targets that name several GitHub Actions jobs: the names that tell them apart (wrap with formatResponse). */
export function ambiguousTargetsReply(ambiguous: Readonly<Record<string, readonly string[]>>): string {
  const lines = Object.entries(ambiguous)
    .slice(0, MAX_UNKNOWN_LISTED)
    .map(([t, names]) => `- ${code(t)} names ${names.length} jobs: ${listed(names)}`);
  return `Nothing was started for these \`/test\` targets, because each names several GitHub Actions jobs; use a longer name:\n\n${lines.join('\n')}`;
}

/** Prow's draftMsg. */
export function draftNotice(): string {
  return 'Skipping CI for Draft Pull Request.\nIf you want CI signal for your change, please convert it to an actual PR.\nYou can still manually trigger a test run with `/test all`';
}

export interface JobListHelpInput {
  org: string;
  repo: string;
  branch: string;
  /** Rerun commands of required jobs ("/test foo"); a bare job name gets "/test " prepended. */
  required: readonly string[];
  /** Rerun commands of optional jobs. */
  optional: readonly string[];
  /** Names of the jobs `/test all` would run. */
  automatic: readonly string[];
  /** A note first, e.g. one of HELP_NOTES. */
  reason?: string;
}

function sortedSet(items: readonly string[], map: (s: string) => string = (s) => s): string[] {
  return [...new Set(items.map(map))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function fencedList(items: readonly string[]): string {
  return items.map((i) => `\n\`\`\`\n${i.replace(/`{3,}/g, (m) => m.replace(/`/g, "'"))}\n\`\`\``).join('');
}

/** Prow's pjutil.HelpMessage: the /test commands available on this PR (wrap with formatResponse). */
export function jobListHelp(i: JobListHelpInput): string {
  const asCommand = (s: string): string => (s.startsWith('/') ? s : `/test ${s}`);
  const required = sortedSet(i.required, asCommand);
  const optional = sortedSet(i.optional, asCommand);
  const automatic = sortedSet(i.automatic);
  if (required.length + optional.length + automatic.length === 0) {
    return `No presubmit jobs available for ${i.org}/${i.repo}@${i.branch}`;
  }
  let resp = i.reason ?? '';
  if (resp !== '' && !resp.endsWith('\n')) resp += '\n';
  if (required.length > 0) {
    resp += `The following commands are available to trigger required jobs:${fencedList(required)}\n\n`;
  }
  if (optional.length > 0) {
    resp += `The following commands are available to trigger optional jobs:${fencedList(optional)}\n\n`;
  }
  // Prow compares counts, not sets.
  if (automatic.length === optional.length + required.length) {
    resp += 'Use `/test all` to run all jobs.\n';
  } else if (automatic.length > 0) {
    resp += `Use \`/test all\` to run the following jobs that were automatically triggered:${fencedList(automatic)}\n\n`;
  }
  return resp.trimEnd();
}

/** Most unknown targets listed in one reply. */
export const MAX_UNKNOWN_LISTED = 20;

/**
 * `/test` named jobs that do not exist: Prow's "not found" answer with the jobs available on this branch (required
 * and optional), plus katabot's closest names per unknown target. Nothing was started (wrap with formatResponse).
 */
export function unknownTargetsReply(
  unknown: readonly string[],
  suggestions: Readonly<Record<string, readonly string[]>>,
  available?: JobListHelpInput,
): string {
  const shown = unknown.slice(0, MAX_UNKNOWN_LISTED);
  const lines = shown.map((u) => {
    const s = Object.hasOwn(suggestions, u) ? (suggestions[u] ?? []) : [];
    const name = code(truncate(u, 100));
    return s.length === 0 ? `- ${name}: no similar job` : `- ${name}: did you mean ${s.map(code).join(', ')}?`;
  });
  if (unknown.length > shown.length) lines.push(`- and ${unknown.length - shown.length} more`);
  const head = `The specified target(s) for \`/test\` were not found, so nothing was started:\n\n${lines.join('\n')}`;
  if (!available) return `${head}\n\nUse \`/test ?\` to list the jobs available for this PR.`;
  return `${head}\n\n${jobListHelp({ ...available, reason: '' })}`;
}

/** Jobs the CI system refused to start (e.g. the API server's 422), with its message each (wrap with formatResponse). */
export function refusedJobsReply(refused: ReadonlyArray<{ job: string; message: string }>): string {
  const lines = refused.slice(0, MAX_UNKNOWN_LISTED).map((r) => `- ${code(r.job)}: ${code(truncate(r.message, 500))}`);
  if (refused.length > MAX_UNKNOWN_LISTED) lines.push(`- and ${refused.length - MAX_UNKNOWN_LISTED} more`);
  return (
    `These jobs could not be started, because the cluster refused them; the other jobs were started:\n\n${lines.join('\n')}\n\n` +
    'Each has a failed check run that says the same. The job configuration needs fixing; `/test <job>` retries it.'
  );
}

/** `/trace` of jobs that cannot carry the tracer, each with why (wrap with formatResponse). */
export function untraceableReply(jobs: ReadonlyArray<{ job: string; problem: string }>): string {
  const lines = jobs.slice(0, MAX_UNKNOWN_LISTED).map((j) => `- ${code(j.job)}: ${j.problem}`);
  if (jobs.length > MAX_UNKNOWN_LISTED) lines.push(`- and ${jobs.length - MAX_UNKNOWN_LISTED} more`);
  return `These jobs cannot be traced, so they were not started:\n\n${lines.join('\n')}`;
}

/** Jobs asked for on a PR with merge conflicts (wrap with formatResponse). */
export function unmergeableReply(): string {
  return 'This PR has merge conflicts, so no jobs were started. Rebase it and try again.';
}

/** The repository's in-repo job config (`.prow.yaml`) could not be read (wrap with formatResponse). */
export function inRepoConfigReply(e: { file: string; line?: number; message: string }): string {
  const where = e.line !== undefined ? `${e.file}:${e.line}` : e.file;
  return (
    `The jobs in ${code(where)} could not be read, so only the centrally configured jobs were considered: ` +
    `${code(truncate(e.message, 500))}. Fix the file in this PR, or on the base branch.`
  );
}

/** Facts a refusal reply names: who may approve, whom to ask. */
export interface DecisionReplyContext {
  org: string;
  ignoreOkToTest: boolean;
  tdxApprovers: readonly string[];
}

/** The reply to a command the policy refused (src/policy/commands.ts ReplyKind). */
export function decisionReply(kind: ReplyKind, ctx: DecisionReplyContext): string {
  switch (kind) {
    case 'untrusted':
      return untrustedReply({ ignoreOkToTest: ctx.ignoreOkToTest, org: ctx.org });
    case 'ok-to-test-ignored':
      return okToTestIgnoredReply();
    case 'tdx-not-approver':
      return tdxNotApproverReply(ctx.tdxApprovers);
    case 'tdx-untrusted-pr':
      return tdxUntrustedPrReply();
    case 'cancel-untrusted':
      return cancelUntrustedReply();
    case 'trace-untrusted':
      return traceUntrustedReply();
  }
}

/** `/trace --probe …` named probes that do not exist or do not pass the static checks: nothing was traced. */
export function unknownProbesReply(opts: { unknown: readonly string[]; known: readonly string[]; problems: readonly string[]; baseRef: string }): string {
  const lines: string[] = [];
  const shown = opts.unknown.slice(0, MAX_UNKNOWN_LISTED);
  if (shown.length > 0) {
    lines.push(`Unknown probe(s): ${shown.map((u) => code(truncate(u, 100))).join(', ')}${opts.unknown.length > shown.length ? ` and ${opts.unknown.length - shown.length} more` : ''}.`);
    lines.push('', `Known probes (built-in, and \`.katabot/probes\` on ${code(truncate(opts.baseRef, 100))}): ${opts.known.map(code).join(', ') || 'none'}.`);
  }
  if (opts.problems.length > 0) {
    if (lines.length > 0) lines.push('');
    lines.push('Package problems:', '', ...opts.problems.slice(0, 20).map((p) => `- ${code(truncate(p, 300))}`));
    if (opts.problems.length > 20) lines.push(`- and ${opts.problems.length - 20} more`);
  }
  return `The probes asked for with \`/trace --probe\` cannot be used, so no traced job was started:\n\n${lines.join('\n')}\n\nProbes are read from the PR's base branch, never from the PR itself.`;
}

function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/** Answer to /help: every command, who can use it, and examples. */
export function commandsHelp(commands: readonly CommandSpec[]): string {
  const rows = commands.map(
    (c) =>
      `| ${cell(code(c.usage))} | ${cell(c.description)} | ${cell(c.whoCanUse)} | ${cell(c.examples.map(code).join('<br>'))} |`,
  );
  return (
    'These are the commands I understand. Write each on its own line; commands in code blocks, quotes and HTML comments are ignored. Several may go in one comment.\n\n' +
    '| Command | What it does | Who can use it | Examples |\n| --- | --- | --- | --- |\n' +
    rows.join('\n')
  );
}
