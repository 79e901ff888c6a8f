// What katabot has already reported to GitHub, per ProwJob and per PR, so reporting is level-triggered: the
// reporter compares a job's current state with what it recorded here and writes only the difference. A restart,
// a replayed watch event or a re-list therefore never repeats a report, and a crash before the record only
// repeats an idempotent write (a PATCH with the same body, a status with the same state, an edit with the same
// text). Creations (check runs, the failure comment) are guarded by an intent record and found again by their
// identity (external_id, the comment marker) when a crash may have hidden one.
//
// Keys (under the store prefix):
//   reported:<prowjob>:check|status|comment   the ProwJob state last reported on that channel
//   reported:<prowjob>:annotations             `<written>/<total>` batches of JUnit annotations on its check run
//   test-report:<prowjob>                      a finished job's failing tests from its JUnit files, read once
//   intent:annotations:<prowjob>:<batch>       a batch of annotations may have been sent (GitHub appends them)
//   checkrun-id:<prowjob>                      the check run of a ProwJob (also written by the trigger path)
//   report-comment:<org/repo>#<n>              the PR's failure comment: id, rows, generation
//   reported:<prowjob>:behavior                a traced ProwJob's behavior outcome was handled (src/reporter/behavior.ts)
//   behavior-outbox:<prowjob>                  its computed outcome, kept until posted (a retry posts it, not a recomputation)
//   behavior-checkrun:<prowjob>                the `katabot / behavior (<job>)` check run of a traced PR ProwJob
//   behavior-comment:<org/repo>#<n>:<job>      the PR's behavior comment for one job: id, generation
import type { Channel, Reported } from '../plan/report.ts';
import type { FailureRow } from '../render/failure-comment.ts';
import type { TestReport } from '../render/test-report.ts';
import type { ProwJob, ProwJobState } from '../jobs/types.ts';
import type { CheckRunInput, GitHub } from './github.ts';
import type { Store } from './store.ts';

export type { Channel, Reported } from '../plan/report.ts';

/** A fencing guard: writes succeed only while the reporter's lease key still holds its value. */
export interface Fence {
  key: string;
  value: string;
}

/** Thrown when a fenced write finds the lease gone or taken: this replica is no longer the reporter. */
export class FencedOut extends Error {
  constructor(what: string) {
    super(`not the reporter any more (fenced out while recording ${what})`);
    this.name = 'FencedOut';
  }
}

export interface PrCommentState {
  commentId?: number;
  rows: FailureRow[];
  /** Per context, the startTime of the newest ProwJob merged (see mergeRows). */
  seen?: Record<string, string>;
  /** The comment currently says everything passed. */
  allGreen?: boolean;
  /** Bumped when the comment vanished (deleted by a user), so a new one may be created exactly once. */
  generation: number;
}

/** Per-ProwJob records outlive Prow's ProwJobs (sinker deletes them after a week). */
export const REPORT_TTL_SECONDS = 8 * 24 * 3600;
/** PRs stay open for months; a lost record would mean a second comment. */
export const PR_COMMENT_TTL_SECONDS = 365 * 24 * 3600;

export class ReportState {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  get store(): Store {
    return this.#store;
  }

