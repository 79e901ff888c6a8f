// Assembles katabot: config, adapters, probot handlers, the queue worker and the HTTP server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import express from 'express';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { createGitHubApp, type GitHubApp } from '../adapters/github-app.ts';
import { fileProwJobClient, kubeProwJobClient, type ProwJobClient } from '../adapters/kube.ts';
import { MemoryWebhookQueue, RedisWebhookQueue, type WebhookQueue, type WebhookTask } from '../adapters/queue.ts';
import { ReportState } from '../adapters/report-state.ts';
import { MemoryResultsStore, RedisResultsStore, type ResultsStore } from '../adapters/results-store.ts';
import { MemoryStore, RedisStore, type Store } from '../adapters/store.ts';
import { openApiFallback } from '../behavior/openapi-load.ts';
import { WatchedFile } from '../adapters/watched-file.ts';
import { NO_REQUIRED_TESTS, parseRequiredTests } from '../dashboard/required.ts';
import type { RuntimeOptions } from '../config/env.ts';
import { ConfigSource } from '../config/load.ts';
import { eventsViaHook, pluginsWarnings } from '../config/plugins-config.ts';
import { prowJobNamespace } from '../config/prow-config.ts';
import type { HandlerDeps } from '../handlers/deps.ts';
import { katabotApp, REGISTRATIONS } from '../handlers/index.ts';
import { tdxApprovalKeyFor } from '../handlers/facts.ts';
import { payloadProblem } from '../handlers/payloads.ts';
import { commandlessComment, deliveryNeedsWork, deliveryRepo } from '../plan/deliveries.ts';
import { repoConfig } from '../plan/repo.ts';
import { LABEL } from '../policy/labels.ts';
import { createReporterService, type ReporterService } from '../reporter/index.ts';
import { informerSource, pollingSource, type ProwJobSource } from '../reporter/watcher.ts';
import { createApiRouter } from './api.ts';
import { createApiUsageRouter } from './api-usage.ts';
import { createDashboardRouter } from './dashboard.ts';
import { DashboardData } from './dashboard-data.ts';
import { createIntake, isWebhookRequest } from './intake.ts';
import { createMetrics, type Metrics } from '../adapters/metrics.ts';
import { pluginHelp } from './plugin-help.ts';
import { startActionsCatchup } from './actions-catchup.ts';

const HANDLED_ACTIONS: ReadonlySet<string> = new Set(Object.values(REGISTRATIONS).flat());

/**
 * An answer no retry changes: GitHub's 404/410 (the PR, comment or repository is gone) and 422 (refused as
 * invalid), and Kubernetes' 422 (an invalid object). Rate limits, 5xx and network errors stay retryable.
 */
export function isPermanentFailure(err: unknown): boolean {
  const e = err as { name?: string; status?: unknown; code?: unknown };
  if (e?.name === 'HttpError' && typeof e.status === 'number') return e.status === 404 || e.status === 410 || e.status === 422;
  return e?.code === 422;
}

export interface Katabot {
  server: Server;
  url: string;
  deps: HandlerDeps;
  queue: WebhookQueue;
  github: GitHubApp;
  metrics: Metrics;
  /** The leader-elected ProwJob reporter (undefined when KATABOT_REPORTER=false). */
  reporter?: ReporterService;
  close(): Promise<void>;
}

export interface StartOverrides {
  log?: Logger;
  now?: () => Date;
  /** Key prefix in Redis, so parallel tests can share one server. */
  redisPrefix?: string;
  /** Do not consume the queue (intake-only replica, or a crash test that kills before handling). */
  noWorker?: boolean;
  /** Do not run the reporter on this replica. */
  noReporter?: boolean;
}

