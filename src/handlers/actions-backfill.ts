// Backfill: past GitHub Actions runs and jobs of a repository read through the REST API (src/adapters/actions-pages.ts)
// and recorded exactly as their webhooks record them (src/handlers/actions-results.ts), so running both never counts
// an attempt twice. A run whose jobs are all recorded after it completed is marked done, and a rerun skips it: an
// interrupted backfill resumes where it stopped. Used by `katabot backfill` and the bot's periodic catch-up.
import type { ActionsPages } from '../adapters/actions-pages.ts';
import type { GitHub } from '../adapters/github.ts';
import { runInfoOf } from '../jobs/actions.ts';
import { recordActionsJob } from './actions-results.ts';
import type { HandlerDeps } from './deps.ts';
import { rememberRun } from './facts.ts';

export interface BackfillOptions {
  since: Date;
  /** Workflow files (ci-nightly.yaml); none: every workflow of the repository. */
  workflows: readonly string[];
  /** Stops after the run in hand (Ctrl-C); what is recorded stays, a rerun goes on from there. */
  signal?: AbortSignal;
  onProgress?: (p: BackfillProgress) => void;
}

export interface BackfillProgress {
  /** Runs GitHub lists in the window (as far as known), and runs handled so far. */
  total: number;
  runs: number;
  /** Runs skipped because an earlier backfill recorded them whole. */
  skipped: number;
  /** Job attempts recorded (unchanged ones included). */
  jobs: number;
}

/** How long a run stays marked as recorded whole. */
const DONE_TTL_SECONDS = 30 * 24 * 3600;

export async function backfillActions(deps: HandlerDeps, gh: GitHub, pages: ActionsPages, o: BackfillOptions): Promise<BackfillProgress & { interrupted: boolean }> {
  const p: BackfillProgress = { total: 0, runs: 0, skipped: 0, jobs: 0 };
  const stopped = () => o.signal?.aborted === true;
  // A fork's runs name no PR: link the heads of the window's PRs first.
  for await (const heads of pages.pulls(o.since)) {
    for (const h of heads) await deps.results.linkPull(gh.fullName, h.sha, h.number);
    if (stopped()) return { ...p, interrupted: true };
  }
  const sources = o.workflows.length > 0 ? [...o.workflows] : [undefined];
  let known = 0;
  for (const workflow of sources) {
    let counted = false;
    for await (const page of pages.runs(o.since, workflow)) {
      if (!counted && page.total !== undefined) {
        known += page.total;
        counted = true;
      }
      p.total = Math.max(known, p.runs + page.items.length);
      for (const r of page.items) {
        if (stopped()) return { ...p, interrupted: true };
        const done = `backfill-done:${gh.fullName.toLowerCase()}:${r.id}:${r.run_attempt ?? 1}`;
        if (r.status === 'completed' && (await deps.store.get(done))) {
          p.runs++;
          p.skipped++;
          o.onProgress?.({ ...p });
          continue;
        }
        const run = runInfoOf(r);
        await rememberRun(deps, gh.fullName, run);
        for (const job of await pages.jobs(r.id)) {
          if (await recordActionsJob(deps, gh, job, run)) p.jobs++;
        }
        if (r.status === 'completed') await deps.store.set(done, '1', DONE_TTL_SECONDS);
        p.runs++;
        o.onProgress?.({ ...p });
      }
    }
  }
  return { ...p, interrupted: false };
}
