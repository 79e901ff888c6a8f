// A keyed work queue with at most one pending run per key: asking for a key that is already pending adds nothing
// (its rank may rise; it keeps its place in time), and the run reads what it needs when it runs, not when it was
// asked for. Runs go out most urgent first (src/plan/report.ts byUrgency: rank, then oldest first), at most
// `concurrency` at a time. A key asked for while it runs runs again afterwards; a failed run is retried with
// backoff (1 s doubling to 60 s) unless onError drops it; halt() forgets everything pending.
//
// The reporter uses two: ProwJobs to reconcile (one rank: first come, first served) and GitHub writes to make
// (ranked: a failure comment before check-run PATCHes), see src/reporter/reporter.ts.
import { byUrgency } from '../plan/report.ts';

/** A run: resolves undefined when done, or with the rank to run again at (more of the same work to do). */
export type Run = () => Promise<number | undefined>;

export interface KeyedQueueOptions {
  concurrency: number;
  /** At most `running` keys starting with `prefix` run at once (the others keep their lanes for other work). */
  limits?: Array<{ prefix: string; running: number }>;
  /** A run failed: 'drop' it, or 'retry' it after the backoff. */
  onError(key: string, err: unknown, retryInMs: number): 'drop' | 'retry';
  /** Called whenever the number of pending and running keys changes. */
  onSize?(size: number): void;
  now?: () => number;
}

interface Entry {
  key: string;
  rank: number;
  since: number;
  run: Run;
}

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 60_000;

export class KeyedQueue {
  readonly #o: KeyedQueueOptions;
  readonly #pending = new Map<string, Entry>();
  readonly #running = new Map<string, Entry>();
  /** Asked for again while running: runs once more afterwards. */
  readonly #again = new Map<string, Entry>();
  readonly #retries = new Map<string, { n: number; timer?: NodeJS.Timeout }>();
  readonly #idle: Array<() => void> = [];
  #halted = false;

  constructor(o: KeyedQueueOptions) {
    this.#o = o;
  }

  /** Asks for `key` to run; `run` does the work when its turn comes (the latest `run` asked with wins). */
  want(key: string, rank: number, run: Run): void {
    if (this.#halted) return;
    const now = (this.#o.now ?? Date.now)();
    const into = this.#running.has(key) ? this.#again : this.#pending;
    const prev = into.get(key);
    into.set(key, { key, rank: prev ? Math.min(prev.rank, rank) : rank, since: prev?.since ?? now, run });
    this.#changed();
    this.#pump();
  }

  /** Pending and running keys. */
  size(): number {
    return this.#pending.size + this.#running.size + this.#again.size;
  }

  has(key: string): boolean {
    return this.#pending.has(key) || this.#running.has(key) || this.#again.has(key);
  }

  /** Resolves once nothing is pending or running (retries waiting on a timer do not count). */
  idle(): Promise<void> {
    if (this.size() === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Forgets every pending run and retry; waits (up to `waitMs`) for those running. */
  async halt(waitMs = 10_000): Promise<void> {
    this.#halted = true;
    this.#pending.clear();
    this.#again.clear();
    for (const r of this.#retries.values()) if (r.timer) clearTimeout(r.timer);
    this.#retries.clear();
    this.#changed();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  resume(): void {
    this.#halted = false;
  }

  #next(): Entry | undefined {
    const full = (this.#o.limits ?? []).filter((l) => [...this.#running.keys()].filter((k) => k.startsWith(l.prefix)).length >= l.running);
    let best: Entry | undefined;
    for (const e of this.#pending.values()) {
      if (full.some((l) => e.key.startsWith(l.prefix))) continue;
      if (!best || byUrgency(e, best) < 0) best = e;
    }
    return best;
  }

  #pump(): void {
    while (!this.#halted && this.#running.size < this.#o.concurrency) {
      const e = this.#next();
      if (!e) break;
      this.#pending.delete(e.key);
      this.#running.set(e.key, e);
      void this.#run(e);
    }
  }

  async #run(e: Entry): Promise<void> {
    let again: number | undefined;
    try {
      again = await e.run();
      const r = this.#retries.get(e.key);
      if (r?.timer) clearTimeout(r.timer);
      this.#retries.delete(e.key);
    } catch (err) {
      this.#retry(e, err);
    } finally {
      this.#running.delete(e.key);
      const asked = this.#again.get(e.key);
      this.#again.delete(e.key);
      if (!this.#halted && (asked || again !== undefined)) {
        const rank = Math.min(asked?.rank ?? Infinity, again ?? Infinity);
        this.#pending.set(e.key, { key: e.key, rank, since: asked?.since ?? (this.#o.now ?? Date.now)(), run: asked?.run ?? e.run });
      }
      this.#changed();
      this.#pump();
      if (this.size() === 0) for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  #retry(e: Entry, err: unknown): void {
    const r = this.#retries.get(e.key) ?? { n: 0 };
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** r.n);
    if (this.#o.onError(e.key, err, delay) === 'drop' || this.#halted) {
      this.#retries.delete(e.key);
      return;
    }
    r.n++;
    if (r.timer) clearTimeout(r.timer);
    r.timer = setTimeout(() => {
      r.timer = undefined;
      this.want(e.key, e.rank, e.run);
    }, delay).unref();
    this.#retries.set(e.key, r);
  }

  #changed(): void {
    this.#o.onSize?.(this.size());
  }
}
