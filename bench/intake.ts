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
import { median } from './stats.ts';

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: any[] }>;
const payload = structuredClone(examples.find((e) => e.name === 'issue_comment')!.examples.find((p) => p.action === 'created'));
payload.comment.body = '/test all'; // a command, as katabot would act on
// A comment on an open PR, so the delivery filter (src/plan/deliveries.ts) judges it by its text.
payload.issue.state = 'open';
payload.issue.pull_request = { url: 'https://api.github.com/repos/Codertocat/Hello-World/pulls/1' };
const body = JSON.stringify(payload);
/** The same delivery with an ordinary comment: most of what an org sends, and nothing katabot acts on. */
const chatter = JSON.stringify({ ...payload, comment: { ...payload.comment, body: 'Thanks, this looks good to me. Could you squash the commits?' } });
const SECRET = 'bench-secret';
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP = 2;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);

interface Result {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

// A server under test outlives nothing: if the benchmark dies, so do they.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

async function startServer(kind: string, extra: string[] = []): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['bench/intake-server.ts', kind, SECRET, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  const [chunk] = (await once(proc.stdout!, 'data')) as [Buffer];
  return { port: Number(chunk.toString().trim()), proc };
}

async function load(port: number, overallRate?: number, seconds = DURATION, sent = body): Promise<Result> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/`,
    method: 'POST',
    connections: overallRate ? 4 : CONNECTIONS,
    duration: seconds,
    ...(overallRate ? { overallRate } : {}),
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issue_comment',
      'x-hub-signature-256': sign(SECRET, sent),
    },
    body: sent,
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
    const rewriting = async () => /aof_rewrite_in_progress:1|aof_rewrite_scheduled:1/.test(await r.info('persistence'));
    // A rewrite Redis started by itself (the AOF grew) must end before the one that compacts the empty data set.
    while (await rewriting()) await sleep(50);
    await r.flushall();
    // Redis may have started a rewrite of its own meanwhile; then compact once that one is done.
    for (;;) {
      const started = await r.bgrewriteaof().then(() => true, (err: Error) => (/already in progress/.test(err.message) ? false : Promise.reject(err)));
      while (await rewriting()) await sleep(50);
      if (started) break;
    }
    await sleep(1000); // the rewrite's last writes and fsyncs settle before anything is timed
  } finally {
    r.disconnect();
  }
}

interface Measured {
  peak: Result;
  paced?: Result;
}

async function measure(kind: string, extra: string[], paced: boolean): Promise<Measured> {
  // Each run starts on an empty Redis: what one run left behind (and the AOF rewrite it triggers) would
  // otherwise slow the next. In production the pump keeps the stream short.
  const fresh = async () => (extra[0] ? freshRedis(extra[0]) : undefined);
  await fresh();
  const { port, proc } = await startServer(kind, extra);
  try {
    await load(port, undefined, WARMUP); // JIT, connections, Redis scripts
    await fresh();
    const latency = paced ? await load(port, 200) : undefined;
    await fresh();
    const peak = await load(port);
    return latency ? { peak, paced: latency } : { peak };
  } finally {
    proc.kill();
  }
}


// The same AOF policy as the deployed Redis (deploy/prow/redis/redis.conf).
const redis = await startRedis({ appendfsync: 'everysec' });
try {
  const servers = [
    ['bare', 'bare node:http'],
    ['probot', 'probot middleware (no-op)'],
    ['floor', 'persistence floor (one Redis SET of the body)'],
    ['katabot', 'katabot intake (verify+dedupe+enqueue, Redis)'],
    ['katabot+pump', '  + pump into BullMQ and no-op worker, same proc'],
  ] as const;
  type Kind = (typeof servers)[number][0];
  // This machine's neighbours make single runs swing by 1.5x, so every server is measured once per round, in
  // the same order, and each figure is a median over rounds; ratios are medians of per-round ratios.
  const rounds: Array<Record<Kind, Measured>> = [];
  for (let i = 0; i < ROUNDS; i++) {
    const round = {} as Record<Kind, Measured>;
    for (const [kind] of servers) {
      const extra = kind === 'bare' || kind === 'probot' ? [] : [redis.url, `${kind.replace('+', '')}${i}x${Date.now()}`];
      round[kind] = await measure(kind, extra, true);
    }
    rounds.push(round);
    process.stderr.write(`round ${i + 1}/${ROUNDS}: ${servers.map(([k]) => `${k} ${round[k].peak.rps.toFixed(0)}`).join(', ')}\n`);
  }
  const peak = (k: Kind) => median(rounds.map((r) => r[k].peak.rps));
  const ratio = (a: Kind, b: Kind) => median(rounds.map((r) => r[a].peak.rps / r[b].peak.rps)).toFixed(2);
  console.log(`\nintake benchmark: ${ROUNDS} rounds of ${DURATION}s per server, ${CONNECTIONS} connections at peak (medians), and a paced run at 200 req/s`);
  console.log('server'.padEnd(48), 'peak req/s'.padStart(11), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), '| @200/s p50'.padStart(12), 'p99'.padStart(6), 'non-2xx'.padStart(8));
  for (const [kind, name] of servers) {
    const paced = (f: 'p50' | 'p99') => median(rounds.map((r) => r[kind].paced![f]));
    console.log(
      name.padEnd(48),
      peak(kind).toFixed(0).padStart(11),
      median(rounds.map((r) => r[kind].peak.p50)).toFixed(1).padStart(8),
      median(rounds.map((r) => r[kind].peak.p99)).toFixed(1).padStart(8),
      ('| ' + paced('p50').toFixed(1)).padStart(12),
      paced('p99').toFixed(1).padStart(6),
      String(rounds.reduce((n, r) => n + r[kind].peak.non2xx + r[kind].paced!.non2xx, 0)).padStart(8),
    );
  }
  console.log(`\nkatabot / bare   = ${ratio('katabot', 'bare')}x  (goal >= 0.60x)`);
  console.log(`probot  / bare   = ${ratio('probot', 'bare')}x`);
  console.log(`katabot / probot = ${ratio('katabot', 'probot')}x`);
  console.log(`floor   / bare   = ${ratio('floor', 'bare')}x  (the most an intake that persists before its 2xx reaches here)`);
  console.log(`katabot / floor  = ${ratio('katabot', 'floor')}x`);
  console.log(`katabot with pump and worker in the same process / bare = ${ratio('katabot+pump', 'bare')}x`);
  console.log(`katabot p99 at 200 req/s = ${median(rounds.map((r) => r.katabot.paced!.p99)).toFixed(1)} ms  (goal < 10 ms; bare: ${median(rounds.map((r) => r.bare.paced!.p99)).toFixed(1)} ms)`);

  // The server as `npm start` runs it (intake, pump, workers, reporter in one process) against the two baselines,
  // for each kind of delivery: one that needs no work (an ordinary comment: answered without touching Redis) and one
  // that does (a command: persisted before the 2xx, then handled).
  const kinds = [['bare', 'bare node:http'], ['floor', 'persistence floor (one Redis SET)'], ['production', 'katabot as npm start runs it']] as const;
  const deliveries = [['chatter', chatter, 'an ordinary comment (no work)'], ['command', body, 'a /test all comment (work)']] as const;
  type P = Record<string, number>;
  const prod: P[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const round: P = {};
    for (const [d, sent] of deliveries) {
      for (const [kind] of kinds) {
        const extra = kind === 'bare' ? [] : [redis.url, `prod${d}${kind}${i}x${Date.now()}`];
        if (extra[0]) await freshRedis(extra[0]);
        const { port, proc } = await startServer(kind, extra);
        try {
          await load(port, undefined, WARMUP, sent);
          if (extra[0]) await freshRedis(extra[0]);
          const r = await load(port, undefined, DURATION, sent);
          round[`${kind}/${d}`] = r.rps;
          round[`${kind}/${d}/non2xx`] = r.non2xx;
        } finally {
          proc.kill();
        }
      }
    }
    prod.push(round);
    process.stderr.write(`production round ${i + 1}/${ROUNDS}: ${Object.entries(round).filter(([k]) => !k.endsWith('non2xx')).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}\n`);
  }
  const pm = (k: string) => median(prod.map((r) => r[k]!));
  const pr = (a: string, b: string) => median(prod.map((r) => r[a]! / r[b]!)).toFixed(2);
  console.log(`\nthe server as npm start runs it (intake, pump, workers, reporter), ${ROUNDS} rounds of ${DURATION}s at ${CONNECTIONS} connections (medians, req/s)`);
  console.log('delivery'.padEnd(34), ...kinds.map(([, n]) => n.padStart(36)));
  for (const [d, , name] of deliveries) console.log(name.padEnd(34), ...kinds.map(([k]) => pm(`${k}/${d}`).toFixed(0).padStart(36)));
  console.log(`\nno work: katabot / bare  = ${pr('production/chatter', 'bare/chatter')}x  (goal >= 0.80x)`);
  console.log(`work:    katabot / floor = ${pr('production/command', 'floor/command')}x  (goal >= 0.90x)`);
  console.log(`non-2xx answers from katabot: ${prod.reduce((n, r) => n + r['production/chatter/non2xx']! + r['production/command/non2xx']!, 0)}`);
} finally {
  await redis.close();
}
