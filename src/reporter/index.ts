// The reporter service: campaigns for the reporter lease; while it holds it, follows ProwJobs (list+watch) and
// reports them to GitHub. Every replica runs one; exactly one reports at a time.
import type { Logger } from 'pino';
import type { GitHubApp } from '../adapters/github-app.ts';
import { GitHub, type Octokit } from '../adapters/github.ts';
import type { ProwJobClient } from '../adapters/kube.ts';
import type { ReportState } from '../adapters/report-state.ts';
import type { ResultsStore } from '../adapters/results-store.ts';
import type { Store } from '../adapters/store.ts';
import type { BehaviorDeps } from '../behavior/traced-run.ts';
import type { ArtifactStore } from '../artifacts/index.ts';
import type { ConfigSnapshot } from '../config/load.ts';
import type { Metrics } from '../adapters/metrics.ts';
import { BehaviorReporter } from './behavior.ts';
import { LeaderElector } from './leader.ts';
import { Reporter } from './reporter.ts';
import type { ProwJobSource } from './watcher.ts';

export interface ReporterServiceOptions {
  config: () => ConfigSnapshot;
  store: Store;
  reports: ReportState;
  results: ResultsStore;
  github: GitHubApp;
  source: ProwJobSource;
  log: Logger;
  metrics: Metrics;
  leaseMs: number;
  concurrency: number;
  /** Coalesced, prioritised GitHub writes (default true; false: the reporter before, a benchmark's baseline). */
  coalesce?: boolean;
  /** Opens a job's artifact bucket for its JUnit files (default: openArtifactStore with default credentials). */
  artifacts?: (storageUrl: string) => ArtifactStore;
  maxAgeMs: number;
  /** Where the behavior channel creates the traced base-SHA run of a PR job without a baseline. */
  prowjobs?: ProwJobClient;
  /** Options of the behavior diff (artifact stores default to openArtifactStore with default credentials). */
  behavior?: Omit<BehaviorDeps, 'store'>;
}

export interface ReporterService {
  start(): void;
  stop(): Promise<void>;
  isLeader(): boolean;
  /** Resolves when this replica has nothing queued or in flight (tests). */
  idle(): Promise<void>;
  readonly identity: string;
}

/** How long an installation's Octokit is reused; its token is minted on demand and refreshed by the auth hook. */
const OCTOKIT_TTL_MS = 10 * 60 * 1000;
const INSTALLATION_TTL_SECONDS = 7 * 24 * 3600;

/** Installation-authenticated GitHub per repo: the installation id is persisted in the store. */
function installationGitHub(app: GitHubApp, store: Store): (owner: string, repo: string) => Promise<GitHub> {
  const octokits = new Map<number, { octokit: Octokit; until: number }>();
  return async (owner, repo) => {
    if (app.dryRun) return new GitHub((await app.probot.auth()) as Octokit, owner, repo);
    const key = `installation:${owner}/${repo}`.toLowerCase();
    let id = Number((await store.get(key)) ?? NaN);
    if (!Number.isInteger(id)) {
      const found = await app.installationFor(owner, repo);
      if (!found) throw new Error(`katabot is not installed on ${owner}/${repo}`);
      id = found;
      await store.set(key, String(id), INSTALLATION_TTL_SECONDS);
    }
    let entry = octokits.get(id);
    if (!entry || entry.until < Date.now()) {
      entry = { octokit: (await app.probot.auth(id)) as Octokit, until: Date.now() + OCTOKIT_TTL_MS };
      octokits.set(id, entry);
    }
    return new GitHub(entry.octokit, owner, repo);
  };
}

export function createReporterService(o: ReporterServiceOptions): ReporterService {
  const log = o.log.child({ component: 'reporter' });
  let elector: LeaderElector;
  const github = installationGitHub(o.github, o.store);
  const behavior = new BehaviorReporter({
    config: o.config,
    store: o.store,
    reports: o.reports,
    github,
    botLogin: () => o.github.botLogin(),
    log,
    metrics: o.metrics,
    ...(o.prowjobs ? { prowjobs: o.prowjobs } : {}),
    ...(o.behavior ? { behavior: o.behavior } : {}),
  });
  const reporter = new Reporter({
    config: o.config,
    store: o.store,
    reports: o.reports,
    results: o.results,
    github,
    botLogin: () => o.github.botLogin(),
    log,
    metrics: o.metrics,
    leader: {
      assertLeading: () => elector.assertLeading(),
      fence: () => elector.fence(),
    },
    maxAgeMs: o.maxAgeMs,
    concurrency: o.concurrency,
    ...(o.coalesce !== undefined ? { coalesce: o.coalesce } : {}),
    ...(o.artifacts ? { artifacts: o.artifacts } : {}),
    latest: (name) => o.source.get(name),
    behavior,
  });

  elector = new LeaderElector({
    store: o.store,
    ttlMs: o.leaseMs,
    log,
    async onStart() {
      o.metrics.reporterLeader.set(1);
      reporter.resume();
      await o.source.start({ onJob: (pj) => reporter.enqueue(pj), onResync: (all) => reporter.resync(all) });
      log.info('reporting ProwJobs');
    },
    async onStop(reason) {
      o.metrics.reporterLeader.set(0);
      await o.source.stop();
      await reporter.halt();
      log.info({ reason }, 'stopped reporting ProwJobs');
    },
  });

  return {
    start: () => elector.start(),
    stop: () => elector.stop(),
    isLeader: () => elector.isLeader(),
    idle: () => reporter.idle(),
    get identity() {
      return elector.identity;
    },
  };
}
