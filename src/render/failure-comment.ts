// The one failure-summary comment per PR (crier's ReportComment, pkg/github/report/report.go), kept as
// structured rows rather than re-parsed from the comment, and edited in place. Pure.
//
// Differences from crier, on purpose:
// - one comment, edited in place, never deleted and re-created (crier posts a fresh one on each new failure);
// - an Attempts column: how often the job ran on this commit, and whether it is flaky (passed and failed there);
// - `error` (Prow could not run the job) gets a row like `failure`: it blocks merging the same way;
// - `aborted` leaves the rows alone: an aborted rerun neither fixes nor adds a failure (crier drops the row);
// - when the last failing job recovers, the comment says so instead of disappearing.
import { LABELS, type ProwJob, type ProwJobState } from '../jobs/types.ts';
import type { AttemptSummary } from './results.ts';
import { ABOUT_THIS_BOT } from './replies.ts';

/** Hidden marker of katabot's failure comment (crier uses `<!-- test report -->` for its own). */
export const FAILURE_COMMENT_MARKER = '<!-- katabot:test-report -->';

export interface FailureRow {
  /** Test name column: the job's context; rows are keyed by it, as crier does. */
  context: string;
  /** The commit the failure is for (full SHA). */
  sha: string;
  /** Details link (status.url or the Deck link); empty when unknown. */
  url: string;
  /** From the prow.k8s.io/is-optional label: 'true' when required. */
  required: 'true' | 'false' | 'unknown';
  rerun: string;
  state: 'failure' | 'error';
  /** Attempts of this job on this commit, and how many passed. */
  attempts: number;
  passed: number;
  /** The ProwJob of the row. */
  prowjob: string;
}

/** crier's createEntry, plus attempts. */
export function rowFor(pj: ProwJob, detailsUrl: string | undefined, attempts: AttemptSummary): FailureRow {
  let required: FailureRow['required'] = 'unknown';
  const label = pj.metadata.labels?.[LABELS.isOptional];
  if (pj.spec.type === 'presubmit' && (label === 'true' || label === 'false')) required = label === 'true' ? 'false' : 'true';
  return {
    context: pj.spec.context || pj.spec.job,
    sha: pj.spec.refs?.pulls?.[0]?.sha ?? pj.spec.refs?.base_sha ?? '',
    url: pj.status?.url || detailsUrl || '',
    required,
    rerun: pj.spec.rerun_command ?? `/test ${pj.spec.job}`,
    state: pj.status?.state === 'error' ? 'error' : 'failure',
    attempts: Math.max(1, attempts.attempts),
    passed: attempts.passed,
    prowjob: pj.metadata.name,
  };
}

export interface ResultUpdate {
  context: string;
  state: ProwJobState;
  /** The ProwJob's startTime: a result older than one already merged for the context is stale. */
  start?: string;
  /** Required for failure and error. */
  row?: FailureRow;
}

export interface RowsState {
  rows: FailureRow[];
  /** Per context, the startTime of the newest ProwJob merged so far. */
  seen?: Record<string, string>;
}

function isOlder(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  return Number.isFinite(ta) && Number.isFinite(tb) && ta < tb;
}

/**
 * Merges one completed job into the rows (crier's rule: the newest result per context wins): a failure or error
 * replaces the context's row (appended last); a success removes it; aborted and unfinished states change
 * nothing. A result that started before one already merged for its context (an old attempt finishing late) is
 * ignored.
 */
export function mergeRows(state: RowsState, update: ResultUpdate): RowsState {
  const seen = { ...(state.seen ?? {}) };
  if (isOlder(update.start, seen[update.context])) return { rows: [...state.rows], seen };
  const record = () => {
    if (update.start) seen[update.context] = update.start;
  };
  switch (update.state) {
    case 'failure':
    case 'error': {
      if (!update.row) throw new Error(`mergeRows: a ${update.state} needs its row`);
      record();
      return { rows: [...state.rows.filter((r) => r.context !== update.context), update.row], seen };
    }
    case 'success':
      record();
      return { rows: state.rows.filter((r) => r.context !== update.context), seen };
    default:
      return { rows: [...state.rows], seen };
  }
}

function sameRows(a: readonly FailureRow[], b: readonly FailureRow[]): boolean {
  return a.length === b.length && a.every((r, i) => JSON.stringify(r) === JSON.stringify(b[i]));
}

function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function attemptsCell(r: FailureRow): string {
  if (r.passed > 0) return `${r.attempts} (flaky: passed ${r.passed} of ${r.attempts})`;
  return String(r.attempts);
}

/** One table row, crier's `Test name | Commit | Details | Required | Rerun command`, then Attempts. */
export function renderRow(r: FailureRow): string {
  // The first column stays the bare context: crier (and tools written for its comment) key rows by it.
  const link = r.url ? `[link](${r.url})` : '';
  const details = r.state === 'error' ? `${link} (error)`.trim() : link;
  return [cell(r.context), r.sha, details, r.required, `\`${cell(r.rerun)}\``, attemptsCell(r)].join(' | ');
}

export const TABLE_HEADER = 'Test name | Commit | Details | Required | Rerun command | Attempts';

function footer(): string[] {
  return ['', '<details>', '', ABOUT_THIS_BOT, '</details>', FAILURE_COMMENT_MARKER];
}

/** The comment while some jobs fail (crier's createComment, plus the Attempts column). */
export function renderFailureComment(author: string, rows: readonly FailureRow[]): string {
  const plural = rows.length > 1 ? 's' : '';
  const flaky = rows.filter((r) => r.passed > 0).length;
  const lines = [
    `@${author}: The following test${plural} **failed**, say \`/retest\` to rerun all failed tests or \`/retest-required\` to rerun all mandatory failed tests:`,
    '',
    TABLE_HEADER,
    '--- | --- | --- | --- | --- | ---',
    ...rows.map(renderRow),
  ];
  if (flaky > 0) lines.push('', `${flaky === 1 ? 'One of these jobs has' : `${flaky} of these jobs have`} both passed and failed on the same commit: likely flaky.`);
  return [...lines, ...footer()].join('\n');
}

/** The comment once nothing fails any more: the failures it listed have passed since. */
export function renderAllGreen(author: string, recovered: readonly FailureRow[]): string {
  const names = [...new Set(recovered.map((r) => `\`${cell(r.context)}\``))];
  const lines = [`@${author}: all tests **passed!**`];
  if (names.length > 0) lines.push('', `Passed since this comment last listed failures: ${names.join(', ')}.`);
  return [...lines, ...footer()].join('\n');
}

export type CommentPlan =
  | { action: 'none' }
  | { action: 'write'; body: string }
  | { action: 'all-green'; body: string };

/**
 * What to do with the PR's comment after a merge: write it when rows exist and changed (or it was never written);
 * mark it all-green when the last failing row went away; otherwise nothing. No comment is ever posted just to say
 * everything passed.
 */
export function planFailureComment(
  author: string,
  previous: { rows: readonly FailureRow[]; written: boolean; allGreen?: boolean },
  next: readonly FailureRow[],
): CommentPlan {
  if (next.length > 0) {
    if (previous.written && sameRows(previous.rows, next) && !previous.allGreen) return { action: 'none' };
    return { action: 'write', body: renderFailureComment(author, next) };
  }
  if (previous.written && previous.rows.length > 0) return { action: 'all-green', body: renderAllGreen(author, previous.rows) };
  return { action: 'none' };
}
