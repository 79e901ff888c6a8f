// ProwJob states and what they mean for katabot: which are final, when a job is complete, which jobs an abort
// touches. Pure; the one place these rules live.
import type { ProwJob, ProwJobState } from './types.ts';

const FINAL: ReadonlySet<ProwJobState> = new Set<ProwJobState>(['success', 'failure', 'aborted', 'error']);

/** A state Prow never leaves: success, failure, aborted, error. */
export function isFinalState(state: ProwJobState | undefined): boolean {
  return state !== undefined && FINAL.has(state);
}

/** Prow's Complete() (completionTime set), widened to final states: an aborted job stays aborted until plank completes it. */
export function isComplete(pj: ProwJob): boolean {
  return Boolean(pj.status?.completionTime) || isFinalState(pj.status?.state);
}

/** Whether `labels` carry every key and value of `selector` (a Kubernetes equality selector). */
export function labelsMatch(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/**
 * Whether an abort of `selector`'s presubmits touches `pj`: an incomplete presubmit whose labels match. Completed
 * jobs are never touched ("do not SetComplete() when aborting, because Plank's aborting ignores completed jobs").
 */
export function shouldAbort(pj: ProwJob, selector: Readonly<Record<string, string>>): boolean {
  return pj.spec?.type === 'presubmit' && !isComplete(pj) && labelsMatch(selector, pj.metadata.labels);
}
