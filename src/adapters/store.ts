// Small key-value store for dedupe records, idempotency markers, caches and locks.
// Redis in production (shared by replicas); an in-memory map for a single development replica.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface Store {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  /** SET NX: true when this call created the key. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  del(key: string): Promise<void>;
  /** Several keys in one round trip, in order. */
  mget(keys: readonly string[]): Promise<Array<string | undefined>>;
  /** SET only while `guard.key` still holds `guard.value` (a fencing check, atomic with the write). */
  setGuarded(key: string, value: string, ttlSeconds: number, guard: { key: string; value: string }): Promise<boolean>;
  /** INCR: a fresh, ever-increasing number (fencing tokens). */
  incr(key: string): Promise<number>;
  /** Lease primitives: acquire (SET NX PX), renew (only by its holder), release (only by its holder). */
  acquireLease(key: string, value: string, ttlMs: number): Promise<boolean>;
  renewLease(key: string, value: string, ttlMs: number): Promise<boolean>;
  releaseLease(key: string, value: string): Promise<void>;
  /**
   * Runs fn while holding a lease on key, so replicas and workers serialise work on one PR. The lease lives ttlMs
   * and is renewed by its holder every ttlMs/3 while fn runs, so work longer than ttlMs (Kubernetes creates that
   * retry, paced GitHub writes) keeps it, and a crashed holder's lease still ends within ttlMs.
   */
  withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
  readonly kind: 'redis' | 'memory';
}

const RELEASE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const SET_GUARDED_LUA = `if redis.call('get', KEYS[2]) == ARGV[3] then redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2]) return 1 else return 0 end`;

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix = 'katabot:') {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#prefix + key)) ?? undefined;
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    if (ttlSeconds) await this.#redis.set(this.#prefix + key, value, 'EX', ttlSeconds);
    else await this.#redis.set(this.#prefix + key, value);
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (await this.#redis.set(this.#prefix + key, value, 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  async del(key: string): Promise<void> {
    await this.#redis.del(this.#prefix + key);
  }

  async mget(keys: readonly string[]): Promise<Array<string | undefined>> {
    if (keys.length === 0) return [];
    const values = await this.#redis.mget(...keys.map((k) => this.#prefix + k));
    return values.map((v) => v ?? undefined);
  }

  async setGuarded(key: string, value: string, ttlSeconds: number, guard: { key: string; value: string }): Promise<boolean> {
    const r = await this.#redis.eval(SET_GUARDED_LUA, 2, this.#prefix + key, this.#prefix + guard.key, value, String(ttlSeconds), guard.value);
    return Number(r) === 1;
  }

  async incr(key: string): Promise<number> {
    return this.#redis.incr(this.#prefix + key);
  }

  async acquireLease(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.set(this.#prefix + key, value, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async renewLease(key: string, value: string, ttlMs: number): Promise<boolean> {
    return Number(await this.#redis.eval(RENEW_LUA, 1, this.#prefix + key, value, String(ttlMs))) === 1;
  }

  async releaseLease(key: string, value: string): Promise<void> {
    await this.#redis.eval(RELEASE_LUA, 1, this.#prefix + key, value);
  }

  /** The connection, for adapters that keep richer structures next to the store (results). */
  get redis(): Redis {
    return this.#redis;
  }

  get prefix(): string {
    return this.#prefix;
  }

  async withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    const lockKey = `${this.#prefix}lock:${key}`;
    const token = randomBytes(12).toString('hex');
    const deadline = Date.now() + ttlMs * 2;
    for (let delay = 10; ; delay = Math.min(delay * 2, 250)) {
      if ((await this.#redis.set(lockKey, token, 'PX', ttlMs, 'NX')) === 'OK') break;
      if (Date.now() > deadline) throw new Error(`lock ${key}: still held after ${ttlMs * 2} ms`);
      await sleep(delay);
    }
    // Token-checked renewal: only the holder extends it (never a lease another worker took after it expired).
    const renew = setInterval(() => {
      this.#redis.eval(RENEW_LUA, 1, lockKey, token, String(ttlMs)).catch(() => undefined);
    }, Math.max(10, Math.floor(ttlMs / 3)));
    renew.unref();
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      await this.#redis.eval(RELEASE_LUA, 1, lockKey, token).catch(() => undefined);
    }
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}

export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly #data = new Map<string, { value: string; expires: number }>();
  readonly #locks = new Map<string, Promise<unknown>>();

  async get(key: string): Promise<string | undefined> {
    const e = this.#data.get(key);
    if (!e) return undefined;
    if (e.expires && e.expires < Date.now()) {
      this.#data.delete(key);
      return undefined;
    }
    return e.value;
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    this.#data.set(key, { value, expires: ttlSeconds ? Date.now() + ttlSeconds * 1000 : 0 });
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    if ((await this.get(key)) !== undefined) return false;
    await this.set(key, value, ttlSeconds);
    return true;
  }

  async del(key: string): Promise<void> {
    this.#data.delete(key);
  }

  async mget(keys: readonly string[]): Promise<Array<string | undefined>> {
    return Promise.all(keys.map((k) => this.get(k)));
  }

  async setGuarded(key: string, value: string, ttlSeconds: number, guard: { key: string; value: string }): Promise<boolean> {
    if ((await this.get(guard.key)) !== guard.value) return false;
    await this.set(key, value, ttlSeconds);
    return true;
  }

  async incr(key: string): Promise<number> {
    const n = Number((await this.get(key)) ?? '0') + 1;
    const e = this.#data.get(key);
    this.#data.set(key, { value: String(n), expires: e?.expires ?? 0 });
    return n;
  }

  async acquireLease(key: string, value: string, ttlMs: number): Promise<boolean> {
    if ((await this.get(key)) !== undefined) return false;
    this.#data.set(key, { value, expires: Date.now() + ttlMs });
    return true;
  }

  async renewLease(key: string, value: string, ttlMs: number): Promise<boolean> {
    if ((await this.get(key)) !== value) return false;
    this.#data.set(key, { value, expires: Date.now() + ttlMs });
    return true;
  }

  async releaseLease(key: string, value: string): Promise<void> {
    if ((await this.get(key)) === value) this.#data.delete(key);
  }

  async withLock<T>(key: string, _ttlMs: number, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(fn);
    const tail = run.catch(() => undefined);
    this.#locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    }
  }

  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * Runs an external side effect (a GitHub write) once per key, across retries and crashes.
 * `done:` records the result. `intent:` is written before the effect, so a retry after a crash between the
 * effect and its record knows to look for the effect (`find`) before doing it again.
 */
export async function exactlyOnce<T>(
  store: Store,
  key: string,
  ttlSeconds: number,
  run: () => Promise<T>,
  find?: () => Promise<T | undefined>,
): Promise<T> {
  const done = await store.get(`done:${key}`);
  if (done !== undefined) return JSON.parse(done) as T;
  const fresh = await store.setIfAbsent(`intent:${key}`, '1', ttlSeconds);
  if (!fresh && find) {
    const found = await find();
    if (found !== undefined) {
      await store.set(`done:${key}`, JSON.stringify(found), ttlSeconds);
      return found;
    }
  }
  const result = await run();
  await store.set(`done:${key}`, JSON.stringify(result ?? null), ttlSeconds);
  return result;
}
