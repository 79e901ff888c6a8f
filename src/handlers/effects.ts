// Carrying out plans: labels, the recorded TDX approval, runs on their CI systems, and replies. Each effect is safe
// to repeat, so a retried delivery finishes what a crashed one started and does nothing twice: ProwJob names derive
// from the delivery, check runs and comments are created exactly once (src/adapters/store.ts exactlyOnce).
// Order: runs are launched first (Kubernetes does not wait for GitHub's write pacing), then GitHub is written.
import type { GitHub, PullFacts } from '../adapters/github.ts';
import { exactlyOnce } from '../adapters/store.ts';
import type { Reply, RetestAnswer } from '../plan/comment.ts';
import { runsOf, type ActionsTraceRun, type JobRun, type RunOutcome } from '../plan/runs.ts';
import { actionsTraceReply } from '../render/actions-trace.ts';
import { ActionsTraceApi } from '../adapters/github-actions-trace.ts';
import { ActionsTraceBackend } from './actions-trace.ts';
import { MARKERS, withMarker } from '../render/markers.ts';
import { formatResponse, refusedActionsReply, refusedJobsReply, retestReply } from '../render/replies.ts';
import { ActionsBackend, ProwBackend, type RunContext } from './backends.ts';
import { RECORD_TTL_SECONDS, type HandlerDeps } from './deps.ts';
import { tdxApprovalKey } from './facts.ts';

/** How long one PR's handling holds its lock before it must have renewed it (renewed while held). */
const PR_LOCK_MS = 30_000;

/** Runs `fn` holding the PR's lock, so replicas and workers handle one PR's events one at a time. */
export function withPrLock<T>(deps: HandlerDeps, gh: GitHub, pr: number, fn: () => Promise<T>): Promise<T> {
  return deps.store.withLock(`pr:${gh.fullName}#${pr}`, PR_LOCK_MS, fn);
}

export async function applyLabels(gh: GitHub, pr: number, labels: { add: readonly string[]; remove: readonly string[] }): Promise<void> {
  if (labels.add.length) await gh.addLabels(pr, [...labels.add]);
  for (const l of labels.remove) await gh.removeLabel(pr, l);
}

/** Records (for the head) or clears a PR's TDX approval. */
export async function setTdxApproval(deps: HandlerDeps, gh: GitHub, pr: PullFacts, what: 'record' | 'clear' | 'keep'): Promise<void> {
  if (what === 'record') await deps.store.set(tdxApprovalKey(gh, pr.number), pr.headSha, RECORD_TTL_SECONDS);
  else if (what === 'clear') await deps.store.del(tdxApprovalKey(gh, pr.number));
}

/** Runs started for one event, and what the report step still owes GitHub. */
export interface Launch {
  outcomes: RunOutcome[];
  /** Writes the runs' check runs (paced GitHub writes). */
  report(): Promise<void>;
}

/** Launches every run on its CI system: ProwJobs first (no GitHub write), then Actions re-runs. */
export async function launchRuns(deps: HandlerDeps, gh: GitHub, runs: readonly JobRun[], ctx: RunContext): Promise<Launch> {
  const prow = new ProwBackend(deps, gh);
  const launched = await prow.launch(runsOf(runs, 'prow'), ctx);
  const actions = await new ActionsBackend(deps, gh).launch(runsOf(runs, 'actions'), ctx);
  const traced = await new ActionsTraceBackend(deps, gh, new ActionsTraceApi(gh)).launch(runsOf(runs, 'actions-trace'), ctx);
  return { outcomes: [...launched.map((l) => l.outcome), ...actions, ...traced], report: () => prow.report(launched) };
}

/** After every other effect: a run that failed for a transient reason makes the delivery retry (the others are done). */
export function throwIfFailed(outcomes: readonly RunOutcome[]): void {
  const failed = outcomes.flatMap((o) => (o.result === 'failed' ? [o.error] : []));
  if (failed.length > 0) throw new AggregateError(failed, `${failed.length} run(s) not started: ${failed.map((e) => e.message).join('; ')}`);
}

