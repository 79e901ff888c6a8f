// Durable webhook queue. Intake acknowledges a delivery only after it is persisted here, so a crash after
// the 2xx loses nothing. BullMQ on Redis in production; an in-process queue for a single dev replica.
import { Queue, Worker, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import PQueue from 'p-queue';
import type { Logger } from 'pino';

export interface WebhookTask {
  /** X-GitHub-Delivery */
  id: string;
  /** X-GitHub-Event */
  name: string;
  /** Raw JSON body, parsed by the worker (never before the signature is checked). */
  body: string;
  receivedAt: number;
}

export type TaskHandler = (task: WebhookTask, attempt: number) => Promise<void>;

export interface WebhookQueue {
  enqueue(task: WebhookTask): Promise<void>;
  /** Starts consuming; handler errors are retried with backoff. */
  consume(handler: TaskHandler): void;
  depth(): Promise<number>;
  ready(): Promise<void>;
  close(): Promise<void>;
  readonly kind: 'redis' | 'memory';
}

/** GitHub redelivers for up to 3 days; dedupe covers the whole window. */
export const DEDUPE_TTL_MS = 3 * 24 * 3600 * 1000;
const QUEUE_NAME = 'katabot-webhooks';
const ATTEMPTS = 8;

export interface RedisQueueOptions {
  redisUrl: string;
  prefix?: string;
  concurrency: number;
  log: Logger;
}

export class RedisWebhookQueue implements WebhookQueue {
  readonly kind = 'redis' as const;
  readonly #queue: Queue;
  readonly #producer: Redis;
  readonly #opts: RedisQueueOptions;
  #worker?: Worker;
  #workerConnection?: Redis;

  constructor(opts: RedisQueueOptions) {
    this.#opts = opts;
    // Fail fast while Redis is down, so intake answers 503 instead of acknowledging what it cannot persist.
    this.#producer = new Redis(opts.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: 2000,
      retryStrategy: (n) => Math.min(n * 100, 1000),
    } satisfies RedisOptions);
    this.#producer.on('error', (err) => opts.log.debug({ err: err.message }, 'queue producer connection error'));
    this.#queue = new Queue(QUEUE_NAME, { connection: this.#producer, prefix: opts.prefix ?? 'katabot' });
    this.#queue.on('error', (err) => opts.log.debug({ err: err.message }, 'queue error'));
  }

  async enqueue(task: WebhookTask): Promise<void> {
    await this.#queue.add(task.name, task, {
      // The delivery id is the identity: the same delivery arriving twice, even concurrently, is one job.
      jobId: task.id,
      deduplication: { id: task.id, ttl: DEDUPE_TTL_MS },
      attempts: ATTEMPTS,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: { age: 3600, count: 5000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  }

  consume(handler: TaskHandler): void {
    this.#workerConnection = new Redis(this.#opts.redisUrl, {
      maxRetriesPerRequest: null,
      retryStrategy: (n) => Math.min(n * 100, 1000),
    });
    this.#workerConnection.on('error', (err) => this.#opts.log.debug({ err: err.message }, 'worker connection error'));
    this.#worker = new Worker(
      QUEUE_NAME,
      async (job: Job<WebhookTask>) => handler(job.data, job.attemptsMade + 1),
      {
        connection: this.#workerConnection,
        prefix: this.#opts.prefix ?? 'katabot',
        concurrency: this.#opts.concurrency,
        // A crashed replica's job is picked up again once its lock lapses.
        lockDuration: 30_000,
        stalledInterval: 15_000,
        maxStalledCount: 5,
      },
    );
    this.#worker.on('failed', (job, err) =>
      this.#opts.log.warn({ delivery: job?.id, attempt: job?.attemptsMade, err: err.message }, 'webhook handling failed'),
    );
    this.#worker.on('error', (err) => this.#opts.log.debug({ err: err.message }, 'worker error'));
  }

  async depth(): Promise<number> {
    const counts = await this.#queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  async ready(): Promise<void> {
    if (this.#producer.status !== 'ready') await connected(this.#producer, 2000);
    await this.#producer.ping();
  }

  async close(): Promise<void> {
    await this.#worker?.close();
    await this.#queue.close();
    this.#producer.disconnect();
    this.#workerConnection?.disconnect();
  }
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

  async enqueue(task: WebhookTask): Promise<void> {
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
