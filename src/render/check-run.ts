// Check-run bodies (pure). The body for a ProwJob in any state: created at trigger time (queued) by the
// handlers, or by the reporter for jobs Prow created; the reporter PATCHes it on every state change.
import { LABELS, type ProwJob, type ProwJobState } from '../jobs/types.ts';
import { isFinalState } from '../jobs/state.ts';

interface CheckRunAction {
  label: string;
  description: string;
  identifier: string;
}

/** A check run as katabot creates it (POST /repos/{owner}/{repo}/check-runs). */
export interface CheckRunInput {
  name: string;
  head_sha: string;
  external_id: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion?: 'success' | 'failure' | 'neutral' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required';
  started_at?: string;
  completed_at?: string;
  details_url?: string;
  output?: CheckRunOutput;
  actions?: CheckRunAction[];
}

/** A check-run annotation (output.annotations[] of the Checks API). */
export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: 'failure';
  message: string;
  title?: string;
  raw_details?: string;
}

/** A check run's output. Annotations are appended by GitHub on every request that carries them (≤50 each). */
interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
  annotations?: CheckAnnotation[];
}

export type CheckRunUpdate = Omit<CheckRunInput, 'name' | 'head_sha' | 'external_id'>;

/** A commit status (POST /repos/{owner}/{repo}/statuses/{sha}). */
export interface StatusInput {
  state: 'pending' | 'success' | 'failure' | 'error';
  description: string;
  context: string;
  target_url?: string;
}

/** GitHub's limit on output.title/summary/text: 65,535 "characters", counted as bytes in practice. */
export const MAX_OUTPUT_BYTES = 65_535;
/** Annotations per create/update request; more need further PATCHes (they append). */
export const MAX_ANNOTATIONS_PER_REQUEST = 50;
/** Longest error description quoted in a summary. */
const MAX_DESCRIPTION_CHARS = 4000;

/** The requested actions katabot puts on failed check runs (≤3 actions, label and identifier ≤20 chars). */
export const CHECK_ACTIONS = {
  rerun: { label: 'Re-run', description: 'Run this job again', identifier: 'katabot-rerun' },
  trace: { label: 'Trace', description: 'Run it again with the eBPF tracer', identifier: 'katabot-trace' },
} as const;

export type CheckStatus = 'queued' | 'in_progress' | 'completed';
export type CheckConclusion = 'success' | 'failure' | 'cancelled';

/** ProwJob state → check-run status and conclusion. */
export function checkStateFor(state: ProwJobState | undefined): { status: CheckStatus; conclusion?: CheckConclusion } {
  switch (state) {
    case undefined:
    case 'scheduling':
    case 'triggered':
      return { status: 'queued' };
    case 'pending':
      return { status: 'in_progress' };
    case 'success':
      return { status: 'completed', conclusion: 'success' };
    case 'failure':
    case 'error':
      return { status: 'completed', conclusion: 'failure' };
    case 'aborted':
      return { status: 'completed', conclusion: 'cancelled' };
  }
}

const STATE_WORD: Record<ProwJobState, string> = {
  scheduling: 'queued',
  triggered: 'queued',
  pending: 'running',
  success: 'passed',
  failure: 'failed',
  aborted: 'aborted',
  error: 'error',
};

export interface CheckRunContext {
  /** status.url, else the Deck link (deckLinkForProwJob). */
  detailsUrl?: string;
  /** 1 for the first run of this job on this commit. */
  attempt?: number;
  /** A finished job's failing tests (src/render/test-report.ts): a section of the summary, and the output text. */
  tests?: { summary: string; text: string };
}