export async function startKatabot(opts: RuntimeOptions, overrides: StartOverrides = {}): Promise<Katabot> {
  const log = overrides.log ?? pino({ level: opts.logLevel, base: { name: 'katabot' } });

  const config = new ConfigSource(
    { PROW_CONFIG: opts.prowConfig, JOB_CONFIG: opts.jobConfig, KATABOT_CONFIG: opts.katabotConfig, PLUGIN_CONFIG: opts.pluginConfig },
    log,
  );
  const first = await config.start();
  // PROWJOB_NAMESPACE wins; else config.yaml's prowjob_namespace, the namespace plank watches.
  const namespace = prowJobNamespace(opts.prowjobNamespace, first.prow);
  config.onChange((s) => {
    const now = prowJobNamespace(opts.prowjobNamespace, s.prow);
    if (now !== namespace) log.warn({ namespace, configured: now }, 'prowjob_namespace changed in config.yaml; restart katabot to use it');
  });
  if (first.plugins) {
    const viaHook = eventsViaHook(Object.values(REGISTRATIONS).flat());
    for (const line of pluginsWarnings(first.plugins, first.katabot.external_plugin_name, viaHook)) log.warn(line);
  }

  const prefix = overrides.redisPrefix ?? 'katabot';
  let store: Store;
  let queue: WebhookQueue;
  let results: ResultsStore;
  const metrics = createMetrics({ defaults: true, queueDepth: () => queue.depth() });
  if (opts.redisUrl) {
    const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 2, retryStrategy: (n) => Math.min(n * 100, 1000) });
    redis.on('error', (err) => log.debug({ err: err.message }, 'store connection error'));
    store = new RedisStore(redis, `${prefix}:`);
    results = new RedisResultsStore(redis, `${prefix}:`, opts.resultsRetentionDays);
    queue = new RedisWebhookQueue({ redisUrl: opts.redisUrl, prefix, concurrency: opts.workerConcurrency, lockMs: opts.jobLockMs, log, metrics });
  } else {
    log.warn('REDIS_URL is unset: using an in-memory queue and store; run a single replica only, and a crash loses queued events');
    store = new MemoryStore();
    results = new MemoryResultsStore();
    queue = new MemoryWebhookQueue(opts.workerConcurrency, log);
  }
  const reports = new ReportState(store);

  // Start even when Redis is down (readyz reports it and intake answers 503), but give it a moment first.
  await queue.ready().catch((err: Error) => log.warn({ err: err.message }, 'queue not ready yet'));

  let prowjobs: ProwJobClient;
  let source: ProwJobSource;
  if (opts.kubeconfig || opts.inCluster) {
    const kc = new KubeConfig();
    // In a pod without KUBECONFIG, use the ServiceAccount (its token file is re-read as it rotates).
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromCluster();
    prowjobs = kubeProwJobClient(kc, namespace, log);
    source = informerSource(kc, namespace, log.child({ component: 'prowjob-watch' }), { resyncMs: opts.reporterResyncSeconds * 1000 });
  } else {
    log.warn('KUBECONFIG is unset and not in a cluster: ProwJobs are written as YAML under ./.katabot/prowjobs/');
    prowjobs = fileProwJobClient('.katabot/prowjobs', namespace);
    source = pollingSource(prowjobs, 2000, log.child({ component: 'prowjob-poll' }));
  }

  const github = await createGitHubApp(opts, log, metrics);
  if (github.dryRun) log.warn('APP_ID/PRIVATE_KEY are unset: dry-run GitHub, writes are logged and not sent');
  if (opts.generatedSecret) log.warn({ secret: opts.webhookSecrets[0] }, 'WEBHOOK_SECRET is unset: using a development secret');

  // Kata's required-tests.yaml: the dashboard's required jobs, and what /retest-required re-runs of GitHub Actions.
  const requiredTests = new WatchedFile(opts.requiredTests, NO_REQUIRED_TESTS, parseRequiredTests, log.child({ component: 'required-tests' }), 5000);
  const deps: HandlerDeps = {
    config: () => config.current(),
    requiredTests: () => requiredTests.get(),
    prowjobs,
    store,
    results,
    reports,
    metrics,
    log,
    botLogin: () => github.botLogin(),
    now: overrides.now ?? (() => new Date()),
    ...(opts.publicUrl && opts.dashboard ? { reportUrl: (id: string) => `${opts.publicUrl}/dashboard/behavior/${encodeURIComponent(id)}` } : {}),
  };
  await github.probot.load(katabotApp(deps));

  if (!overrides.noWorker) queue.consume((task, attempt) => handleTask(task, attempt));
  const stopCatchup = startActionsCatchup({ repos: opts.actionsCatchupRepos, minutes: opts.actionsCatchupMinutes, deps, github, log: log.child({ component: 'actions-catchup' }) });

  /** The filter intake and the worker share (src/plan/deliveries.ts), with the config and the App's login. */
  async function needsWork(event: string, payload: unknown): Promise<boolean> {
    const where = deliveryRepo(payload);
    const snapshot = config.current();
    const repo = where ? repoConfig(snapshot, where.owner, where.repo) : { policy: snapshot.katabot, presubmits: [], postsubmits: [], inRepoConfig: false };
    return deliveryNeedsWork(event, payload, { botLogin: await github.botLogin(), ...repo });
  }

  async function handleTask(task: WebhookTask, attempt: number): Promise<void> {
    const started = Date.now();
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(task.body) as Record<string, unknown>;
    } catch {
      log.error({ delivery: task.id, event: task.name }, 'webhook body is not JSON; dropped');
      metrics.handlingSeconds.observe({ event: task.name, result: 'invalid' }, 0);
      return;
    }
    // A payload that lacks what the handlers read can never be handled: one line naming the field, no retries.
    const problem = payloadProblem(task.name, payload, HANDLED_ACTIONS);
    if (problem) {
      log.warn({ delivery: task.id, event: task.name, problem }, 'webhook payload cannot be handled; dropped');
      metrics.handlingSeconds.observe({ event: task.name, result: 'invalid' }, 0);
      return;
    }
    // Persisted before the filter could tell (or by an older replica): it still needs no work.
    if (!(await needsWork(task.name, payload).catch(() => true))) {
      metrics.handlingSeconds.observe({ event: task.name, result: 'no_work' }, 0);
      return;
    }
    await attachInstallation(payload);
    try {
      await github.probot.receive({ id: task.id, name: task.name, payload } as never);
      metrics.handlingSeconds.observe({ event: task.name, result: 'ok' }, (Date.now() - task.receivedAt) / 1000);
    } catch (err) {
      const errors = (err as { errors?: Error[] }).errors ?? [err as Error];
      // Retrying cannot change GitHub's or Kubernetes' answer about a deleted PR or an invalid object.
      if (errors.every(isPermanentFailure)) {
        log.warn({ delivery: task.id, event: task.name, errors: errors.map((e) => e.message) }, 'handling refused for good; dropped');
        metrics.handlingSeconds.observe({ event: task.name, result: 'dropped' }, (Date.now() - started) / 1000);
        return;
      }
      metrics.handlingSeconds.observe({ event: task.name, result: 'error' }, (Date.now() - started) / 1000);
      log.warn({ delivery: task.id, event: task.name, attempt, errors: errors.map((e) => e.message) }, 'handler failed; will retry');
      throw err;
    }
  }

  /**
   * Prow's hook may forward repo-webhook payloads without `installation`; find it, and remember it. Ids that
   * payloads carry are remembered too, so the reporter rarely has to ask GitHub.
   */
  async function attachInstallation(payload: Record<string, unknown>): Promise<void> {
    if (github.dryRun) return;
    const repo = payload.repository as { name?: string; owner?: { login?: string } } | undefined;
    if (!repo?.name || !repo.owner?.login) return;
    const key = `installation:${repo.owner.login}/${repo.name}`.toLowerCase();
    const carried = (payload.installation as { id?: unknown } | undefined)?.id;
    if (carried !== undefined) {
      // Overwritten, not set-if-absent: a reinstalled App has a new id.
      if (Number.isInteger(carried)) await store.set(key, String(carried), 7 * 24 * 3600).catch(() => undefined);
      return;
    }
    let id = Number((await store.get(key)) ?? NaN);
    if (!Number.isInteger(id)) {
      const found = await github.installationFor(repo.owner.login, repo.name);
      if (!found) return;
      id = found;
      await store.set(key, String(id), 7 * 24 * 3600);
    }
    payload.installation = { id };
  }

  const intake = createIntake({
    secrets: () => opts.webhookSecrets,
    queue,
    metrics,
    log,
    maxBodyBytes: opts.maxBodyBytes,
    handledEvents: new Set(Object.keys(REGISTRATIONS)),
    // Chatter is ruled out from the raw body when it can be (no parse), the rest by the full filter.
    needsWork: (event, body) => {
      const raw = body.toString('utf8');
      return commandlessComment(event, raw, config.current()) ? false : needsWork(event, JSON.parse(raw));
    },
  });

  const web = express();
  web.disable('x-powered-by');
  web.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  web.get('/readyz', async (_req, res) => {
    const checks = await Promise.allSettled([store.ping(), queue.ready(), prowjobs.ready()]);
    const names = ['store', 'queue', 'kubernetes'];
    const failed = checks.flatMap((c, i) => (c.status === 'rejected' ? [`${names[i]}: ${(c.reason as Error).message}`] : []));
    res.status(failed.length ? 503 : 200).type('text/plain').send(failed.length ? failed.join('\n') + '\n' : 'ready\n');
  });
  web.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  web.post('/help', express.json({ limit: '1mb' }), (req, res) => {
    const repos = Array.isArray(req.body) ? (req.body as Array<{ Org?: string; Repo?: string }>) : [];
    res.set('cache-control', 'no-cache').json(pluginHelp(config.current().katabot, Object.keys(REGISTRATIONS), repos));
  });
  if (opts.dashboard) {
    // Read-only views of the results store; webhooks never reach express (see createServer below).
    const dashboard = new DashboardData({
      results,
      store,
      jobs: () => config.current().jobs,
      githubWebUrl: opts.githubWebUrl,
      requiredTestsPath: opts.requiredTests,
      requiredTests,
      maintainersPath: opts.maintainers,
      log: log.child({ component: 'dashboard' }),
      cancelledAsFailure: opts.dashboardCancelledAsFailure,
      ciLabels: () => [LABEL.okToTest, LABEL.needsOkToTest, config.current().katabot.tdx.label],
      tdxApprovalKey: tdxApprovalKeyFor,
    });
    web.use('/api/apis', createApiUsageRouter(store, log.child({ component: 'dashboard-api' })));
    web.use('/api', createApiRouter(dashboard, log.child({ component: 'dashboard-api' })));
    web.use('/dashboard', createDashboardRouter(dashboard, { assetsDir: opts.dashboardAssets, log: log.child({ component: 'dashboard' }), frameAncestors: opts.dashboardFrameAncestors }));
  }
  web.get('/', (_req, res) => {
    res.type('text/plain').send(`katabot: POST GitHub webhooks to / or /api/github/webhooks${opts.dashboard ? '; the CI dashboard is at /dashboard' : ''}\n`);
  });
  web.use((_req, res) => {
    res.status(404).type('text/plain').send('not found\n');
  });

  const server = createServer((req, res) => {
    if (isWebhookRequest(req)) void intake(req, res);
    else web(req, res);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  log.info({ url, redis: store.kind, kubernetes: opts.kubeconfig ? 'kubeconfig' : opts.inCluster ? 'in-cluster' : 'files', dryRun: github.dryRun }, 'katabot listening');

  const openapi = openApiFallback(opts.openapi, (err) => log.warn({ openapi: opts.openapi, err: err.message }, 'KATABOT_OPENAPI cannot be loaded; API calls without a captured spec are keyed by verb and resource'));

  // The reporter starts once the server is up; every replica campaigns, one reports.
  let reporter: ReporterService | undefined;
  if (opts.reporter && !overrides.noReporter) {
    reporter = createReporterService({
      config: () => config.current(),
      store,
      reports,
      results,
      github,
      source,
      log,
      metrics,
      leaseMs: opts.reporterLeaseMs,
      concurrency: opts.reporterConcurrency,
      coalesce: opts.reporterCoalesce,
      maxAgeMs: opts.reportMaxAgeHours * 3600 * 1000,
      // traced jobs without a baseline get a traced base-SHA run (src/reporter/behavior.ts)
      prowjobs,
      behavior: {
        // the behavior comment and check run link the report on the dashboard's Behavior page
        ...(opts.publicUrl && opts.dashboard ? { reportUrl: (id: string) => `${opts.publicUrl}/dashboard/behavior/${encodeURIComponent(id)}` } : {}),
        // traced jobs that captured no /openapi/v2 beside their audit log are read with KATABOT_OPENAPI
        ...(openapi ? { openapi } : {}),
      },
    });
    reporter.start();
  }

  return {
    server,
    url,
    deps,
    queue,
    github,
    metrics,
    ...(reporter ? { reporter } : {}),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      stopCatchup();
      await queue.close();
      // Stops reporting and releases the lease, so another replica takes over at once.
      await reporter?.stop();
      await store.close();
      config.close();
    },
  };
}
