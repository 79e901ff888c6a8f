// Commit statuses exactly as Prow's crier writes them (pkg/github/report/report.go reportStatus, and
// pkg/config/config.go ContextDescriptionWithBaseSha), so Prow's /retest and tide read katabot's statuses as
// their own. Pure.
import type { ProwJob, ProwJobState } from '../jobs/types.ts';
import { utf8Length } from './check-run.ts';

export type GitHubStatusState = 'pending' | 'success' | 'failure' | 'error';

/** crier's prowjobStateToGitHubStatus: aborted is a failure, error stays error. */
export function githubStatusState(state: ProwJobState | undefined): GitHubStatusState {
  switch (state) {
    case undefined:
    case 'scheduling':
    case 'triggered':
    case 'pending':
      return 'pending';
    case 'success':
      return 'success';
    case 'error':
      return 'error';
    case 'failure':
    case 'aborted':
      return 'failure';
  }
}

/** GitHub's limit on a status description, as Prow's contextDescriptionMaxLen. */
export const CONTEXT_DESCRIPTION_MAX_LEN = 140;
export const BASE_SHA_DELIMITER = ' BaseSHA:';
const ELIDE = ' ... ';
/** U+2001 EM QUAD: GitHub's UI collapses runs of ordinary spaces, not this one. */
const PAD = '\u2001';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The first `n` bytes of s, without splitting a character. */
function headBytes(s: string, n: number): string {
  const bytes = encoder.encode(s);
  let end = Math.max(0, Math.min(n, bytes.length));
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
  return decoder.decode(bytes.subarray(0, end));
}

/** The last `n` bytes of s, without splitting a character. */
function tailBytes(s: string, n: number): string {
  const bytes = encoder.encode(s);
  let start = Math.max(0, bytes.length - n);
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  return decoder.decode(bytes.subarray(start));
}

/** Prow's truncate: "really long messages" → "really ... messages", lengths in UTF-8 bytes as Go's len(). */
export function truncateMiddle(s: string, maxLen: number): string {
  if (utf8Length(s) <= maxLen) return s;
  const half = Math.trunc((maxLen - ELIDE.length) / 2);
  return headBytes(s, half) + ELIDE + tailBytes(s, half);
}

/**
 * Prow's ContextDescriptionWithBaseSha: appends " BaseSHA:<sha>" (tide reads it back), left-padded with U+2001 so
 * it sits at a stable place in GitHub's UI, and truncates the human text with " ... " to fit 140. Lengths are
 * Go's len() (UTF-8 bytes), and, as in Prow, the padding loop's bound is re-evaluated as the suffix grows by a
 * 3-byte U+2001 per step, so ⌈(140 − len(text + suffix)) / 4⌉ pads are added: byte for byte what crier sends.
 */
export function contextDescriptionWithBaseSha(humanReadable: string, baseSha: string): string {
  let suffix = '';
  if (baseSha) {
    suffix = BASE_SHA_DELIMITER + baseSha;
    if (utf8Length(humanReadable + suffix) < CONTEXT_DESCRIPTION_MAX_LEN) {
      for (let i = 0; i < CONTEXT_DESCRIPTION_MAX_LEN - utf8Length(humanReadable + suffix); i++) suffix = PAD + suffix;
    }
  }
  return truncateMiddle(humanReadable, CONTEXT_DESCRIPTION_MAX_LEN - utf8Length(suffix)) + suffix;
}

/** Prow's BaseSHAFromContextDescription. */
export function baseShaFromContextDescription(description: string): string {
  const split = description.split(BASE_SHA_DELIMITER);
  if (split.length === 2 && split[1]!.length === 40) return split[1]!;
  const old = description.split(' Basesha:');
  return old.length === 2 && old[1]!.length === 40 ? old[1]! : '';
}

export interface CommitStatus {
  sha: string;
  state: GitHubStatusState;
  description: string;
  context: string;
  target_url?: string;
}

/** crier's reportStatus for one ProwJob: sha is pulls[0].sha (base_sha for postsubmits). */
export function commitStatusFor(pj: ProwJob): CommitStatus {
  const refs = pj.spec.refs;
  const sha = refs?.pulls?.[0]?.sha ?? refs?.base_sha ?? '';
  const status: CommitStatus = {
    sha,
    state: githubStatusState(pj.status?.state),
    description: contextDescriptionWithBaseSha(pj.status?.description ?? '', refs?.base_sha ?? ''),
    context: pj.spec.context ?? pj.spec.job,
  };
  if (pj.status?.url) status.target_url = pj.status.url;
  return status;
}