/** UTF-8 length of one code point. */
function utf8Len(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** Length of `text` in UTF-8 bytes (Go's len()). */
export function utf8Length(text: string): number {
  let n = 0;
  for (const ch of text) n += utf8Len(ch.codePointAt(0)!);
  return n;
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes on a character boundary, marking the cut with `…`. */
export function truncateUtf8(text: string, maxBytes: number): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes, so short strings need no counting.
  if (text.length * 3 <= maxBytes || utf8Length(text) <= maxBytes) return text;
  const ellipsis = '…';
  let budget = maxBytes - utf8Length(ellipsis);
  let out = '';
  for (const ch of text) {
    const n = utf8Len(ch.codePointAt(0)!);
    if (n > budget) break;
    budget -= n;
    out += ch;
  }
  return out + ellipsis;
}

/** `1h 2m 3s`, `4m 0s`, `12s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${m}m ${s}s`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

function durationOf(pj: ProwJob): string | undefined {
  const from = pj.status?.pendingTime ?? pj.status?.startTime;
  const to = pj.status?.completionTime;
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? formatDuration(ms) : undefined;
}

function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function isTraced(pj: ProwJob): boolean {
  return pj.metadata.labels?.[LABELS.trace] === 'true';
}

/** The head commit a presubmit's check run belongs to (pulls[0].sha), or the base SHA. */
function checkRunSha(pj: ProwJob): string {
  return pj.spec.refs?.pulls?.[0]?.sha ?? pj.spec.refs?.base_sha ?? '';
}

/** The check run's name: the job's status context. */
function checkRunName(pj: ProwJob): string {
  return pj.spec.context || pj.spec.job;
}

function summaryFor(pj: ProwJob, state: ProwJobState, ctx: CheckRunContext): string {
  const pull = pj.spec.refs?.pulls?.[0];
  const sha = checkRunSha(pj);
  const where = pull ? `\`${pull.sha.slice(0, 12)}\`` : sha ? `\`${sha.slice(0, 12)}\`` : 'this commit';
  const description = (pj.status?.description ?? '').trim();
  const head: string[] = [];
  switch (state) {
    case 'scheduling':
    case 'triggered':
      head.push(`**${pj.spec.job}** is queued for ${where}.`);
      break;
    case 'pending':
      head.push(`**${pj.spec.job}** is running on ${where}.`);
      break;
    case 'success':
      head.push(`**${pj.spec.job}** passed on ${where}.`);
      break;
    case 'failure':
      head.push(`**${pj.spec.job}** failed on ${where}.`);
      break;
    case 'aborted':
      head.push(`**${pj.spec.job}** was aborted on ${where}.`);
      break;
    case 'error':
      head.push(`**${pj.spec.job}** could not run on ${where}: Prow reported an error.`);
      break;
  }
  if (state === 'error' && description) {
    head.push('', '```', truncateUtf8(description.replace(/```/g, "'''"), MAX_DESCRIPTION_CHARS), '```');
  }
  const rows: string[] = ['| | |', '|---|---|'];
  rows.push(`| State | ${cell(state)}${description && state !== 'error' ? ` (${cell(truncateUtf8(description, 300))})` : ''} |`);
  if (ctx.attempt !== undefined) {
    const retest = pj.metadata.labels?.[LABELS.retest] === 'true';
    rows.push(`| Attempt | ${ctx.attempt}${retest ? ' (rerun)' : ''} |`);
  }
  if (pj.status?.pendingTime) rows.push(`| Started | ${cell(pj.status.pendingTime)} |`);
  if (pj.status?.completionTime) rows.push(`| Finished | ${cell(pj.status.completionTime)} |`);
  const duration = durationOf(pj);
  if (duration) rows.push(`| Duration | ${duration} |`);
  if (ctx.detailsUrl) rows.push(`| Deck | [${cell(pj.spec.job)}](${ctx.detailsUrl}) |`);
  rows.push(`| ProwJob | \`${pj.metadata.name}\` |`);
  if (pj.spec.rerun_command) {
    const failed = state === 'failure' || state === 'error';
    rows.push(`| Rerun | \`${cell(pj.spec.rerun_command)}\`${failed ? ', or the Re-run button above' : ''} |`);
  }
  if (isTraced(pj)) rows.push('| Tracing | eBPF tracer attached; the behavior diff follows the result |');
  const tests = ctx.tests && isFinalState(state) ? ['', ctx.tests.summary] : [];
  return truncateUtf8([...head, '', ...rows, ...tests].join('\n'), MAX_OUTPUT_BYTES);
}

/** The title shown next to the check's name. */
function checkRunTitle(pj: ProwJob, state: ProwJobState): string {
  return truncateUtf8(`${pj.spec.job}: ${STATE_WORD[state]}`, 255);
}

/**
 * The full check-run body for a ProwJob in its current state, for POST /check-runs. started_at is pendingTime
 * (when the job's pod started); completed_at is completionTime when Prow set it (aborted jobs may lack it; GitHub
 * then uses the time of the request). Failed runs carry the Re-run and Trace buttons.
 */
export function checkRunFor(pj: ProwJob, ctx: CheckRunContext = {}): CheckRunInput {
  const state: ProwJobState = pj.status?.state ?? 'triggered';
  const { status, conclusion } = checkStateFor(state);
  const body: CheckRunInput = {
    name: checkRunName(pj),
    head_sha: checkRunSha(pj),
    external_id: pj.metadata.name,
    status,
    output: { title: checkRunTitle(pj, state), summary: summaryFor(pj, state, ctx) },
  };
  if (ctx.tests?.text && isFinalState(state)) body.output!.text = truncateUtf8(ctx.tests.text, MAX_OUTPUT_BYTES);
  if (ctx.detailsUrl) body.details_url = ctx.detailsUrl;
  if (status !== 'queued' && pj.status?.pendingTime) body.started_at = pj.status.pendingTime;
  if (conclusion) {
    body.conclusion = conclusion;
    if (pj.status?.completionTime) body.completed_at = pj.status.completionTime;
  }
  if (conclusion === 'failure') body.actions = [{ ...CHECK_ACTIONS.rerun }, { ...CHECK_ACTIONS.trace }];
  return body;
}

/** The PATCH body: the create body without the fields that identify the run. */
export function checkRunUpdate(pj: ProwJob, ctx: CheckRunContext = {}): CheckRunUpdate {
  const { name: _n, head_sha: _h, external_id: _e, ...rest } = checkRunFor(pj, ctx);
  return rest;
}

/** The queued body written at trigger time. */
export function queuedCheckRun(pj: ProwJob, detailsUrl: string | undefined, attempt?: number): CheckRunInput {
  const queued: ProwJob = { ...pj, status: { ...pj.status, state: pj.status?.state === 'scheduling' ? 'scheduling' : 'triggered' } };
  return checkRunFor(queued, { ...(detailsUrl ? { detailsUrl } : {}), ...(attempt !== undefined ? { attempt } : {}) });
}

/**
 * The check run of a job the cluster refused to create (e.g. the API server's 422 for an invalid object): failed at
 * once, saying why in the API server's words, so the PR shows every job that was asked for.
 */
export function refusedCheckRun(pj: ProwJob, message: string, detailsUrl?: string): CheckRunInput {
  const sha = checkRunSha(pj);
  const summary = [
    `**${pj.spec.job}** could not be started on \`${sha.slice(0, 12)}\`: the cluster refused its ProwJob.`,
    '',
    '```',
    truncateUtf8(message.replace(/```/g, "'''"), MAX_DESCRIPTION_CHARS),
    '```',
    '',
    'The job configuration needs fixing; the other jobs of this event were started.',
    ...(pj.spec.rerun_command ? ['', `Once fixed, \`${pj.spec.rerun_command}\` starts it.`] : []),
  ].join('\n');
  return {
    name: checkRunName(pj),
    head_sha: sha,
    external_id: pj.metadata.name,
    status: 'completed',
    conclusion: 'failure',
    ...(detailsUrl ? { details_url: detailsUrl } : {}),
    output: { title: truncateUtf8(`${pj.spec.job}: not started (refused by the cluster)`, 255), summary: truncateUtf8(summary, MAX_OUTPUT_BYTES) },
  };
}

/** Splits annotations into request-sized batches (the Checks API takes ≤50 per request; later ones append). */
export function annotationBatches<T>(annotations: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < annotations.length; i += MAX_ANNOTATIONS_PER_REQUEST) out.push(annotations.slice(i, i + MAX_ANNOTATIONS_PER_REQUEST));
  return out;
}
