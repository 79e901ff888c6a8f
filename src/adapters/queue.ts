// Durable webhook queue. Intake acknowledges a delivery only after it is persisted here, so a crash after
// the 2xx loses nothing. A Redis stream feeding BullMQ in production; an in-process queue for a single dev replica.
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.ts';

export interface WebhookTask {
  /** X-GitHub-Delivery */
  id: string;
  /** X-GitHub-Event */
  name: string;
  /** Raw JSON body, parsed by the worker (never before the signature is checked). */
  body: string;
  receivedAt: number;
}

/** A delivery as intake persists it: the body bytes exactly as received and signed (no decode/encode round trip). */
export interface InboundDelivery extends Omit<WebhookTask, 'body'> {
  body: Buffer;
}

export type TaskHandler = (task: WebhookTask, attempt: number) => Promise<void>;

export interface WebhookQueue {
  enqueue(delivery: InboundDelivery): Promise<void>;
  /** Starts consuming; handler errors are retried with backoff. */
  consume(handler: TaskHandler): void;
  depth(): Promise<number>;
  ready(): Promise<void>;
  close(): Promise<void>;
  readonly kind: 'redis' | 'memory';
}

/** GitHub redelivers for up to 3 days; dedupe covers the whole window. */
const DEDUPE_TTL_MS = 3 * 24 * 3600 * 1000;
/** Jobs that carry a reference to their body. Their own name: a replica of a version that kept bodies inline
 * reads only the legacy names below, so during a rollout it never meets a reference it could not resolve. */
const QUEUE_NAME = 'katabot-webhooks-refs';
/** Where versions that kept the body inline put deliveries; drained by this version too, until they are gone. */
const LEGACY_QUEUE_NAME = 'katabot-webhooks';
const ATTEMPTS = 8;
const PUMP_GROUP = 'pump';
/** Entries read by a replica that died are taken over after this long without an acknowledgement. */
const CLAIM_IDLE_MS = 60_000;
const PUMP_BATCH = 200;

