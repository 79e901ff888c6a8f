// Merging event streams (the host's tracer and every Kata guest's) into one trace in time order. Each source
// reports a watermark: no event older than it will follow. Events are held until every live source has passed
// them, so the merged trace is in `ts` order although the sources arrive with different delays. A source that
// stops reporting (a paused or very slow guest) stops holding the others back after `stallNs`; what it sends
// later is written when it arrives and counted as late. Pure: the caller supplies the time.
import type { TraceEvent } from './format.ts';

interface Source {
  watermark: number;
  /** merged-trace time of the source's last report */
  seenAt: number;
}

interface Held {
  event: TraceEvent;
  seq: number;
}

export interface MergeOptions {
  emit: (event: TraceEvent) => void;
  /** A source silent for this long no longer holds the merge back. */
  stallNs?: number;
}

export class MergeQueue {
  readonly #emit: (event: TraceEvent) => void;
  readonly #stallNs: number;
  readonly #sources = new Map<string, Source>();
  #held: Held[] = [];
  #seq = 0;
  #emittedUpTo = -Infinity;
  #late = 0;

  constructor(o: MergeOptions) {
    this.#emit = o.emit;
    this.#stallNs = o.stallNs ?? 5_000_000_000;
  }

  /** Events written after a later one (a stalled source caught up); the trace is in order except for these. */
  get late(): number {
    return this.#late;
  }

  get held(): number {
    return this.#held.length;
  }

  /** A source whose events are held for; `now` is the merged-trace time. */
  addSource(id: string, now: number): void {
    if (!this.#sources.has(id)) this.#sources.set(id, { watermark: -Infinity, seenAt: now });
  }

  /** The source ended: it holds nothing back any more. */
  removeSource(id: string): void {
    this.#sources.delete(id);
  }

  /** An event on the merged time line. Events older than what was already written go out at once (late). */
  push(id: string, event: TraceEvent, now: number): void {
    const s = this.#sources.get(id);
    if (s) s.seenAt = now;
    if (event.ts < this.#emittedUpTo) {
      this.#late++;
      this.#emit(event);
      return;
    }
    const item: Held = { event, seq: this.#seq++ };
    // sources are mostly in order: search from the end
    let i = this.#held.length;
    while (i > 0 && this.#held[i - 1]!.event.ts > event.ts) i--;
    this.#held.splice(i, 0, item);
  }

  /** The source promises no event below `watermark` (merged time) will follow. */
  advance(id: string, watermark: number, now: number): void {
    const s = this.#sources.get(id);
    if (!s) return;
    s.seenAt = now;
    if (watermark > s.watermark) s.watermark = watermark;
  }

  /** How far the merge may write: the lowest watermark of the sources that still report. */
  horizon(now: number): number {
    let h = Infinity;
    for (const s of this.#sources.values()) {
      if (now - s.seenAt > this.#stallNs) continue;
      if (s.watermark < h) h = s.watermark;
    }
    return h;
  }

  /** Writes every held event at or below the horizon. */
  drain(now: number): void {
    const h = this.horizon(now);
    let n = 0;
    while (n < this.#held.length && this.#held[n]!.event.ts <= h) n++;
    if (n === 0) return;
    const out = this.#held.splice(0, n);
    for (const { event } of out) this.#emit(event);
    this.#emittedUpTo = Math.max(this.#emittedUpTo, out[out.length - 1]!.event.ts);
  }

  /** Writes everything still held, in order. */
  finish(): void {
    const out = this.#held;
    this.#held = [];
    for (const { event } of out) this.#emit(event);
    if (out.length > 0) this.#emittedUpTo = Math.max(this.#emittedUpTo, out[out.length - 1]!.event.ts);
  }
}
