// Runtime options from the environment (probot's variable names where probot has one). Pure: takes an env map.
import { randomBytes } from 'node:crypto';

export interface RuntimeOptions {
  port: number;
  host: string;
  /** Every configured secret verifies; a list allows rotation without downtime. */
  webhookSecrets: string[];
  /** True when WEBHOOK_SECRET was unset and a development secret was generated. */
  generatedSecret: boolean;
  appId?: string;
  privateKey?: string;
  privateKeyPath?: string;
  /** API base URL, e.g. https://api.github.com or https://ghe.example.org/api/v3 */
  githubApiUrl: string;
  /** Web URL, for links: https://github.com or https://ghe.example.org */
  githubWebUrl: string;
  redisUrl?: string;
  kubeconfig?: string;
  /** Running in a Kubernetes pod (service account credentials available) and KUBECONFIG unset. */
  inCluster: boolean;
  /** PROWJOB_NAMESPACE; when unset, config.yaml's prowjob_namespace applies (see prowJobNamespace). */
  prowjobNamespace?: string;
  prowConfig?: string;
  /** Prow's plugins.yaml: per-repo trigger settings and external plugin entries. */
  pluginConfig?: string;
  jobConfig?: string;
  katabotConfig?: string;
  /** Largest accepted webhook body; GitHub caps payloads at 25 MB. */
  maxBodyBytes: number;
  workerConcurrency: number;
  /** How long a webhook being handled stays locked to its replica; a crashed replica's work is retried after it. */
  jobLockMs: number;
  /** Minimum spacing of GitHub writes, as GitHub asks of integrations (secondary rate limits). */
  githubWriteIntervalMs: number;
  logLevel: string;
  /** Login of the bot when GitHub cannot be asked (dry-run). */
  botLogin?: string;
  /** Run the leader-elected ProwJob reporter (check runs, statuses, failure comment). */
  reporter: boolean;
  /** Reporter lease in Redis: one replica reports; another takes over this long after it dies. */
  reporterLeaseMs: number;
  /** ProwJobs reported in parallel by the leader. */
  reporterConcurrency: number;
  /** Coalesce the reporter's GitHub writes per target, most urgent first (false: one write per state, in order). */
  reporterCoalesce: boolean;
  /** Every known ProwJob is reconciled again this often (also after every watch gap). */
  reporterResyncSeconds: number;
  /** ProwJobs first seen this long after they completed are recorded but not reported (history, e.g. crier's). */
  reportMaxAgeHours: number;
  /** How long job results and attempts are kept for rerun counts, flakiness and the dashboard. */
  resultsRetentionDays: number;
  /** Serve the dashboard (/dashboard) and its JSON API (/api/). */
  dashboard: boolean;
  /** Kata's gatekeeper required-tests.yaml: which jobs the dashboard marks required. */
  requiredTests?: string;
  /** Kata's maintainers.yml: owners per job on the dashboard. */
  maintainers?: string;
  /** The built front end (default: dist/web beside the code). */
  dashboardAssets?: string;
  /** katabot's external URL: GitHub links to its dashboard (the behavior diff's check run and comment). */
  publicUrl?: string;
  /** An OpenAPI v2 spec (file or URL) for traced jobs that did not capture their cluster's /openapi/v2. */
  openapi?: string;
  /** Origins that may embed the dashboard in an iframe (CSP frame-ancestors); none by default. */
  dashboardFrameAncestors: string[];
  /** Count a cancelled GitHub Actions job as a failure on the dashboard, as Kata's does (default: a skip). */
  dashboardCancelledAsFailure: boolean;
  /** Repositories (owner/repo) whose GitHub Actions runs the bot catches up on periodically (webhooks missed). */
  actionsCatchupRepos: string[];
  /** How often, in minutes; 0 turns catch-up off. */
  actionsCatchupMinutes: number;
}

