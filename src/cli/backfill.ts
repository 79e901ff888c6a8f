// `katabot backfill --repo OWNER/REPO [--workflow FILE …] [--since 14d]`: past GitHub Actions runs and jobs into
// katabot's results store (REDIS_URL), recorded as their webhooks record them, so a new install shows the nightly
// history at once. GitHub through GITHUB_TOKEN, or the App's credentials (APP_ID, PRIVATE_KEY[_PATH]). Pages are
// asked for with ETags; GitHub's primary and secondary rate limits are waited out (the headers say how long) and
// the backfill resumes. Ctrl-C stops after the run in hand; running it again goes on from there.
import { readFile } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import ms from 'ms';
import { pino, type Logger } from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import { ActionsPages } from '../adapters/actions-pages.ts';
import { GitHub, type Octokit } from '../adapters/github.ts';
import { fileProwJobClient } from '../adapters/kube.ts';
import { createMetrics } from '../adapters/metrics.ts';
import { ReportState } from '../adapters/report-state.ts';
import { RedisResultsStore } from '../adapters/results-store.ts';
import { RedisStore } from '../adapters/store.ts';
import { runtimeOptions } from '../config/env.ts';
import { loadConfigSnapshot } from '../config/load.ts';
import { prowJobNamespace } from '../config/prow-config.ts';
import { backfillActions, type BackfillProgress } from '../handlers/actions-backfill.ts';
import type { HandlerDeps } from '../handlers/deps.ts';
import { CliInputError, collect, reportCliError } from './diff.ts';

export interface BackfillCliOptions {
  repo: string;
  workflow: string[];
  since: string;
}

/** `14d`, `36h`, `2w`: how far back, as a time. */
function sinceOf(text: string, now: Date): Date {
  const span = /^\d+(\.\d+)?\s*[a-z]+$/i.test(text.trim()) ? (ms(text.trim() as ms.StringValue) as number | undefined) : undefined;
  if (span === undefined || !Number.isFinite(span) || span <= 0) throw new CliInputError(`--since wants a span such as 14d, 36h or 2w, got ${JSON.stringify(text)}`);
  return new Date(now.getTime() - span);
}

/** Retries of one request that GitHub rate-limited, before the backfill gives up (it can be run again). */
const RATE_LIMIT_RETRIES = 8;

/** An Octokit that waits out GitHub's rate limits (Octokit's throttling plugin reads the headers) and resumes. */
function backfillOctokit(auth: { token: string } | undefined, baseUrl: string, onWait: (seconds: number, why: string) => void): typeof ProbotOctokit {
  const throttle = {
    enabled: true,
    onRateLimit: (retryAfter: number, _o: unknown, _k: unknown, retryCount: number) => {
      onWait(retryAfter, 'the rate limit');
      return retryCount < RATE_LIMIT_RETRIES;
    },
    onSecondaryRateLimit: (retryAfter: number, _o: unknown, _k: unknown, retryCount: number) => {
      onWait(retryAfter, 'the secondary rate limit');
      return retryCount < RATE_LIMIT_RETRIES;
    },
  };
  return ProbotOctokit.defaults({ baseUrl, throttle, ...(auth ? { auth } : {}) }) as typeof ProbotOctokit;
}

/** The installation Octokit for `owner/repo`: a token's, or the App's installation on that repository. */
async function octokitFor(env: NodeJS.ProcessEnv, owner: string, repo: string, onWait: (s: number, why: string) => void, log: Logger): Promise<Octokit> {
  const opts = runtimeOptions(env);
  const token = env.GITHUB_TOKEN?.trim();
  if (token) {
    const Octo = backfillOctokit({ token }, opts.githubApiUrl, onWait);
    return new Octo({ auth: { token } }) as Octokit;
  }
  const privateKey = opts.privateKey ?? (opts.privateKeyPath ? await readFile(opts.privateKeyPath, 'utf8') : undefined);
  if (!opts.appId || !privateKey) throw new CliInputError('GitHub credentials are missing: set GITHUB_TOKEN, or APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH)');
  const probot = new Probot({ appId: opts.appId, privateKey, baseUrl: opts.githubApiUrl, Octokit: backfillOctokit(undefined, opts.githubApiUrl, onWait), log: log.child({ name: 'probot' }) });
  const app = await probot.auth();
  const { data } = await app.request('GET /repos/{owner}/{repo}/installation', { owner, repo });
  return (await probot.auth(data.id)) as unknown as Octokit;
}

export interface BackfillIo {
  env: NodeJS.ProcessEnv;
  stderr: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
  signal?: AbortSignal;
  now?: () => Date;
  /** Key prefix in Redis, as the bot's (tests run several on one server). */
  redisPrefix?: string;
}

