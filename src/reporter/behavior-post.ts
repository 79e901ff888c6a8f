// Posting a behavior report on GitHub, whatever CI ran the traced run (the ProwJob reporter's behavior channel,
// and the pick-up of the katabot action's traces from GitHub Actions): the PR's behavior comment, one per PR and
// job, edited in place; and the check run `katabot / behavior (<job>)` on the PR head, created exactly once per
// traced run. Records (src/adapters/report-state.ts): `behavior-comment:<org/repo>#<n>:<job>` (the comment's id
// and generation) and `behavior-checkrun:<run>` (the check run's id).
// A GET happens only when an earlier attempt may have written without recording (an intent record is found), to
// find that write by its marker or external_id.
import type { Logger } from 'pino';
import { httpStatus, type GitHub } from '../adapters/github.ts';
import type { Metrics } from '../adapters/metrics.ts';
import { PR_COMMENT_TTL_SECONDS, REPORT_TTL_SECONDS, type Fence, type ReportState } from '../adapters/report-state.ts';
import type { Store } from '../adapters/store.ts';
import type { BehaviorReport } from '../behavior/traced-run.ts';
import type { BehaviorCheckRun } from '../render/behavior.ts';

/** A report as kept in an outbox: without its HTML (stored apart, under behavior:html:<id>). */
export type OutboxReport = Omit<BehaviorReport, 'html'>;

export interface PostDeps {
  store: Store;
  reports: ReportState;
  github(owner: string, repo: string): Promise<GitHub>;
  botLogin(): Promise<string>;
  log: Logger;
  metrics: Metrics;
  /** URL of a stored HTML report: the check run's details_url. */
  reportUrl?: (htmlId: string) => string;
  now?: () => Date;
}

/** How writes are guarded: the reporter's lease (fence and leader check); a webhook handler has neither. */
export interface PostContext {
  fence?: Fence | undefined;
  /** Called before every write outside the store. */
  assert: () => void;
}

const checkKey = (run: string) => `behavior-checkrun:${run}`;
const commentKey = (r: Pick<BehaviorReport, 'org' | 'repo' | 'pull' | 'job'>) => `behavior-comment:${`${r.org}/${r.repo}`.toLowerCase()}#${r.pull}:${r.job}`;

interface CommentRecord {
  commentId?: number;
  /** Bumped when the comment vanished (deleted by a user), so a new one may be created exactly once. */
  generation: number;
}

export class BehaviorPoster {
  readonly #d: PostDeps;

  constructor(d: PostDeps) {
    this.#d = d;
  }

  /** The comment (edited in place) and the check run (created once) of one report. */
  async post(r: OutboxReport, ctx: PostContext, fallbackDetailsUrl?: string): Promise<void> {
    const gh = await this.#d.github(r.org, r.repo);
    await this.#comment(gh, r, ctx);
    await this.checkRun(gh, r.run, r.checkRun, ctx, this.#d.reportUrl?.(r.htmlId) ?? fallbackDetailsUrl);
    this.#d.log.info({ run: r.run, pr: r.pull, job: r.job, conclusion: r.checkRun.conclusion, added: r.diff.summary.added, removed: r.diff.summary.removed }, 'behavior report posted');
  }

  async #comment(gh: GitHub, r: OutboxReport, ctx: PostContext): Promise<void> {
    const { store, reports, metrics } = this.#d;
    const key = commentKey(r);
    await store.withLock(key, 60_000, async () => {
      const raw = await store.get(key);
      const prev: CommentRecord = raw ? (JSON.parse(raw) as CommentRecord) : { generation: 0 };
      let generation = prev.generation;
      let id: number | undefined;
      if (prev.commentId !== undefined) {
        ctx.assert();
        try {
          await gh.editComment(prev.commentId, r.comment.body);
          id = prev.commentId;
          metrics.reports.inc({ channel: 'behavior-comment', result: 'updated' });
        } catch (err) {
          if (httpStatus(err) !== 404) throw err;
          generation++;
        }
      }
      if (id === undefined) {
        const intent = `intent:${key}:${generation}`;
        if (!(await store.setIfAbsent(intent, '1', PR_COMMENT_TTL_SECONDS))) {
          // An earlier attempt may have posted it and died before recording it: find it by its marker.
          const found = await gh.findComment(r.pull, r.comment.marker, await this.#d.botLogin());
          if (found) {
            ctx.assert();
            await gh.editComment(found.id, r.comment.body);
            id = found.id;
            metrics.reports.inc({ channel: 'behavior-comment', result: 'updated' });
          }
        }
        if (id === undefined) {
          ctx.assert();
          id = (await gh.comment(r.pull, r.comment.body)).id;
          metrics.reports.inc({ channel: 'behavior-comment', result: 'created' });
        }
      }
      const next: CommentRecord = { commentId: id, generation };
      await reports.put(key, JSON.stringify(next), PR_COMMENT_TTL_SECONDS, ctx.fence, `behavior comment of ${r.org}/${r.repo}#${r.pull}`);
    });
  }

  /** The check run of one traced run, created exactly once (external_id `behavior:<run>`). */
  async checkRun(gh: GitHub, run: string, checkRun: BehaviorCheckRun & { head_sha: string }, ctx: PostContext, detailsUrl: string | undefined): Promise<void> {
    const { store, reports, metrics } = this.#d;
    const key = checkKey(run);
    await store.withLock(key, 30_000, async () => {
      if ((await store.get(key)) !== undefined) return;
      const externalId = `behavior:${run}`;
      let id: number | undefined;
      if (!(await store.setIfAbsent(`intent:${key}`, '1', REPORT_TTL_SECONDS))) {
        id = await gh.findCheckRun(checkRun.head_sha, checkRun.name, externalId);
      }
      if (id === undefined) {
        ctx.assert();
        id = await gh.createCheckRun({
          ...checkRun,
          external_id: externalId,
          completed_at: (this.#d.now?.() ?? new Date()).toISOString(),
          ...(detailsUrl ? { details_url: detailsUrl } : {}),
        });
        metrics.reports.inc({ channel: 'behavior-check', result: 'created' });
      }
      await reports.put(key, String(id), REPORT_TTL_SECONDS, ctx.fence, `behavior check run of ${run}`);
    });
  }
}
