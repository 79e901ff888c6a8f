// Prometheus metrics. Kept with the adapters because every layer above them counts into these. One registry per
// process (per app instance in tests) so tests do not share counters.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  webhooks: Counter<'event' | 'result'>;
  commands: Counter<'command' | 'outcome'>;
  prowjobsCreated: Counter<'type' | 'result'>;
  queueDepth: Gauge;
  handlingSeconds: Histogram<'event' | 'result'>;
  intakeSeconds: Histogram<'result'>;
  githubCalls: Counter<'method' | 'status'>;
  reports: Counter<'channel' | 'result'>;
  reporterLeader: Gauge;
  reporterBacklog: Gauge;
  actionsJobsRecorded: Counter<'state'>;
  reporterWrites: Gauge;
  bodiesMissing: Counter;
}

export function createMetrics(opts: { defaults?: boolean; queueDepth?: () => Promise<number> } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaults) collectDefaultMetrics({ register: registry, prefix: 'katabot_' });
  const depth = opts.queueDepth;
  return {
    registry,
    webhooks: new Counter({
      name: 'katabot_webhooks_total',
      help: 'Webhook deliveries received, by event and result (accepted, duplicate, ignored: an event katabot has no handler for, no_work: a delivery no handler would act on, unauthorized, invalid, unavailable).',
      labelNames: ['event', 'result'],
      registers: [registry],
    }),
    commands: new Counter({
      name: 'katabot_commands_total',
      help: 'Slash commands seen, by command and outcome (run, denied, replied).',
      labelNames: ['command', 'outcome'],
      registers: [registry],
    }),
    prowjobsCreated: new Counter({
      name: 'katabot_prowjobs_created_total',
      help: 'ProwJobs created (result=created) or found already present from an earlier attempt (result=exists).',
      labelNames: ['type', 'result'],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'katabot_queue_depth',
      help: 'Webhooks waiting or being handled.',
      registers: [registry],
      async collect() {
        if (depth) this.set(await depth().catch(() => -1));
      },
    }),
    handlingSeconds: new Histogram({
      name: 'katabot_webhook_handling_seconds',
      help: 'Time from receipt of a webhook to the end of its handling, by result: ok, invalid (the payload lacks what handlers read), dropped (GitHub or Kubernetes refused for good), error (retried).',
      labelNames: ['event', 'result'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    intakeSeconds: new Histogram({
      name: 'katabot_intake_seconds',
      help: 'Time to verify and persist a webhook before answering.',
      labelNames: ['result'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    githubCalls: new Counter({
      name: 'katabot_github_requests_total',
      help: 'GitHub API requests made, by method and status.',
      labelNames: ['method', 'status'],
      registers: [registry],
    }),
    reports: new Counter({
      name: 'katabot_reports_total',
      help: 'ProwJob reports to GitHub, by channel (check, status, comment) and result (created, updated, unchanged, skipped, error).',
      labelNames: ['channel', 'result'],
      registers: [registry],
    }),
    reporterLeader: new Gauge({
      name: 'katabot_reporter_leader',
      help: '1 while this replica holds the reporter lease and reports ProwJobs to GitHub.',
      registers: [registry],
    }),
    reporterBacklog: new Gauge({
      name: 'katabot_reporter_backlog',
      help: 'ProwJobs waiting to be reconciled by the reporter.',
      registers: [registry],
    }),
    actionsJobsRecorded: new Counter({
      name: 'katabot_actions_jobs_recorded_total',
      help: 'GitHub Actions job events recorded in the results store (webhooks and backfill), by the stored state.',
      labelNames: ['state'],
      registers: [registry],
    }),
    reporterWrites: new Gauge({
      name: 'katabot_reporter_pending_writes',
      help: 'GitHub writes the reporter has pending (one per check run, status or PR comment; each shows the latest state when it goes out).',
      registers: [registry],
    }),
    bodiesMissing: new Counter({
      name: 'katabot_webhook_bodies_missing_total',
      help: 'Queued deliveries whose stored body was gone when the worker came to them; each is dropped without retries (its delivery id is logged).',
      registers: [registry],
    }),
  };
}
