// Leader election over a Redis lease: exactly one replica reports at a time; all of them serve webhooks.
//
// - Acquire: SET <key> <identity>:<token> NX PX <ttl>. The token comes from INCR, so every term has a fresh,
//   ever-increasing value; the whole value is the fence.
// - Renew every ttl/3 with compare-and-PEXPIRE; the leader believes in its lease only until (time before the renew
//   call) + ttl − margin, so it stops before any other replica can acquire it, even when Redis is unreachable.
// - Lose (renew refused, or the local deadline passed): stop reporting at once. Reporter writes to the store are
//   fenced (SET only while the lease still holds this term's value), and every GitHub write is preceded by a local
//   assertLeading(), so a paused ex-leader cannot record or send anything after its deadline.
// - Stop: release the lease (compare-and-DEL) so another replica takes over without waiting for the TTL.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Fence } from '../adapters/report-state.ts';
import type { Store } from '../adapters/store.ts';

export class NotLeader extends Error {
  constructor() {
    super('this replica does not hold the reporter lease');
    this.name = 'NotLeader';
  }
}

export interface LeaderOptions {
  store: Store;
  ttlMs: number;
  log: Logger;
  /** Called when this replica becomes the reporter, with the fence for its writes. */
  onStart(fence: Fence): Promise<void> | void;
  /** Called when it stops being the reporter (lost, or stopping). */
  onStop(reason: string): Promise<void> | void;
  key?: string;
  identity?: string;
}

const LEASE_KEY = 'reporter:leader';
const TOKEN_KEY = 'reporter:term';

export class LeaderElector {
  readonly #o: LeaderOptions;
  readonly #key: string;
  readonly identity: string;
  #value: string | undefined;
  #validUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #stopped = true;
  #transition: Promise<void> = Promise.resolve();
  #ticking: Promise<void> | undefined;

  constructor(o: LeaderOptions) {
    this.#o = o;
    this.#key = o.key ?? LEASE_KEY;
    this.identity = o.identity ?? `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
  }

  get #margin(): number {
    return Math.max(50, Math.floor(this.#o.ttlMs / 5));
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const period = Math.max(20, Math.floor(this.#o.ttlMs / 3));
    const tick = () => {
      if (this.#stopped) return;
      this.#ticking = this.#tick().finally(() => {
        this.#ticking = undefined;
        if (!this.#stopped) this.#timer = setTimeout(tick, period).unref();
      });
    };
    tick();
  }

  isLeader(): boolean {
    return this.#value !== undefined && Date.now() < this.#validUntil;
  }

  assertLeading(): void {
    if (!this.isLeader()) throw new NotLeader();
  }

  fence(): Fence | undefined {
    return this.#value ? { key: this.#key, value: this.#value } : undefined;
  }

  /** Stops reporting at the local deadline even if no tick comes in time (a hung Redis call). */
  #armDeadline(): void {
    if (this.#deadline) clearTimeout(this.#deadline);
    const wait = Math.max(0, this.#validUntil - Date.now());
    this.#deadline = setTimeout(() => {
      if (this.#value && Date.now() >= this.#validUntil) void this.#lose('lease could not be renewed in time');
    }, wait).unref();
  }

  async #tick(): Promise<void> {
    const t0 = Date.now();
    try {
      if (this.#value) {
        const ok = await this.#o.store.renewLease(this.#key, this.#value, this.#o.ttlMs);
        if (ok) {
          this.#validUntil = t0 + this.#o.ttlMs - this.#margin;
          this.#armDeadline();
        } else await this.#lose('lease taken or expired');
        return;
      }
      const token = await this.#o.store.incr(TOKEN_KEY);
      const value = `${this.identity}:${token}`;
      if (await this.#o.store.acquireLease(this.#key, value, this.#o.ttlMs)) {
        this.#value = value;
        this.#validUntil = t0 + this.#o.ttlMs - this.#margin;
        this.#armDeadline();
        this.#o.log.info({ identity: this.identity, term: token }, 'reporter lease acquired: this replica reports');
        const fence = { key: this.#key, value };
        // Not awaited: starting (a full re-list) may take longer than a renew period.
        void this.#run(() => this.#o.onStart(fence));
      }
    } catch (err) {
      this.#o.log.warn({ err: (err as Error).message }, 'reporter lease: store unreachable');
      if (this.#value && Date.now() >= this.#validUntil) await this.#lose('lease could not be renewed in time');
    }
  }

  async #lose(reason: string): Promise<void> {
    if (this.#deadline) clearTimeout(this.#deadline);
    if (!this.#value) return;
    this.#value = undefined;
    this.#validUntil = 0;
    this.#o.log.warn({ identity: this.identity, reason }, 'reporter lease lost: this replica stops reporting');
    await this.#run(() => this.#o.onStop(reason));
  }

  #run(fn: () => Promise<void> | void): Promise<void> {
    const next = this.#transition.then(fn).catch((err: Error) => this.#o.log.error({ err: err.message }, 'reporter leadership transition failed'));
    this.#transition = next;
    return next;
  }

  /** Stops campaigning; a leader stops reporting, then releases the lease for the next replica. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#deadline) clearTimeout(this.#deadline);
    await this.#ticking;
    const value = this.#value;
    if (value) {
      this.#value = undefined;
      this.#validUntil = 0;
      await this.#run(() => this.#o.onStop('stopping'));
      await this.#o.store.releaseLease(this.#key, value).catch(() => undefined);
      this.#o.log.info({ identity: this.identity }, 'reporter lease released');
    }
    await this.#transition;
  }
}
