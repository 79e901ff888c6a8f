// npm run bench:queue — what one delivery costs Redis on its way through the webhook queue: commands by name
// (INFO commandstats) and bytes in and out (INFO stats), from intake to the end of a no-op handler, divided by the
// number of deliveries. Load: GitHub's example issue_comment payload (~12 KB), each with its own delivery id, sent
// in bursts so the pump moves them in batches as it does under load. The figures count every client: the pump's
// and the worker's polling too, measured alone over the same time and subtracted (the "idle" line).
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { RedisWebhookQueue } from '../src/adapters/queue.ts';
import { startRedis } from '../test/fixtures/redis.ts';

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: any[] }>;
const body = Buffer.from(JSON.stringify(examples.find((e) => e.name === 'issue_comment')!.examples.find((p) => p.action === 'created')));
const N = Number(process.env.BENCH_DELIVERIES ?? 1000);
const BURST = 50;

type Stats = { calls: Map<string, number>; inBytes: number; outBytes: number; sent: number };

async function stats(r: Redis): Promise<Stats> {
  const calls = new Map<string, number>();
  for (const m of (await r.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1]!, Number(m[2]));
  const s = await r.info('stats');
  const num = (k: string) => Number(new RegExp(`^${k}:(\\d+)`, 'm').exec(s)?.[1] ?? 0);
  return { calls, inBytes: num('total_net_input_bytes'), outBytes: num('total_net_output_bytes'), sent: 0 };
}

/** Runs `work` on a fresh queue and returns what Redis saw meanwhile, and how long it took. */
async function measure(url: string, prefix: string, watch: boolean, work: (q: RedisWebhookQueue, handled: () => number) => Promise<void>): Promise<Stats & { ms: number }> {
  const r = new Redis(url);
  let handled = 0;
  const q = new RedisWebhookQueue({ redisUrl: url, prefix, concurrency: 8, log: pino({ level: 'silent' }) });
  await q.ready();
  q.consume(async () => void handled++);
  await sleep(500); // connections up, scripts loaded, consumer group made
  // MONITOR tells the commands clients send (round trips, pipelined or not) from those scripts call ("lua"). Its
  // own output counts as bytes out of Redis, so bytes come from a run without it.
  const monitored = new Redis(url);
  const monitor = watch ? await monitored.monitor() : undefined;
  let sent = 0;
  monitor?.on('monitor', (_time: string, args: string[], source: string) => {
    if (source !== 'lua' && !/^(info|config)$/i.test(args[0] ?? '')) sent++;
  });
  await r.config('RESETSTAT');
  const started = Date.now();
  await work(q, () => handled);
  const ms = Date.now() - started;
  const after = { ...(await stats(r)), sent };
  monitor?.disconnect();
  monitored.disconnect();
  await q.close();
  r.disconnect();
  return { ...after, ms };
}

const redis = await startRedis({ appendfsync: 'everysec' });
try {
  const deliveries = (run: string) => async (q: RedisWebhookQueue, handled: () => number) => {
    for (let i = 0; i < N; i += BURST) {
      await Promise.all(Array.from({ length: Math.min(BURST, N - i) }, (_, j) => q.enqueue({ id: `${run}${i + j}`, name: 'issue_comment', body, receivedAt: Date.now() })));
    }
    while (handled() < N || (await q.depth()) > 0) await sleep(20);
  };
  const busy = await measure(redis.url, 'bytes', false, deliveries('b'));
  const watched = await measure(redis.url, 'cmds', true, deliveries('c'));
  // The same time with nothing to do: polling (XREADGROUP BLOCK, BullMQ's waits and stalled checks).
  const idle = await measure(redis.url, 'idle', false, async () => sleep(busy.ms));
  const idleWatched = await measure(redis.url, 'idlec', true, async () => sleep(watched.ms));
  const names = [...new Set([...busy.calls.keys()])].filter((k) => k !== 'config' && k !== 'info');
  const rows = names
    .map((k) => [k, ((busy.calls.get(k) ?? 0) - (idle.calls.get(k) ?? 0)) / N] as const)
    .filter(([, v]) => Math.abs(v) >= 0.005)
    .sort((a, b) => b[1] - a[1]);
  console.log(`Redis per delivery: ${N} issue_comment deliveries of ${body.length} bytes in bursts of ${BURST}, ${busy.ms} ms, idle polling over the same time subtracted`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(22)} ${v.toFixed(2).padStart(7)}`);
  console.log(`  ${'all commands'.padEnd(22)} ${rows.reduce((n, [, v]) => n + v, 0).toFixed(2).padStart(7)}  (INFO commandstats: evalsha runs BullMQ's and intake's scripts, and each command a script calls counts too)`);
  console.log(`  ${'sent by clients'.padEnd(22)} ${((watched.sent - idleWatched.sent) / N).toFixed(2).padStart(7)}  (MONITOR, in a second run: commands not called from a script)`);
  console.log(`  bytes into Redis       ${((busy.inBytes - idle.inBytes) / N).toFixed(0).padStart(7)}`);
  console.log(`  bytes out of Redis     ${((busy.outBytes - idle.outBytes) / N).toFixed(0).padStart(7)}`);
} finally {
  await redis.close();
}
