// What the reporter writes for one ProwJob in its current state, given what it reported before: crier's GitHub
// reporter, level-triggered, channel by channel; and in which order pending writes go out. Pure: the reporter
// (src/reporter/reporter.ts) reads the records, calls this, and carries out the plan.
import { isFinalState } from '../jobs/state.ts';
import type { ProwJob, ProwJobState } from '../jobs/types.ts';

export type Channel = 'check' | 'status' | 'comment';
const CHANNELS: readonly Channel[] = ['check', 'status', 'comment'];

/** What was reported per channel (the ProwJob state each last showed) and the job's check run, if any. */
export interface Reported {
  check?: ProwJobState;
  status?: ProwJobState;
  comment?: ProwJobState;
  checkRunId?: number;
  /** Batches of JUnit annotations a finished job's check run has (written) and is to have (total). */
  annotations?: { written: number; total: number };
}

export interface ChannelPlan {
  /** Channels to bring up to date on GitHub. */
  write: Channel[];
  /** Channels never reported for a job that finished long ago: history, recorded without a write. */
  history: Channel[];
}

/** crier's ShouldReport for GitHub, narrowed to what katabot reports: presubmits of one PR with spec.report. */
export function isReportable(pj: ProwJob): boolean {
  const refs = pj.spec?.refs;
  return pj.spec?.type === 'presubmit' && pj.spec.report === true && Boolean(refs?.org && refs.repo) && refs?.pulls?.length === 1;
}

/**
 * The channels to write for a job in `state`: the check run on every change; a commit status on every change when
 * statuses are on; the failure comment once the job is final. A channel never reported for a job that finished
 * long ago (katabot just took over from crier, or statuses were just switched on) is history, not news: it is
 * recorded without a write. A check run that exists is still brought up to date, so none stays "queued" forever.
 */
export function planChannels(i: { state: ProwJobState; reported: Reported; statuses: boolean; finishedLongAgo: boolean }): ChannelPlan {
  const { state, reported } = i;
  const want: Record<Channel, boolean> = {
    check: reported.check !== state || annotationsPending(state, reported),
    status: i.statuses && reported.status !== state,
    comment: isFinalState(state) && reported.comment !== state,
  };
  const history: Channel[] = [];
  if (i.finishedLongAgo) {
    const never: Record<Channel, boolean> = {
      check: reported.check === undefined && reported.checkRunId === undefined,
      status: reported.status === undefined,
      comment: reported.comment === undefined,
    };
    for (const c of CHANNELS) if (want[c] && never[c]) history.push(c);
  }
  return { write: CHANNELS.filter((c) => want[c] && !history.includes(c)), history };
}

/** A finished job's check run shows its state but not yet every batch of annotations (each batch is a write). */
function annotationsPending(state: ProwJobState, reported: Reported): boolean {
  const a = reported.annotations;
  return isFinalState(state) && reported.check === state && a !== undefined && a.written < a.total;
}

/**
 * How urgent a pending write is, lower first (then oldest change first, byUrgency):
 *   0  the failure comment (only written once a job is final): it notifies the PR's author, who waits for it
 *   1  a check run or a status, whatever it shows: the one write covers every change of its target since its last
 *      write, so the oldest change waiting goes first (ranking final states above running ones measured worse:
 *      the running ones then wait behind every result, `npm run bench:reporter`)
 *   3  further annotation batches of a check run that already shows its final state
 */
export function writeRank(channel: Channel, state: ProwJobState, reported: Reported = {}): number {
  if (channel === 'comment') return 0;
  if (channel === 'check' && annotationsPending(state, reported)) return 3;
  return 1;
}

export interface PendingWrite {
  rank: number;
  /** When the oldest change this write carries was first seen (ms). */
  since: number;
}

/** The order pending writes go out in: by rank, then oldest first. */
export function byUrgency(a: PendingWrite, b: PendingWrite): number {
  return a.rank - b.rank || a.since - b.since;
}