/** Runs one backfill; returns what it did. Throws CliInputError for user mistakes. */
export async function runBackfill(o: BackfillCliOptions, io: BackfillIo): Promise<BackfillProgress & { interrupted: boolean; requests: number; notModified: number }> {
  const m = /^([A-Za-z0-9][A-Za-z0-9_-]*)\/([A-Za-z0-9._-]+)$/.exec(o.repo ?? '');
  if (!m) throw new CliInputError(`--repo wants OWNER/REPO, got ${JSON.stringify(o.repo)}`);
  const [, owner, repo] = m as unknown as [string, string, string];
  const now = io.now ?? (() => new Date());
  const since = sinceOf(o.since, now());
  const opts = runtimeOptions(io.env);
  if (!opts.redisUrl) throw new CliInputError('REDIS_URL is unset: backfill writes into the results store katabot serves from');
  const log = pino({ level: io.env.LOG_LEVEL ?? 'warn', base: { name: 'katabot-backfill' } }, pino.destination(2));
  const config = await loadConfigSnapshot({ PROW_CONFIG: opts.prowConfig, JOB_CONFIG: opts.jobConfig, KATABOT_CONFIG: opts.katabotConfig });

  const tty = io.stderr.isTTY === true;
  const bar = tty ? new SingleBar({ format: 'backfill {repo} [{bar}] {value}/{total} runs · {jobs} jobs · {note}', hideCursor: true, stream: io.stderr as NodeJS.WriteStream }) : undefined;
  let note = '';
  const onWait = (seconds: number, why: string) => {
    note = `waiting ${Math.ceil(seconds)} s for ${why}`;
    if (bar) bar.update({ note });
    else io.stderr.write(`katabot backfill: ${note}\n`);
  };

  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 2 });
  try {
    const prefix = `${io.redisPrefix ?? 'katabot'}:`;
    const store = new RedisStore(redis, prefix);
    const results = new RedisResultsStore(redis, prefix, opts.resultsRetentionDays);
    const deps: HandlerDeps = {
      config: () => config,
      // Backfill creates no ProwJob; the handlers' deps want a client all the same.
      prowjobs: fileProwJobClient('.katabot/prowjobs', prowJobNamespace(opts.prowjobNamespace, config.prow)),
      store,
      results,
      reports: new ReportState(store),
      metrics: createMetrics(),
      log,
      botLogin: async () => opts.botLogin ?? 'katabot[bot]',
      now,
    };
    const octokit = await octokitFor(io.env, owner, repo, onWait, log);
    const gh = new GitHub(octokit, owner, repo);
    const pages = new ActionsPages(octokit, store, owner, repo);
    bar?.start(0, 0, { repo: `${owner}/${repo}`, jobs: 0, note: '' });
    const done = await backfillActions(deps, gh, pages, {
      since,
      workflows: o.workflow,
      ...(io.signal ? { signal: io.signal } : {}),
      onProgress: (p) => {
        note = p.skipped ? `${p.skipped} already recorded` : '';
        bar?.setTotal(p.total);
        bar?.update(p.runs, { jobs: p.jobs, note });
      },
    });
    bar?.stop();
    return { ...done, requests: pages.stats.requests, notModified: pages.stats.notModified };
  } finally {
    bar?.stop();
    redis.disconnect();
  }
}

export function registerBackfill(program: Command): void {
  program
    .command('backfill')
    .description('record past GitHub Actions runs and jobs of a repository in the results store (REDIS_URL), as their webhooks would')
    .requiredOption('--repo <owner/repo>', 'the repository')
    .option('--workflow <file>', 'a workflow file, e.g. ci-nightly.yaml (repeatable; default: every workflow)', collect, [])
    .option('--since <span>', 'how far back, e.g. 14d, 36h, 2w', '14d')
    .addHelpText(
      'after',
      '\nGitHub: GITHUB_TOKEN, or APP_ID and PRIVATE_KEY[_PATH] (GHE_HOST for GitHub Enterprise). KATABOT_CONFIG gives\n' +
        'actions.nightly_workflows. Safe to interrupt (Ctrl-C) and to run again: recorded runs are skipped, unchanged\n' +
        'pages cost a 304, and records are the same ones webhooks write.\n\nExample:\n  katabot backfill --repo kata-containers/kata-containers --workflow ci-nightly.yaml --since 30d\n',
    )
    .action(async (o: BackfillCliOptions) => {
      const abort = new AbortController();
      const stop = () => {
        if (abort.signal.aborted) process.exit(130);
        process.stderr.write('\nkatabot backfill: stopping after the run in hand (Ctrl-C again to quit now)\n');
        abort.abort();
      };
      process.on('SIGINT', stop);
      try {
        const r = await runBackfill(o, { env: process.env, stderr: process.stderr, signal: abort.signal });
        process.stderr.write(
          `katabot backfill: ${r.runs} runs (${r.skipped} recorded before), ${r.jobs} job attempts; ${r.requests} requests, ${r.notModified} unchanged (304)` +
            `${r.interrupted ? '; interrupted: run it again to go on' : ''}\n`,
        );
        if (r.interrupted) process.exitCode = 130;
      } catch (err) {
        reportCliError('backfill', err, 1);
      } finally {
        process.off('SIGINT', stop);
      }
    });
}
