// One server under test for bench/intake.ts, in its own process so the load generator does not share its
// event loop. Prints its port on stdout.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { Probot, createNodeMiddleware } from 'probot';
import { RedisWebhookQueue } from '../src/adapters/queue.ts';
import { createIntake } from '../src/server/intake.ts';
import { createMetrics } from '../src/adapters/metrics.ts';
import { runtimeOptions } from '../src/config/env.ts';
import { startKatabot } from '../src/server/app.ts';

const [kind, secret, redisUrl, prefix] = process.argv.slice(2) as [string, string, string?, string?];
const log = pino({ level: 'silent' });
let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
/** The repository of GitHub's example issue_comment payload, which the benchmark sends. */
const PAYLOAD_REPO = 'Codertocat/Hello-World';

if (kind === 'bare') {
  handler = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
    });
  };
} else if (kind === 'floor') {
  // The least any intake that persists before acknowledging can do: one Redis write of the raw body, no
  // verification, no dedupe, no queue. Measured so katabot's figure can be read against what the machine allows.
  const redis = new Redis(redisUrl!, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await new Promise((resolve) => redis.once('ready', resolve));
  let n = 0;
  handler = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      redis.set(`${prefix}:floor:${n++}`, Buffer.concat(chunks)).then(
        () => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('ok\n');
        },
        () => {
          res.writeHead(503);
          res.end();
        },
      );
    });
  };
} else if (kind === 'probot') {
  const probot = new Probot({ githubToken: 'bench', secret, log });
  const middleware = await createNodeMiddleware(
    (app) => {
      app.on('issue_comment.created', async () => {});
    },
    { probot, webhooksPath: '/' },
  );
  handler = (req, res) => void middleware(req, res);
} else if (kind === 'katabot' || kind === 'katabot+pump') {
  const queue = new RedisWebhookQueue({ redisUrl: redisUrl!, prefix, concurrency: 8, log });
  await queue.ready();
  // With the pump, the same process also moves deliveries into BullMQ and runs a no-op handler on them.
  if (kind === 'katabot+pump') queue.consume(async () => {});
  const intake = createIntake({ secrets: () => [secret], queue, metrics: createMetrics(), log, maxBodyBytes: 26_214_400, handledEvents: new Set(['issue_comment']) });
  handler = (req, res) => void intake(req, res);
} else if (kind === 'production') {
  // katabot as `npm start` runs it: intake, pump, workers and the reporter in one process, on real Redis; GitHub is
  // dry-run (writes logged, not sent) and ProwJobs are written as files, so the work is katabot's own.
  const dir = mkdtempSync(join(tmpdir(), 'katabot-bench-'));
  process.chdir(dir);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const jobs = join(dir, 'jobs.yaml');
  writeFileSync(jobs, `presubmits:\n  ${PAYLOAD_REPO}:\n${['unit', 'e2e', 'lint'].map((n) => `  - name: ${n}\n    always_run: true\n    spec:\n      containers:\n      - image: x\n`).join('')}`);
  const bot = await startKatabot(
    runtimeOptions({ PORT: '0', HOST: '127.0.0.1', WEBHOOK_SECRET: secret, REDIS_URL: redisUrl, JOB_CONFIG: jobs, LOG_LEVEL: 'silent' }),
    { log, ...(prefix ? { redisPrefix: prefix } : {}) },
  );
  process.stdout.write(`${new URL(bot.url).port}\n`);
  process.on('SIGINT', () => process.exit(0));
  await new Promise(() => undefined); // serve until killed
} else {
  throw new Error(`unknown server kind ${kind}`);
}

const server = createServer(handler!);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});

// Exit cleanly on SIGINT so --cpu-prof can write its profile.
process.on('SIGINT', () => process.exit(0));
