// The Redis webhook queue on a real redis-server: intake appends to a stream (dedupe + XADD in one script), the
// pump moves entries into BullMQ and only then acknowledges them. Every crash window between the stages is
// replayed with raw Redis commands, and each delivery must reach the handler exactly once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { RedisWebhookQueue, type InboundDelivery, type WebhookTask } from '../../src/adapters/queue.ts';
import { startRedis, type TestRedis } from '../fixtures/redis.ts';
import { waitFor } from './harness.ts';

const log = pino({ level: 'silent' });
let redis: TestRedis;
let raw: Redis;
let n = 0;

before(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
});
after(async () => {
  raw?.disconnect();
  await redis?.close();
});

/** A queue on its own key prefix, with a handler that records what it was given. */
async function queue(prefix: string, opts: { replica?: string; claimIdleMs?: number } = {}) {
  const q = new RedisWebhookQueue({ redisUrl: redis.url, prefix, concurrency: 4, log, ...opts });
  await q.ready(); // as katabot starts: intake's connection refuses commands until it is up
  const handled: WebhookTask[] = [];
  const consume = () => q.consume(async (task) => void handled.push(task));
  return { q, handled, consume };
}

function task(id: string): InboundDelivery {
  return { id, name: 'issue_comment', body: Buffer.from(JSON.stringify({ action: 'created', n: id })), receivedAt: Date.now() };
}

function prefix(): string {
  return `${redis.prefix}q${n++}`;
}

function counts(handled: WebhookTask[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of handled) m.set(t.id, (m.get(t.id) ?? 0) + 1);
  return m;
}