/** The replies the outcomes add: what /retest re-ran where, and the runs the CI system refused. */
export function outcomeReplies(outcomes: readonly RunOutcome[], retest: RetestAnswer | undefined, sha: string): Reply[] {
  const replies: Reply[] = [];
  if (retest) {
    const started = outcomes.filter((o) => o.result === 'started' || o.result === 'exists').map((o) => o.run);
    const refusedActions = outcomes.find((o) => o.run.backend === 'actions' && o.result === 'refused');
    const actionsError = retest.actionsError ?? (refusedActions?.result === 'refused' ? refusedActions.message : undefined);
    const actions = runsOf(started, 'actions').map((r) => ({ name: r.job, url: r.url }));
    const notes = { ...(retest.actionsHeld?.length ? { actionsHeld: retest.actionsHeld } : {}), ...(retest.actionsAlsoOptional?.length ? { actionsAlsoOptional: retest.actionsAlsoOptional } : {}) };
    const actionsPart = !retest.actions ? {} : actionsError ? { actionsError } : { actions, ...notes };
    replies.push({ kind: 'retest', text: retestReply({ sha, prow: runsOf(started, 'prow').map((r) => r.job), ...actionsPart }) });
  }
  const refused = outcomes.flatMap((o) => (o.result === 'refused' && o.run.backend === 'prow' ? [{ job: o.run.job, message: o.message }] : []));
  if (refused.length > 0) replies.push({ kind: 'refused', text: refusedJobsReply(refused) });
  // Actions runs /test started that GitHub refused (the retest answer already says why for its own).
  const refusedActions = outcomes.flatMap((o) => (o.result === 'refused' && o.run.backend === 'actions' && (!retest || o.run.kind === 'dispatch') ? [{ job: o.run.job, url: o.run.url, message: o.message }] : []));
  if (refusedActions.length > 0) replies.push({ kind: 'refused-actions', text: refusedActionsReply(refusedActions) });
  const traced = outcomes.filter((o): o is RunOutcome & { run: ActionsTraceRun } => o.run.backend === 'actions-trace');
  if (traced.length > 0) {
    replies.push({ kind: 'actions-trace', text: actionsTraceReply(traced.map((o) => ({
      job: o.run.job, workflow: o.run.workflow, how: o.run.how, baseRef: o.run.baseRef, headSha: o.run.headSha,
      ...(o.result === 'refused' ? { problem: o.message } : o.result === 'failed' ? { problem: o.error.message } : {}),
    }))) });
  }
  return replies;
}

/** Who and what replies answer. */
export interface ReplyContext {
  delivery: string;
  /** Where the answered text came from (comment, review, body); part of the idempotency key. */
  source: string;
  commenter: string;
  /** Link to the answered text, quoted in replies. */
  url: string;
  body: string;
}

/** Posts each reply once (per delivery and source, or per PR), with its marker, quoting the text it answers. */
export async function postReplies(deps: HandlerDeps, gh: GitHub, pr: number, replies: readonly Reply[], ctx: ReplyContext): Promise<void> {
  if (replies.length === 0) return;
  const botLogin = await deps.botLogin();
  for (const r of replies) {
    const key = r.oncePerPr ? `reply:${gh.fullName}#${pr}:${r.kind}` : `reply:${ctx.delivery}:${ctx.source}:${r.kind}`;
    const marker = MARKERS.reply(key);
    await exactlyOnce(
      deps.store,
      key,
      RECORD_TTL_SECONDS,
      () => gh.comment(pr, withMarker(formatResponse(ctx.commenter, r.text, ctx.url, ctx.body), marker)),
      () => gh.findComment(pr, marker, botLogin),
    );
  }
}

/** Posts a notice once under `key` (the welcome, the draft notice), found again by its marker after a crash. */
export async function postNotice(deps: HandlerDeps, gh: GitHub, pr: number, key: string, text: string, marker: string): Promise<void> {
  const botLogin = await deps.botLogin();
  await exactlyOnce(
    deps.store,
    key,
    RECORD_TTL_SECONDS,
    () => gh.comment(pr, withMarker(text, marker)),
    () => gh.findComment(pr, marker, botLogin),
  );
}
