// Builds the probot instance: real GitHub App credentials, or a dry-run GitHub in which every write is
// logged and not sent (reads still go out, unauthenticated). Every request is counted for /metrics.
import { readFile } from 'node:fs/promises';
import Bottleneck from 'bottleneck';
import { Probot, ProbotOctokit } from 'probot';
import type { Logger } from 'pino';
import type { RuntimeOptions } from '../config/env.ts';
import type { Metrics } from './metrics.ts';

export interface GitHubApp {
  probot: Probot;
  dryRun: boolean;
  /** The App's login (`<slug>[bot]`). */
  botLogin(): Promise<string>;
  /** Installation id for a repo, for payloads forwarded without one (e.g. from a repo webhook via Prow's hook). */
  installationFor(owner: string, repo: string): Promise<number | undefined>;
}

export async function createGitHubApp(opts: RuntimeOptions, log: Logger, metrics: Metrics): Promise<GitHubApp> {
  const privateKey = opts.privateKey ?? (opts.privateKeyPath ? await readFile(opts.privateKeyPath, 'utf8') : undefined);
  const dryRun = !(opts.appId && privateKey);
  let writes = 0;

  const Octokit = ProbotOctokit.plugin((octokit) => {
    octokit.hook.wrap('request', async (request, options) => {
      const method = String(options.method ?? 'GET').toUpperCase();
      if (dryRun && method !== 'GET') {
        writes += 1;
        log.info({ method, url: options.url, body: redact(options) }, 'dry-run: GitHub write logged, not sent');
        metrics.githubCalls.inc({ method, status: 'dry-run' });
        return {
          status: method === 'POST' ? 201 : 200,
          url: String(options.url),
          headers: {},
          data: { id: writes, html_url: `dry-run://${writes}`, node_id: `dry-run-${writes}` },
        } as never;
      }
      if (dryRun) delete (options.headers as Record<string, unknown>).authorization;
      try {
        const res = await request(options);
        metrics.githubCalls.inc({ method, status: String(res.status) });
        return res;
      } catch (err) {
        metrics.githubCalls.inc({ method, status: String((err as { status?: number }).status ?? 'error') });
        throw err;
      }
    });
  });

  // GitHub asks integrations to space content-creating requests (about 1 s apart) to stay clear of its
  // secondary rate limits; octokit's throttling plugin does that. The spacing is configurable for GitHub
  // Enterprise servers without such limits (and for tests).
  const write = new Bottleneck.Group({ id: 'katabot-write', maxConcurrent: 1, minTime: opts.githubWriteIntervalMs });
  const notifications = new Bottleneck.Group({
    id: 'katabot-notifications',
    maxConcurrent: 1,
    minTime: opts.githubWriteIntervalMs * 3,
  });
  const Spaced = class extends Octokit {
    constructor(options: ConstructorParameters<typeof Octokit>[0] = {}) {
      const throttle = (options as { throttle?: Record<string, unknown> }).throttle;
      super({ ...options, throttle: { ...throttle, write, notifications } } as never);
    }
  };

  const probot = dryRun
    ? new Probot({ githubToken: 'dry-run', Octokit: Spaced, baseUrl: opts.githubApiUrl, log: log.child({ name: 'probot' }) })
    : new Probot({
        appId: opts.appId!,
        privateKey: privateKey!,
        Octokit: Spaced,
        baseUrl: opts.githubApiUrl,
        log: log.child({ name: 'probot' }),
      });

  let login: Promise<string> | undefined;
  const installations = new Map<string, number>();
  return {
    probot,
    dryRun,
    botLogin() {
      if (opts.botLogin) return Promise.resolve(opts.botLogin);
      if (dryRun) return Promise.resolve('katabot[bot]');
      login ??= (async () => {
        const app = await probot.auth();
        const { data } = await app.request('GET /app');
        return `${data?.slug ?? 'katabot'}[bot]`;
      })().catch((err) => {
        login = undefined; // try again next time
        throw err;
      });
      return login;
    },
    async installationFor(owner, repo) {
      if (dryRun) return undefined;
      const key = `${owner}/${repo}`.toLowerCase();
      const cached = installations.get(key);
      if (cached) return cached;
      const app = await probot.auth();
      const { data } = await app.request('GET /repos/{owner}/{repo}/installation', { owner, repo });
      installations.set(key, data.id);
      return data.id;
    },
  };
}

function redact(options: Record<string, unknown>): Record<string, unknown> {
  const { headers: _h, request: _r, baseUrl: _b, method: _m, url: _u, ...rest } = options;
  return rest;
}