export function runtimeOptions(env: Record<string, string | undefined>): RuntimeOptions {
  const secrets = (env.WEBHOOK_SECRET ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const generatedSecret = secrets.length === 0;
  if (generatedSecret) secrets.push(`development-${randomBytes(12).toString('hex')}`);
  const protocol = env.GHE_PROTOCOL ?? 'https';
  const ghe = env.GHE_HOST?.trim();
  return {
    port: intOr(env.PORT, 3000, 'PORT'),
    host: env.HOST ?? '0.0.0.0',
    webhookSecrets: secrets,
    generatedSecret,
    appId: nonEmpty(env.APP_ID),
    privateKey: nonEmpty(env.PRIVATE_KEY),
    privateKeyPath: nonEmpty(env.PRIVATE_KEY_PATH),
    githubApiUrl: ghe ? `${protocol}://${ghe}/api/v3` : 'https://api.github.com',
    githubWebUrl: ghe ? `${protocol}://${ghe}` : 'https://github.com',
    redisUrl: nonEmpty(env.REDIS_URL),
    kubeconfig: nonEmpty(env.KUBECONFIG),
    inCluster: !nonEmpty(env.KUBECONFIG) && Boolean(nonEmpty(env.KUBERNETES_SERVICE_HOST)),
    prowjobNamespace: nonEmpty(env.PROWJOB_NAMESPACE),
    prowConfig: nonEmpty(env.PROW_CONFIG),
    pluginConfig: nonEmpty(env.PLUGIN_CONFIG),
    jobConfig: nonEmpty(env.JOB_CONFIG),
    katabotConfig: nonEmpty(env.KATABOT_CONFIG),
    maxBodyBytes: intOr(env.KATABOT_MAX_BODY_BYTES, 26_214_400, 'KATABOT_MAX_BODY_BYTES'),
    workerConcurrency: intOr(env.KATABOT_WORKER_CONCURRENCY, 8, 'KATABOT_WORKER_CONCURRENCY'),
    jobLockMs: positiveOr(env.KATABOT_JOB_LOCK_MS, 30_000, 'KATABOT_JOB_LOCK_MS'),
    githubWriteIntervalMs: intOr(env.KATABOT_GITHUB_WRITE_INTERVAL_MS, 1000, 'KATABOT_GITHUB_WRITE_INTERVAL_MS'),
    logLevel: env.LOG_LEVEL ?? 'info',
    botLogin: nonEmpty(env.KATABOT_BOT_LOGIN),
    reporter: boolOr(env.KATABOT_REPORTER, true, 'KATABOT_REPORTER'),
    reporterLeaseMs: positiveOr(env.KATABOT_REPORTER_LEASE_MS, 15_000, 'KATABOT_REPORTER_LEASE_MS'),
    reporterConcurrency: positiveOr(env.KATABOT_REPORTER_CONCURRENCY, 4, 'KATABOT_REPORTER_CONCURRENCY'),
    reporterCoalesce: boolOr(env.KATABOT_REPORTER_COALESCE, true, 'KATABOT_REPORTER_COALESCE'),
    reporterResyncSeconds: intOr(env.KATABOT_REPORTER_RESYNC_SECONDS, 600, 'KATABOT_REPORTER_RESYNC_SECONDS'),
    reportMaxAgeHours: positiveOr(env.KATABOT_REPORT_MAX_AGE_HOURS, 24, 'KATABOT_REPORT_MAX_AGE_HOURS'),
    resultsRetentionDays: positiveOr(env.KATABOT_RESULTS_RETENTION_DAYS, 90, 'KATABOT_RESULTS_RETENTION_DAYS'),
    dashboard: boolOr(env.KATABOT_DASHBOARD, true, 'KATABOT_DASHBOARD'),
    requiredTests: nonEmpty(env.KATABOT_REQUIRED_TESTS),
    maintainers: nonEmpty(env.KATABOT_MAINTAINERS),
    dashboardAssets: nonEmpty(env.KATABOT_DASHBOARD_ASSETS),
    publicUrl: nonEmpty(env.KATABOT_PUBLIC_URL)?.replace(/\/+$/, ''),
    openapi: nonEmpty(env.KATABOT_OPENAPI),
    dashboardFrameAncestors: frameAncestors(env.KATABOT_DASHBOARD_FRAME_ANCESTORS),
    dashboardCancelledAsFailure: boolOr(env.KATABOT_DASHBOARD_CANCELLED_AS_FAILURE, false, 'KATABOT_DASHBOARD_CANCELLED_AS_FAILURE'),
    actionsCatchupRepos: repoList(env.KATABOT_ACTIONS_CATCHUP_REPOS, 'KATABOT_ACTIONS_CATCHUP_REPOS'),
    actionsCatchupMinutes: intOr(env.KATABOT_ACTIONS_CATCHUP_MINUTES, 30, 'KATABOT_ACTIONS_CATCHUP_MINUTES'),
  };
}

/** Space- or comma-separated origins (https://host[:port], or a CSP host source such as https://*.example.org). */
function frameAncestors(v: string | undefined): string[] {
  const items = (v ?? '').split(/[\s,]+/).filter(Boolean);
  for (const o of items) {
    if (!/^https?:\/\/(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$/.test(o)) {
      throw new Error(`environment: KATABOT_DASHBOARD_FRAME_ANCESTORS: "${o}" is not an origin such as https://dashboard.example.org`);
    }
  }
  return items;
}

function repoList(v: string | undefined, name: string): string[] {
  const items = (v ?? '').split(/[\s,]+/).filter(Boolean);
  for (const r of items) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]*\/[A-Za-z0-9._-]+$/.test(r)) throw new Error(`environment: ${name}: "${r}" is not owner/repo`);
  }
  return items;
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

function boolOr(v: string | undefined, fallback: boolean, name: string): boolean {
  if (v === undefined || v.trim() === '') return fallback;
  const t = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off'].includes(t)) return false;
  throw new Error(`environment: ${name}: must be true or false, got "${v}"`);
}

function positiveOr(v: string | undefined, fallback: number, name: string): number {
  const n = intOr(v, fallback, name);
  if (n === 0) throw new Error(`environment: ${name}: must be a positive integer, got "${v}"`);
  return n;
}

function intOr(v: string | undefined, fallback: number, name: string): number {
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`environment: ${name}: must be a non-negative integer, got "${v}"`);
  return n;
}
