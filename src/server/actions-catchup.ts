// Periodic catch-up of GitHub Actions results (KATABOT_ACTIONS_CATCHUP_REPOS): every few minutes one replica runs
// a short backfill of each listed repository over twice the interval, so jobs whose webhooks were missed while the
// bot was down (or refused by a full queue) still reach the dashboard. Same records as webhooks: nothing counts twice.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { ActionsPages } from '../adapters/actions-pages.ts';
import { GitHub, type Octokit } from '../adapters/github.ts';
import type { GitHubApp } from '../adapters/github-app.ts';
import { backfillActions } from '../handlers/actions-backfill.ts';
import type { HandlerDeps } from '../handlers/deps.ts';

export interface CatchupOptions {
  repos: readonly string[];
  minutes: number;
  deps: HandlerDeps;
  github: GitHubApp;
  log: Logger;
}

/** Starts the timer; returns how to stop it. */
export function startActionsCatchup(o: CatchupOptions): () => void {
  if (o.repos.length === 0 || o.minutes <= 0) return () => undefined;
  const intervalMs = o.minutes * 60_000;
  const me = `${hostname()}:${process.pid}`;
  let running: Promise<void> | undefined;
  const abort = new AbortController();
  const once = async (): Promise<void> => {
    // One replica per interval: the lease is not released, it ends with the interval.
    if (!(await o.deps.store.acquireLease('actions-catchup', me, intervalMs - 1000))) return;
    for (const full of o.repos) {
      if (abort.signal.aborted) return;
      const [owner, repo] = full.split('/') as [string, string];
      try {
        const id = await o.github.installationFor(owner, repo);
        if (id === undefined) continue;
        const octokit = (await o.github.probot.auth(id)) as unknown as Octokit;
        const done = await backfillActions(o.deps, new GitHub(octokit, owner, repo), new ActionsPages(octokit, o.deps.store, owner, repo), {
          since: new Date(Date.now() - 2 * intervalMs),
          workflows: [],
          signal: abort.signal,
        });
        o.log.info({ repo: full, runs: done.runs, skipped: done.skipped, jobs: done.jobs }, 'actions catch-up');
      } catch (err) {
        o.log.warn({ repo: full, err: (err as Error).message }, 'actions catch-up failed; trying again next interval');
      }
    }
  };
  const tick = () => {
    running ??= once().finally(() => {
      running = undefined;
    });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    abort.abort();
  };
}
