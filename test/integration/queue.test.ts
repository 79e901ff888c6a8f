// The Redis webhook queue on a real redis-server: intake stores the body once and appends a reference to a stream
// (dedupe + SET + XADD in one script), the pump moves references into BullMQ and only then acknowledges them, the
// worker reads the body and deletes it when the job is done for good. Every crash window between the stages is
// replayed with raw Redis commands, and each delivery must reach the handler exactly once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createMetrics } from '../../src/adapters/metrics.ts';
import { RedisWebhookQueue, type InboundDelivery, type RedisQueueOptions, type WebhookTask } from '../../src/adapters/queue.ts';
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

/** A queue on its own key prefix, with a handler that records what it was given, and its error log lines. */
async function queue(prefix: string, opts: Partial<Pick<RedisQueueOptions, 'replica' | 'claimIdleMs' | 'attempts' | 'metrics'>> = {}) {
  const lines: string[] = [];
  const q = new RedisWebhookQueue({ redisUrl: redis.url, prefix, concurrency: 4, log: pino({ level: 'error' }, { write: (l: string) => void lines.push(l) }), ...opts });
  await q.ready(); // as katabot starts: intake's connection refuses commands until it is up
  const handled: WebhookTask[] = [];
  const consume = () => q.consume(async (task) => void handled.push(task));
  return { q, handled, consume, lines };
}

function task(id: string): InboundDelivery {
  return { id, name: 'issue_comment', body: Buffer.from(JSON.stringify({ action: 'created', n: id })), receivedAt: Date.now() };
}

/** A BullMQ queue under a prefix: the pump's (`refs`), to read jobs as it wrote them, or the one an older version
 * wrote to with the body inline (`legacy`). */