describe('redis webhook queue', () => {
  it('hands each delivery to the handler once, with its body, even when sent 50 times at once', async () => {
    const p = prefix();
    const { q, handled, consume } = await queue(p);
    try {
      consume();
      await Promise.all([...Array.from({ length: 50 }, () => q.enqueue(task('d1'))), q.enqueue(task('d2'))]);
      await waitFor('both deliveries handled', () => handled.length >= 2);
      await sleep(300);
      assert.deepEqual([...counts(handled)].sort(), [['d1', 1], ['d2', 1]]);
      assert.deepEqual(JSON.parse(handled.find((t) => t.id === 'd1')!.body), { action: 'created', n: 'd1' });
      assert.equal(await raw.xlen(`${p}:intake`), 0, 'moved entries leave the stream');
      assert.equal(await q.depth(), 0);
    } finally {
      await q.close();
    }
  });

  it('keeps what arrives while no replica consumes, and counts it as depth', async () => {
    const p = prefix();
    const intakeOnly = await queue(p);
    const worker = await queue(p);
    try {
      for (const id of ['a', 'b', 'c']) await intakeOnly.q.enqueue(task(id));
      assert.equal(await intakeOnly.q.depth(), 3);
      worker.consume();
      await waitFor('the backlog handled', () => worker.handled.length === 3);
      assert.deepEqual([...counts(worker.handled).keys()].sort(), ['a', 'b', 'c']);
    } finally {
      await intakeOnly.q.close();
      await worker.q.close();
    }
  });

  it('a replica that restarts moves what it had read but not acknowledged', async () => {
    const p = prefix();
    const { q, handled, consume } = await queue(p, { replica: 'pod-0' });
    try {
      await q.enqueue(task('r1'));
      await q.enqueue(task('r2'));
      // The replica's previous life read both entries and died before moving them.
      await raw.xgroup('CREATE', `${p}:intake`, 'pump', '0', 'MKSTREAM');
      await raw.xreadgroup('GROUP', 'pump', 'pod-0', 'COUNT', 10, 'STREAMS', `${p}:intake`, '>');
      consume();
      await waitFor('its own pending entries handled', () => handled.length === 2, 5000);
      assert.deepEqual([...counts(handled)].sort(), [['r1', 1], ['r2', 1]]);
    } finally {
      await q.close();
    }
  });

  it('another replica takes over what a dead one read, once it has idled past the claim time', async () => {
    const p = prefix();
    const { q, handled, consume } = await queue(p, { replica: 'pod-1', claimIdleMs: 300 });
    try {
      await q.enqueue(task('x1'));
      await raw.xgroup('CREATE', `${p}:intake`, 'pump', '0', 'MKSTREAM');
      await raw.xreadgroup('GROUP', 'pump', 'pod-gone', 'COUNT', 10, 'STREAMS', `${p}:intake`, '>');
      consume();
      await q.enqueue(task('x2'));
      await waitFor('the new entry handled', () => handled.some((t) => t.id === 'x2'), 5000);
      await waitFor('the dead replica’s entry taken over', () => handled.some((t) => t.id === 'x1'), 5000);
      await sleep(300);
      assert.deepEqual([...counts(handled)].sort(), [['x1', 1], ['x2', 1]]);
      const pending = (await raw.xpending(`${p}:intake`, 'pump')) as [number, ...unknown[]];
      assert.equal(pending[0], 0, 'nothing left unacknowledged');
    } finally {
      await q.close();
    }
  });

  it('an entry moved into BullMQ but not acknowledged (a crash between the two) is not handled twice', async () => {
    const p = prefix();
    const { q, handled, consume } = await queue(p);
    try {
      consume();
      await q.enqueue(task('m1'));
      await waitFor('m1 handled', () => handled.length === 1);
      // Replay the window: the same entry is back in the stream, as if its acknowledgement had been lost.
      const t = task('m1');
      await raw.xadd(`${p}:intake`, '*', 'id', t.id, 'name', t.name, 'at', String(t.receivedAt), 'body', t.body);
      assert.equal(typeof handled[0]!.body, 'string', 'handlers get the body as text');
      await waitFor('the replayed entry moved', async () => (await raw.xlen(`${p}:intake`)) === 0);
      await sleep(500);
      assert.equal(handled.length, 1);
    } finally {
      await q.close();
    }
  });

  it('drops a malformed stream entry with a log line and moves the rest', async () => {
    const p = prefix();
    const lines: string[] = [];
    const q = new RedisWebhookQueue({
      redisUrl: redis.url,
      prefix: p,
      concurrency: 2,
      log: pino({ level: 'error' }, { write: (l: string) => void lines.push(l) }),
    });
    const handled: WebhookTask[] = [];
    await q.ready();
    try {
      await raw.xadd(`${p}:intake`, '*', 'id', 'broken');
      await q.enqueue(task('ok1'));
      q.consume(async (t) => void handled.push(t));
      await waitFor('the good entry handled', () => handled.length === 1);
      assert.equal(handled[0]!.id, 'ok1');
      await waitFor('the stream emptied', async () => (await raw.xlen(`${p}:intake`)) === 0);
      assert.match(lines.join(''), /intake stream entry without delivery id, event or body; dropped/);
    } finally {
      await q.close();
    }
  });

  it('refuses to persist while Redis is down (intake answers 503), and the pump resumes after', { timeout: 30_000 }, async () => {
    const own = await startRedis();
    const q = new RedisWebhookQueue({ redisUrl: own.url, prefix: 'down', concurrency: 2, log });
    const handled: WebhookTask[] = [];
    await q.ready();
    try {
      q.consume(async (t) => void handled.push(t));
      await q.enqueue(task('before'));
      await waitFor('the first delivery handled', () => handled.length === 1);
      await own.stop();
      await assert.rejects(q.enqueue(task('during')));
      await own.start();
      await waitFor('intake persists again', async () => q.enqueue(task('after')).then(() => true, () => false), 10_000);
      await waitFor('the delivery after the restart handled', () => handled.some((t) => t.id === 'after'), 10_000);
      assert.deepEqual([...counts(handled)].sort(), [['after', 1], ['before', 1]]);
    } finally {
      await q.close();
      await own.close();
    }
  });
});