  async reported(name: string): Promise<Reported> {
    const [check, status, comment, id, annotations] = await this.#store.mget([
      `reported:${name}:check`,
      `reported:${name}:status`,
      `reported:${name}:comment`,
      `checkrun-id:${name}`,
      `reported:${name}:annotations`,
    ]);
    const out: Reported = {};
    if (check) out.check = check as ProwJobState;
    if (status) out.status = status as ProwJobState;
    if (comment) out.comment = comment as ProwJobState;
    if (id && Number.isInteger(Number(id))) out.checkRunId = Number(id);
    const batches = /^(\d+)\/(\d+)$/.exec(annotations ?? '');
    if (batches) out.annotations = { written: Number(batches[1]), total: Number(batches[2]) };
    return out;
  }

  async #set(key: string, value: string, ttl: number, fence: Fence | undefined, what: string): Promise<void> {
    if (!fence) return this.#store.set(key, value, ttl);
    if (!(await this.#store.setGuarded(key, value, ttl, fence))) throw new FencedOut(what);
  }

  async markReported(name: string, channel: Channel, state: ProwJobState, fence?: Fence): Promise<void> {
    await this.#set(`reported:${name}:${channel}`, state, REPORT_TTL_SECONDS, fence, `${channel} of ${name}`);
  }

  /** Records how many batches of annotations the job's check run has, of how many. */
  async markAnnotations(name: string, written: number, total: number, fence?: Fence): Promise<void> {
    await this.#set(`reported:${name}:annotations`, `${written}/${total}`, REPORT_TTL_SECONDS, fence, `annotations of ${name}`);
  }

  /**
   * Claims batch `batch` of a job's annotations before it is sent: false when an earlier attempt claimed it, and
   * so may have sent it without recording it (then count what the check run has before sending again).
   */
  async claimAnnotationBatch(name: string, batch: number): Promise<boolean> {
    return this.#store.setIfAbsent(`intent:annotations:${name}:${batch}`, '1', REPORT_TTL_SECONDS);
  }

  /** A finished job's test report, once read: the report, `null` when it has none, undefined when not read yet. */
  async testReport(name: string): Promise<TestReport | null | undefined> {
    const raw = await this.#store.get(`test-report:${name}`);
    if (raw === undefined) return undefined;
    const v = JSON.parse(raw) as { report?: TestReport };
    return v.report ?? null;
  }

  /** Keeps the first test report computed for a job (a retry or another replica reads the same); returns it. */
  async saveTestReport(name: string, report: TestReport | null): Promise<TestReport | null> {
    const raw = JSON.stringify(report ? { report } : {});
    if (await this.#store.setIfAbsent(`test-report:${name}`, raw, REPORT_TTL_SECONDS)) return report;
    return (await this.testReport(name)) ?? null;
  }

  /**
   * The check run of a ProwJob, created with `body` if it has none: exactly once across the trigger path and the
   * reporter (both serialise on a lock per ProwJob). `findFirst` searches GitHub by external_id before creating
   * (jobs Prow created); otherwise GitHub is searched only when an earlier attempt may have created one without
   * recording it. `created` tells the caller the run already carries `body` (reported as `state`).
   */
  async ensureCheckRun(
    gh: GitHub,
    pj: ProwJob,
    body: CheckRunInput,
    opts: { state: ProwJobState; findFirst?: boolean; fence?: Fence; beforeWrite?: () => void },
  ): Promise<{ id: number; created: boolean }> {
    const name = pj.metadata.name;
    return this.#store.withLock(`checkrun:${name}`, 30_000, async () => {
      const recorded = await this.#store.get(`checkrun-id:${name}`);
      if (recorded !== undefined && Number.isInteger(Number(recorded))) return { id: Number(recorded), created: false };
      const fresh = await this.#store.setIfAbsent(`intent:checkrun:${name}`, '1', REPORT_TTL_SECONDS);
      let id: number | undefined;
      if (opts.findFirst || !fresh) id = await gh.findCheckRun(body.head_sha, body.name, body.external_id);
      let created = false;
      if (id === undefined) {
        opts.beforeWrite?.();
        id = await gh.createCheckRun(body);
        created = true;
      }
      await this.#set(`checkrun-id:${name}`, String(id), REPORT_TTL_SECONDS, opts.fence, `check run of ${name}`);
      if (created) await this.markReported(name, 'check', opts.state, opts.fence);
      return { id, created };
    });
  }

  /** A fenced write of any reporter record (the behavior channel's keys above). */
  async put(key: string, value: string, ttl: number, fence: Fence | undefined, what: string): Promise<void> {
    await this.#set(key, value, ttl, fence, what);
  }

  async prComment(repo: string, pull: number): Promise<PrCommentState | undefined> {
    const raw = await this.#store.get(`report-comment:${repo.toLowerCase()}#${pull}`);
    return raw ? (JSON.parse(raw) as PrCommentState) : undefined;
  }

  async savePrComment(repo: string, pull: number, state: PrCommentState, fence?: Fence): Promise<void> {
    await this.#set(`report-comment:${repo.toLowerCase()}#${pull}`, JSON.stringify(state), PR_COMMENT_TTL_SECONDS, fence, `comment of ${repo}#${pull}`);
  }
}
