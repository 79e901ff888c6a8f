// Starts a complete katabot against real Redis, the Kubernetes API-server double and nock'd GitHub.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import nock from 'nock';
import { pino } from 'pino';
import { clearGitHubCaches } from '../../src/adapters/github.ts';
import { runtimeOptions } from '../../src/config/env.ts';
import type { ProwJob } from '../../src/jobs/types.ts';
import { startKatabot, type Katabot, type StartOverrides } from '../../src/server/app.ts';
import { FakeGitHub, deliver } from '../fixtures/github.ts';
import { startKubeApiServer, type KubeApiDouble } from '../fixtures/kube-apiserver.ts';
import { startRedis, type TestRedis } from '../fixtures/redis.ts';
import { JOBS_YAML, KATABOT_YAML, PROW_YAML } from '../fixtures/config.ts';

export const SECRET = 'new-secret';
export const OLD_SECRET = 'old-secret';
export const ROOT = new URL('../../', import.meta.url).pathname;
export const CRD = join(ROOT, '../shared/prow/prowjob_customresourcedefinition.yaml');
export const HAVE_CRD = existsSync(CRD);

export { JOBS_YAML, KATABOT_YAML, PROW_YAML } from '../fixtures/config.ts';

export interface Harness {
  bot: Katabot;
  gh: FakeGitHub;
  kube: KubeApiDouble;
  redis: TestRedis;
  dir: string;
  /** The file:// bucket's directory (fileBucket), removed by close(). */
  bucket: string;
  env: Record<string, string>;
  send(event: string, payload: unknown, delivery?: string, secret?: string): Promise<Response>;
  prowjobs(): ProwJob[];
  settle(): Promise<void>;
  restart(overrides?: StartOverrides): Promise<void>;
  /** Stops the bot (as a shutdown would); start() brings up a new one on the same Redis, cluster and GitHub. */
  stop(): Promise<void>;
  start(overrides?: StartOverrides): Promise<void>;
  /** Another replica on the same Redis, cluster and GitHub; closed by close() unless closed before. */
  replica(overrides?: StartOverrides): Promise<Katabot>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  overrides?: StartOverrides;
  redis?: TestRedis;
  /** Extra environment, e.g. reporter knobs. */
  env?: Record<string, string>;
  /** Appended to KATABOT_YAML. */
  katabotYaml?: string;
  /** Rewrites KATABOT_YAML (before katabotYaml is appended), e.g. to change a key it sets. */
  katabotYamlEdit?: (yaml: string) => string;
  /** Replaces PROW_YAML (e.g. a file:// artifact bucket). */
  prowYaml?: string;
  /** A second job config file beside JOBS_YAML (e.g. postsubmits). */
  extraJobsYaml?: string;
  /** The repository FakeGitHub serves (default kata-containers/kata-containers); `maintainer` is a member of its org. */
  repo?: { owner: string; name: string };
  /** Jobs upload to a file:// bucket in a fresh directory (h.bucket), laid out as Prow's decoration lays it out. */
  fileBucket?: boolean;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
  clearGitHubCaches();
  const redis = opts.redis ?? (await startRedis());
  const kube = await startKubeApiServer(HAVE_CRD ? { crds: [CRD] } : {});
  const gh = opts.repo ? new FakeGitHub(opts.repo.owner, opts.repo.name) : new FakeGitHub();
  gh.members.add(`${gh.owner}/maintainer`);
  gh.members.add(`${gh.owner}/tdx-approver`);
  gh.collaborators.add('collaborator');
  gh.intercept();

  const dir = mkdtempSync(join(tmpdir(), 'katabot-it-'));
  const bucket = opts.fileBucket ? mkdtempSync(join(tmpdir(), 'katabot-bucket-')) : '';
  const prowYaml = opts.fileBucket ? PROW_YAML.replace('bucket: s3://kata-prow-logs', `bucket: file://${bucket}`) : (opts.prowYaml ?? PROW_YAML);
  if (opts.fileBucket && prowYaml === PROW_YAML) throw new Error('harness: PROW_YAML names no s3://kata-prow-logs bucket to replace');
  mkdirSync(join(dir, 'jobs/kata-containers'), { recursive: true });
  writeFileSync(join(dir, 'jobs/kata-containers/presubmits.yaml'), JOBS_YAML);
  if (opts.extraJobsYaml) writeFileSync(join(dir, 'jobs/kata-containers/extra.yaml'), opts.extraJobsYaml);
  writeFileSync(join(dir, 'prow.yaml'), prowYaml);
  writeFileSync(join(dir, 'katabot.yaml'), (opts.katabotYamlEdit?.(KATABOT_YAML) ?? KATABOT_YAML) + (opts.katabotYaml ?? ''));
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    WEBHOOK_SECRET: `${OLD_SECRET},${SECRET}`,
    APP_ID: '1',
    PRIVATE_KEY: gh.privateKey,
    REDIS_URL: redis.url,
    KUBECONFIG: kube.kubeconfigPath,
    PROWJOB_NAMESPACE: 'prow',
    PROW_CONFIG: join(dir, 'prow.yaml'),
    JOB_CONFIG: join(dir, 'jobs'),
    KATABOT_CONFIG: join(dir, 'katabot.yaml'),
    LOG_LEVEL: 'silent',
    // GitHub's 1 s spacing of writes is production behaviour; tests would only wait for it.
    KATABOT_GITHUB_WRITE_INTERVAL_MS: '0',
    ...opts.env,
  };
  const log = pino({ level: process.env.KATABOT_TEST_LOG ?? 'silent' });
  const start = (o?: StartOverrides) => startKatabot(runtimeOptions(env), { log, redisPrefix: redis.prefix, ...opts.overrides, ...o });
  let bot = await start();
  let running = true;
  const replicas: Katabot[] = [];

  const h: Harness = {
    get bot() {
      return bot;
    },
    gh,
    kube,
    redis,
    dir,
    bucket,
    env,
    send: (event, payload, delivery, secret = SECRET) => deliver(bot.url, secret, event, payload, delivery),
    prowjobs: () => kube.objects('prowjobs', 'prow') as ProwJob[],
    async settle() {
      // Wait until the queue has drained and stayed empty, so "nothing happened" is a real observation.
      let quiet = 0;
      for (let i = 0; i < 400 && quiet < 3; i++) {
        quiet = (await bot.queue.depth()) === 0 ? quiet + 1 : 0;
        await sleep(25);
      }
    },
    async restart(o) {
      await bot.close();
      bot = await start(o);
    },
    async stop() {
      if (!running) return;
      running = false;
      await bot.close();
    },
    async start(o) {
      bot = await start(o);
      running = true;
    },
    async replica(o) {
      const r = await start(o);
      const close = r.close.bind(r);
      let closed = false;
      r.close = async () => {
        if (closed) return;
        closed = true;
        await close();
      };
      replicas.push(r);
      return r;
    },
    async close() {
      for (const r of replicas) await r.close();
      if (running) await bot.close();
      await kube.close();
      if (!opts.redis) await redis.close();
      rmSync(dir, { recursive: true, force: true });
      if (bucket) rmSync(bucket, { recursive: true, force: true });
      nock.cleanAll();
      nock.enableNetConnect();
    },
  } as Harness;
  return h;
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}