// The intake's only Redis call: refuse a delivery id seen in the last 3 days, else store the body under its own
// key, append a reference to it ({id, name, at}) to the intake stream and remember the id. Body and append come
// before the remembering, so a failed write (out of memory) leaves nothing behind that would refuse GitHub's
// redelivery. One script: atomic, one round trip. The body has no TTL: however long its delivery waits (no replica
// consuming, a long backlog) it is there when the worker runs; the worker deletes it once the job is done for good.
const INTAKE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[3], ARGV[5])
redis.call('XADD', KEYS[2], '*', 'id', ARGV[2], 'name', ARGV[3], 'at', ARGV[4])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return 1`;

/**
 * What the stream entry and the BullMQ job carry: a reference to the body's key. Entries and jobs written by
 * versions before bodies were stored by reference carry the body inline, under the legacy stream and queue names;
 * this version drains those too, so a rolling upgrade loses nothing either way: old replicas never see a
 * reference (other names), and what they appended is handled by whichever replica reads it first.
 */
interface QueuedDelivery extends Omit<WebhookTask, 'body'> {
  body?: string;
}

export interface RedisQueueOptions {
  redisUrl: string;
  prefix?: string;
  concurrency: number;
  log: Logger;
  /** This replica's name in the pump's consumer group (default: the host name, stable across container restarts). */
  replica?: string;
  /** How long an entry another replica read may go unacknowledged before this one takes it over. */
  claimIdleMs?: number;
  /** BullMQ's lock on a job being handled, renewed while it runs; a crashed replica's job is retried after it. */
  lockMs?: number;
  /** Attempts per delivery before BullMQ fails it for good (default 8, with exponential backoff from 500 ms). */
  attempts?: number;
  /** Counts deliveries whose body was gone when the worker came to them. */
  metrics?: Pick<Metrics, 'bodiesMissing'>;
}

/**
 * Two stages. Intake stores each delivery's body once under `<prefix>:body:<id>` and appends a reference
 * ({id, name, at}) to a Redis stream (one small script: dedupe + SET + XADD), which is all a webhook waits for. A
 * pump on every consuming replica moves the references into BullMQ in batches (retries, backoff, stalled-job
 * recovery, concurrency) and only then acknowledges them; a crash between the two re-adds the same job ids, which
 * BullMQ ignores. BullMQ's own add, one Lua script per job, costs about twice the append (npm run bench:intake),
 * so it stays off the webhook's path; with bodies by reference neither the pump nor BullMQ copies the body.
 *
 * The worker GETs the body before calling the handler and deletes it when the handler succeeds, or when BullMQ
 * fails the job for the last time (after its final attempt, an UnrecoverableError, or too many stalls); between
 * retries it stays, so a stalled or retried job finds it. A body that is gone (deleted by hand, or a job run again
 * after a crash between its deletion and BullMQ recording the success) is logged with the delivery id, counted in
 * katabot_webhook_bodies_missing_total, and fails the job without retries.
 */
export class RedisWebhookQueue implements WebhookQueue {
  readonly kind = 'redis' as const;
  readonly #producer: Redis;
  readonly #connection: Redis;
  readonly #queue: Queue;
  readonly #legacyQueue: Queue;
  readonly #opts: RedisQueueOptions;
  readonly #keys: { stream: string; legacyStream: string; seen: (id: string) => string; body: (id: string) => string };
  readonly #workers: Worker[] = [];
  #workerConnection?: Redis;
  readonly #pumps: Array<Promise<void>> = [];
  readonly #pumpConnections: Redis[] = [];
  #closing = false;

  constructor(opts: RedisQueueOptions) {
    this.#opts = opts;
    const prefix = opts.prefix ?? 'katabot';
    this.#keys = { stream: `${prefix}:intake:refs`, legacyStream: `${prefix}:intake`, seen: (id) => `${prefix}:delivery:${id}`, body: (id) => `${prefix}:body:${id}` };
    // Fail fast while Redis is down, so intake answers 503 instead of acknowledging what it cannot persist.
    this.#producer = new Redis(opts.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: 2000,
      retryStrategy: (n) => Math.min(n * 100, 1000),
    } satisfies RedisOptions);
    this.#producer.on('error', (err) => opts.log.debug({ err: err.message }, 'intake connection error'));
    this.#producer.defineCommand('katabotIntake', { numberOfKeys: 3, lua: INTAKE_LUA });
    // BullMQ adds and queue statistics: they fail after one reconnection attempt rather than hang while Redis is
    // down (the pump retries; /metrics and /readyz answer).
    this.#connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 100, 1000) });
    this.#connection.on('error', (err) => opts.log.debug({ err: err.message }, 'queue connection error'));
    this.#queue = new Queue(QUEUE_NAME, { connection: this.#connection, prefix });
    this.#queue.on('error', (err) => opts.log.debug({ err: err.message }, 'queue error'));
    this.#legacyQueue = new Queue(LEGACY_QUEUE_NAME, { connection: this.#connection, prefix });
    this.#legacyQueue.on('error', (err) => opts.log.debug({ err: err.message }, 'queue error'));
  }

  async enqueue(task: InboundDelivery): Promise<void> {
    // The delivery id is the identity: the same delivery arriving twice, even concurrently, is appended once.
    await (this.#producer as Redis & { katabotIntake: (...args: Array<string | number | Buffer>) => Promise<number> }).katabotIntake(
      this.#keys.seen(task.id),
      this.#keys.stream,
      this.#keys.body(task.id),
      DEDUPE_TTL_MS,
      task.id,
      task.name,
      task.receivedAt,
      task.body,
    );
  }

  consume(handler: TaskHandler): void {
    this.#workerConnection = new Redis(this.#opts.redisUrl, {
      maxRetriesPerRequest: null,
      retryStrategy: (n) => Math.min(n * 100, 1000),
    });
    this.#workerConnection.on('error', (err) => this.#opts.log.debug({ err: err.message }, 'worker connection error'));
    const handle = async (job: Job<QueuedDelivery>): Promise<void> => {
      const { id, name, receivedAt, body: inline } = job.data;
      const body = inline ?? (await this.#connection.get(this.#keys.body(id)));
      if (body === null) {
        this.#opts.log.error({ delivery: id, event: name }, 'webhook body missing (deleted, or the job ran again after it finished); dropped');
        this.#opts.metrics?.bodiesMissing.inc();
        throw new UnrecoverableError(`webhook body ${id} missing`);
      }
      await handler({ id, name, body, receivedAt }, job.attemptsMade + 1);
      // Deleted here rather than once BullMQ has recorded the success, so a crash in between cannot leak it: the
      // job then runs again, finds no body and ends (its handler already succeeded).
      if (inline === undefined) await this.#dropBody(id);
    };
    for (const queue of [QUEUE_NAME, LEGACY_QUEUE_NAME]) {
      const worker = new Worker(queue, handle, {
        connection: this.#workerConnection,
        prefix: this.#opts.prefix ?? 'katabot',
        concurrency: this.#opts.concurrency,
        // A crashed replica's job is picked up again once its lock lapses.
        lockDuration: this.#opts.lockMs ?? 30_000,
        stalledInterval: (this.#opts.lockMs ?? 30_000) / 2,
        maxStalledCount: 5,
      });
      worker.on('failed', (job, err) => {
        this.#opts.log.warn({ delivery: job?.id, attempt: job?.attemptsMade, err: err.message }, 'webhook handling failed');
        // finishedOn is set only when BullMQ failed the job for good; a job with retries left keeps its body.
        if (job?.finishedOn && job.data.body === undefined) void this.#dropBody(job.data.id);
      });
      worker.on('error', (err) => this.#opts.log.debug({ err: err.message }, 'worker error'));
      this.#workers.push(worker);
    }
    // Both streams go into the new queue: the legacy stream's entries carry their body, which the worker uses.
    this.#pumps.push(this.#runPump(this.#keys.stream), this.#runPump(this.#keys.legacyStream));
  }

  async #dropBody(id: string): Promise<void> {
    await this.#connection.del(this.#keys.body(id)).catch((err: Error) =>
      this.#opts.log.warn({ delivery: id, err: err.message }, 'webhook body not deleted; it stays in Redis'),
    );
  }

  /** Moves a stream's entries into BullMQ until closed; survives Redis restarts. */
  async #runPump(stream: string): Promise<void> {
    const log = this.#opts.log;
    const consumer = this.#opts.replica ?? hostname();
    // XREADGROUP BLOCK holds its connection, so the pump reads on one of its own.
    const conn = new Redis(this.#opts.redisUrl, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 100, 1000) });
    conn.on('error', (err) => log.debug({ err: err.message }, 'pump connection error'));
    this.#pumpConnections.push(conn);
    let ownPending = true; // first what this replica read before a restart and did not acknowledge
    const claimIdle = this.#opts.claimIdleMs ?? CLAIM_IDLE_MS;
    let claimCursor = '0-0';
    let nextClaim = 0;
    while (!this.#closing) {
      try {
        await conn.xgroup('CREATE', stream, PUMP_GROUP, '0', 'MKSTREAM').catch((err: Error) => {
          if (!/BUSYGROUP/.test(err.message)) throw err;
        });
        while (!this.#closing) {
          let entries: StreamEntry[];
          if (ownPending) {
            entries = readGroupEntries(await conn.xreadgroup('GROUP', PUMP_GROUP, consumer, 'COUNT', PUMP_BATCH, 'STREAMS', stream, '0'));
            if (entries.length === 0) ownPending = false;
          } else if (Date.now() >= nextClaim) {
            // Entries another replica read and never acknowledged (it died between reading and moving them).
            const [cursor, claimed] = (await conn.xautoclaim(stream, PUMP_GROUP, consumer, claimIdle, claimCursor, 'COUNT', PUMP_BATCH)) as [string, RawEntry[]];
            claimCursor = cursor;
            if (cursor === '0-0') nextClaim = Date.now() + claimIdle / 4;
            entries = claimed.flatMap(toEntry);
          } else {
            entries = readGroupEntries(await conn.xreadgroup('GROUP', PUMP_GROUP, consumer, 'COUNT', PUMP_BATCH, 'BLOCK', 500, 'STREAMS', stream, '>'));
          }
          if (entries.length) await this.#move(conn, stream, entries);
        }
      } catch (err) {
        if (this.#closing) break;
        log.debug({ err: (err as Error).message }, 'intake pump: retrying');
        ownPending = true;
        await sleep(250);
      }
    }
  }

  async #move(conn: Redis, stream: string, entries: StreamEntry[]): Promise<void> {
    const jobs = entries.flatMap((e) => {
      const task = taskOf(e.fields);
      if (!task) {
        this.#opts.log.error({ entry: e.id }, 'intake stream entry without delivery id or event; dropped');
        return [];
      }
      return [{ name: task.name, data: task, opts: jobOptions(task.id, this.#opts.attempts ?? ATTEMPTS) }];
    });
    if (jobs.length) await this.#queue.addBulk(jobs);
    const ids = entries.map((e) => e.id);
    await conn.multi().xack(stream, PUMP_GROUP, ...ids).xdel(stream, ...ids).exec();
  }

  async depth(): Promise<number> {
    const counted = await Promise.all([
      ...[this.#queue, this.#legacyQueue].map(async (q) => Object.values(await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).reduce((a, b) => a + b, 0)),
      this.#connection.xlen(this.#keys.stream),
      this.#connection.xlen(this.#keys.legacyStream),
    ]);
    return counted.reduce((a, b) => a + b, 0);
  }

  async ready(): Promise<void> {
    if (this.#producer.status !== 'ready') await connected(this.#producer, 2000);
    await this.#producer.ping();
  }

  async close(): Promise<void> {
    this.#closing = true;
    // Ends a blocked XREADGROUP at once; the pump loop then stops.
    for (const c of this.#pumpConnections) c.disconnect();
    await Promise.all(this.#pumps);
    await Promise.all(this.#workers.map((w) => w.close()));
    await Promise.all([this.#queue.close(), this.#legacyQueue.close()]);
    this.#producer.disconnect();
    this.#connection.disconnect();
    this.#workerConnection?.disconnect();
  }
}

function jobOptions(id: string, attempts: number): JobsOptions {
  return {
    // The delivery id is the job id, and deduplicated for GitHub's redelivery window: a re-added entry is a no-op.
    jobId: id,
    deduplication: { id, ttl: DEDUPE_TTL_MS },
    attempts,
    backoff: { type: 'exponential', delay: 500 },
    // Records only ({id, name, at}): the worker deletes the body when the job completes or fails for good.
    removeOnComplete: { age: 3600, count: 5000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

type RawEntry = [id: string, fields: string[] | null];
interface StreamEntry {
  id: string;
  fields: string[];
}

function toEntry([id, fields]: RawEntry): StreamEntry[] {
  // XAUTOCLAIM reports entries deleted meanwhile with no fields; they need no moving.
  return fields ? [{ id, fields }] : [];
}

function readGroupEntries(reply: unknown): StreamEntry[] {
  const streams = reply as Array<[key: string, entries: RawEntry[]]> | null;
  return streams ? streams.flatMap(([, entries]) => entries.flatMap(toEntry)) : [];
}

function taskOf(fields: string[]): QueuedDelivery | undefined {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  if (!f.id || !f.name) return undefined;
  const task: QueuedDelivery = { id: f.id, name: f.name, receivedAt: Number(f.at) || Date.now() };
  // An entry appended by a version that kept the body inline.
  if (f.body !== undefined) task.body = f.body;
  return task;
}

/** Waits for a fail-fast connection to come up (it rejects commands until then). */
async function connected(redis: Redis, timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`redis not connected after ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** Single-process queue: same contract minus durability, for development without Redis. */
export class MemoryWebhookQueue implements WebhookQueue {
  readonly kind = 'memory' as const;
  readonly #pending: WebhookTask[] = [];
  readonly #seen = new Map<string, number>();
  readonly #log: Logger;
  readonly #pq: PQueue;
  #handler?: TaskHandler;

