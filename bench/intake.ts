// npm run bench:intake — webhook intake throughput and latency, measured in one run against two baselines:
// a bare node:http server that reads the body and answers 200, and probot's createNodeMiddleware with a no-op
// handler. katabot's intake does the real work: HMAC verify, dedupe, durable enqueue in a real Redis. A third
// reference, the persistence floor (node:http plus one Redis SET of the raw body), shows what any intake that
// persists before answering can reach on this machine, where Redis and the load generator share its cores.
// Load: signed issue_comment webhooks from GitHub's example payload, each with a unique delivery id.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { sign } from '../src/server/signature.ts';
import { startRedis } from '../test/fixtures/redis.ts';

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: any[] }>;
const payload = structuredClone(examples.find((e) => e.name === 'issue_comment')!.examples.find((p) => p.action === 'created'));
payload.comment.body = '/test all'; // a command, as katabot would act on (the intake itself never parses it)
const body = JSON.stringify(payload);
const SECRET = 'bench-secret';
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);

interface Result {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

async function startServer(kind: string, extra: string[] = []): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['bench/intake-server.ts', kind, SECRET, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(proc.stdout!, 'data')) as [Buffer];
  return { port: Number(chunk.toString().trim()), proc };
}

async function load(port: number, overallRate?: number): Promise<Result> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/`,
    method: 'POST',
    connections: overallRate ? 4 : CONNECTIONS,
    duration: DURATION,
    ...(overallRate ? { overallRate } : {}),
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issue_comment',
      'x-hub-signature-256': sign(SECRET, body),
    },
    body,
    requests: [
      {
        setupRequest: (req: any) => ({ ...req, headers: { ...req.headers, 'x-github-delivery': randomUUID() } }),
      },
    ],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx };
}

/** Empties Redis and compacts its AOF, so no server is measured against the data (and rewrites) of the one before. */
async function freshRedis(url: string): Promise<void> {
  const r = new Redis(url);
  try {
    await r.flushall();
    await r.bgrewriteaof();
    while (/aof_rewrite_in_progress:1|aof_rewrite_scheduled:1/.test(await r.info('persistence'))) await sleep(50);
  } finally {
    r.disconnect();
  }
}

async function measure(kind: string, extra: string[] = []) {
  if (extra[0]) await freshRedis(extra[0]);
  const { port, proc } = await startServer(kind, extra);
  try {
    await load(port); // warm-up: JIT, connections, Redis scripts
    const peak = await load(port);
    const paced = await load(port, 200);
    return { peak, paced };
  } finally {
    proc.kill();
  }
}

// The same AOF policy as the deployed Redis (deploy/prow/redis/redis.conf).
const redis = await startRedis({ appendfsync: 'everysec' });
try {
  const bare = await measure('bare');
  const probot = await measure('probot');
  const floor = await measure('floor', [redis.url, `floor${Date.now()}`]);
  const katabot = await measure('katabot', [redis.url, `bench${Date.now()}`]);
  const pumped = await measure('katabot+pump', [redis.url, `benchp${Date.now()}`]);
  const rows = [
    ['bare node:http', bare],
    ['probot middleware (no-op)', probot],
    ['persistence floor (one Redis SET of the body)', floor],
    ['katabot intake (verify+dedupe+enqueue, Redis)', katabot],
    ['  + pump into BullMQ and no-op worker, same proc', pumped],
  ] as const;
  console.log(`\nintake benchmark: ${DURATION}s per run, ${CONNECTIONS} connections at peak; paced run at 200 req/s`);
  console.log('server'.padEnd(48), 'peak req/s'.padStart(11), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), '| @200/s p50'.padStart(12), 'p99'.padStart(6), 'non-2xx'.padStart(8));
  for (const [name, r] of rows) {
    console.log(
      name.padEnd(48),
      r.peak.rps.toFixed(0).padStart(11),
      r.peak.p50.toFixed(1).padStart(8),
      r.peak.p99.toFixed(1).padStart(8),
      ('| ' + r.paced.p50.toFixed(1)).padStart(12),
      r.paced.p99.toFixed(1).padStart(6),
      String(r.peak.non2xx + r.paced.non2xx).padStart(8),
    );
  }
  console.log(`\nkatabot / bare   = ${(katabot.peak.rps / bare.peak.rps).toFixed(2)}x  (goal >= 0.60x)`);
  console.log(`probot  / bare   = ${(probot.peak.rps / bare.peak.rps).toFixed(2)}x`);
  console.log(`katabot / probot = ${(katabot.peak.rps / probot.peak.rps).toFixed(2)}x`);
  console.log(`floor   / bare   = ${(floor.peak.rps / bare.peak.rps).toFixed(2)}x  (the most a persist-before-2xx intake reaches here)`);
  console.log(`katabot / floor  = ${(katabot.peak.rps / floor.peak.rps).toFixed(2)}x`);
  console.log(`katabot with pump and worker in the same process / bare = ${(pumped.peak.rps / bare.peak.rps).toFixed(2)}x`);
  console.log(`katabot p99 at 200 req/s = ${katabot.paced.p99.toFixed(1)} ms  (goal < 10 ms)`);
} finally {
  await redis.close();
}