function bull(prefix: string, which: 'refs' | 'legacy' = 'refs'): Queue {
  // Connection options rather than a client, so that close() ends the connection BullMQ makes from them.
  const { hostname: host, port } = new URL(redis.url);
  return new Queue(which === 'refs' ? 'katabot-webhooks-refs' : 'katabot-webhooks', { connection: { host, port: Number(port) }, prefix });
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
      assert.equal(await raw.xlen(`${p}:intake:refs`), 0, 'moved entries leave the stream');
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
      await raw.xgroup('CREATE', `${p}:intake:refs`, 'pump', '0', 'MKSTREAM');
      await raw.xreadgroup('GROUP', 'pump', 'pod-0', 'COUNT', 10, 'STREAMS', `${p}:intake:refs`, '>');
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
      await raw.xgroup('CREATE', `${p}:intake:refs`, 'pump', '0', 'MKSTREAM');
      await raw.xreadgroup('GROUP', 'pump', 'pod-gone', 'COUNT', 10, 'STREAMS', `${p}:intake:refs`, '>');
      consume();
      await q.enqueue(task('x2'));
      await waitFor('the new entry handled', () => handled.some((t) => t.id === 'x2'), 5000);
      await waitFor('the dead replica’s entry taken over', () => handled.some((t) => t.id === 'x1'), 5000);
      await sleep(300);
      assert.deepEqual([...counts(handled)].sort(), [['x1', 1], ['x2', 1]]);
      const pending = (await raw.xpending(`${p}:intake:refs`, 'pump')) as [number, ...unknown[]];
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
      await raw.xadd(`${p}:intake:refs`, '*', 'id', t.id, 'name', t.name, 'at', String(t.receivedAt));
      assert.equal(typeof handled[0]!.body, 'string', 'handlers get the body as text');
      await waitFor('the replayed entry moved', async () => (await raw.xlen(`${p}:intake:refs`)) === 0);
      await sleep(500);
      assert.equal(handled.length, 1);
    } finally {
      await q.close();
    }
  });

  it('stores the body once, by reference: no body in the stream entry or the BullMQ job; deleted once handled', async () => {
    const p = prefix();
    const { q, handled } = await queue(p);
    const jobs = bull(p);
    // Bytes a decode/encode round trip would change: non-ASCII, an escaped slash, odd spacing.
    const body = '{"action":"created",  "comment":{"body":"/test all — ✓ 😀 \\/ é"}}';
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    try {
      await q.enqueue({ id: 'b1', name: 'issue_comment', body: Buffer.from(body), receivedAt: 1 });
      const [[, fields]] = (await raw.xrange(`${p}:intake:refs`, '-', '+')) as [[string, string[]]];
      assert.deepEqual(fields, ['id', 'b1', 'name', 'issue_comment', 'at', '1'], 'the stream entry is a reference');
      assert.equal(await raw.xlen(`${p}:intake`), 0, 'nothing in the stream older versions read: they cannot resolve a reference');
      assert.equal(await raw.get(`${p}:body:b1`), body);
      assert.equal(await raw.ttl(`${p}:body:b1`), -1, 'the body does not expire while its delivery waits');
      q.consume(async (t) => {
        handled.push(t);
        await gate;
      });
      await waitFor('the handler called', () => handled.length === 1);
      const job = await jobs.getJob('b1');
      assert.deepEqual(job?.data, { id: 'b1', name: 'issue_comment', receivedAt: 1 }, 'the job is a reference');
      const legacy = bull(p, 'legacy');
      assert.equal(await legacy.getJob('b1'), undefined, 'nor in the queue older versions work on');
      await legacy.close();
      assert.equal(handled[0]!.body, body, 'the handler gets the exact bytes');
      assert.equal(await raw.exists(`${p}:body:b1`), 1, 'kept while the job runs');
      release();
      await waitFor('the body deleted after success', async () => (await raw.exists(`${p}:body:b1`)) === 0);
      await waitFor('the job completed', async () => (await jobs.getJob('b1').then((j) => j?.getState())) === 'completed');
      // The same delivery again: refused by intake, so no body is stored again and nothing runs twice.
      await q.enqueue({ id: 'b1', name: 'issue_comment', body: Buffer.from(body), receivedAt: 2 });
      assert.equal(await raw.exists(`${p}:body:b1`), 0);
      assert.equal(await raw.xlen(`${p}:intake:refs`), 0);
      await sleep(300);
      assert.equal(handled.length, 1);
    } finally {
      release();
      await q.close();
      await jobs.close();
    }
  });

  it('keeps the body between failed attempts and deletes it after the final one', async () => {
    const p = prefix();
    const { q } = await queue(p, { attempts: 2 });
    const jobs = bull(p);
    const seen: Array<{ attempt: number; body: string; stored: number }> = [];
    try {
      await q.enqueue(task('f1'));
      q.consume(async (t, attempt) => {
        seen.push({ attempt, body: t.body, stored: await raw.exists(`${p}:body:f1`) });
        throw new Error('transient');
      });
      await waitFor('the job failed for good', async () => (await jobs.getJob('f1').then((j) => j?.getState())) === 'failed', 10_000);
      await waitFor('the body deleted after the final attempt', async () => (await raw.exists(`${p}:body:f1`)) === 0);
      assert.deepEqual(seen.map((s) => [s.attempt, s.stored]), [[1, 1], [2, 1]], 'both attempts ran with the body stored');
      assert.deepEqual(JSON.parse(seen[1]!.body), { action: 'created', n: 'f1' });
    } finally {
      await q.close();
      await jobs.close();
    }
  });

  it('a delivery whose body is gone is logged, counted and failed without retries', async () => {
    const p = prefix();
    const metrics = createMetrics();
    const { q, handled, consume, lines } = await queue(p, { metrics });
    const jobs = bull(p);
    try {
      await q.enqueue(task('gone'));
      await q.enqueue(task('here'));
      await raw.del(`${p}:body:gone`);
      consume();
      await waitFor('the job failed', async () => (await jobs.getJob('gone').then((j) => j?.getState())) === 'failed', 10_000);
      await waitFor('the other delivery handled', () => handled.length === 1);
      const job = await jobs.getJob('gone');
      assert.equal(job?.attemptsMade, 1, 'not retried');
      assert.deepEqual(handled.map((t) => t.id), ['here']);
      const line = lines.map((l) => JSON.parse(l) as { delivery?: string; msg: string }).find((l) => /body missing/.test(l.msg));
      assert.equal(line?.delivery, 'gone');
      assert.equal((await metrics.bodiesMissing.get()).values[0]?.value, 1);
    } finally {
      await q.close();
      await jobs.close();
    }
  });

  it('handles stream entries and BullMQ jobs an older version wrote with the body inline, under its own names', async () => {
    const p = prefix();
    const { q, handled, consume } = await queue(p);
    const jobs = bull(p, 'legacy');
    try {
      await raw.xadd(`${p}:intake`, '*', 'id', 'old-entry', 'name', 'issue_comment', 'at', '5', 'body', '{"old":"entry ✓"}');
      await jobs.add('issue_comment', { id: 'old-job', name: 'issue_comment', receivedAt: 6, body: '{"old":"job"}' }, { jobId: 'old-job' });
      consume();
      await waitFor('both handled', () => handled.length === 2);
      assert.deepEqual(
        handled.map((t) => [t.id, t.body, t.receivedAt]).sort(),
        [['old-entry', '{"old":"entry ✓"}', 5], ['old-job', '{"old":"job"}', 6]],
      );
      assert.deepEqual(await raw.keys(`${p}:body:*`), [], 'no body key was made for them');
      assert.equal(await raw.xlen(`${p}:intake`), 0, 'the legacy stream was drained');
    } finally {
      await q.close();
      await jobs.close();
    }
  });

  it('drops a malformed stream entry with a log line and moves the rest', async () => {
    const p = prefix();
    const { q, handled, consume, lines } = await queue(p);
    try {
      await raw.xadd(`${p}:intake:refs`, '*', 'id', 'broken');
      await q.enqueue(task('ok1'));
      consume();
      await waitFor('the good entry handled', () => handled.length === 1);
      assert.equal(handled[0]!.id, 'ok1');
      await waitFor('the stream emptied', async () => (await raw.xlen(`${p}:intake:refs`)) === 0);
      assert.match(lines.join(''), /intake stream entry without delivery id or event; dropped/);
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