  constructor(concurrency: number, log: Logger) {
    this.#pq = new PQueue({ concurrency });
    this.#log = log;
  }

  async enqueue(delivery: InboundDelivery): Promise<void> {
    const task: WebhookTask = { ...delivery, body: delivery.body.toString('utf8') };
    const now = Date.now();
    const seen = this.#seen.get(task.id);
    if (seen && now - seen < DEDUPE_TTL_MS) return;
    this.#seen.set(task.id, now);
    if (this.#handler) this.#schedule(task, 1);
    else this.#pending.push(task);
  }

  consume(handler: TaskHandler): void {
    this.#handler = handler;
    for (const task of this.#pending.splice(0)) this.#schedule(task, 1);
  }

  #schedule(task: WebhookTask, attempt: number): void {
    void this.#pq.add(async () => {
      try {
        await this.#handler!(task, attempt);
      } catch (err) {
        this.#log.warn({ delivery: task.id, attempt, err: (err as Error).message }, 'webhook handling failed');
        if (attempt < ATTEMPTS) setTimeout(() => this.#schedule(task, attempt + 1), 500 * 2 ** (attempt - 1)).unref();
      }
    });
  }

  async depth(): Promise<number> {
    return this.#pq.size + this.#pq.pending + this.#pending.length;
  }

  async ready(): Promise<void> {}

  async close(): Promise<void> {
    await this.#pq.onIdle();
  }

  /** Resolves when all queued work is done (tests and graceful shutdown). */
  async idle(): Promise<void> {
    await this.#pq.onIdle();
  }
}
