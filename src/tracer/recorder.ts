// The trace file being recorded: its header, the tracer program's records normalised into events, the packages'
// events merged in time order, and the footer with what was counted and lost. It is the sink of the tracer
// program's bpftrace process.
import { hostname, release } from 'node:os';
import type { BpftraceRecord } from '../trace/bpftrace-stream.ts';
import type { Enricher } from '../trace/enrich.ts';
import {
  TRACE_FORMAT, TRACE_FORMAT_VERSION, TRACE_FORMAT_VERSION_PACKAGES, type CustomTraceEvent, type EventKind, type KindCounts,
  type TraceEvent, type TraceFooter, type TraceHeader, type TracePackageInfo, type TraceParseError, type TraceTarget,
} from '../trace/format.ts';
import { TraceNormalizer, type NormalizerStats } from '../trace/normalize.ts';
import type { BeginRecord } from '../trace/protocol.ts';
import type { BpftraceSink } from './bpftrace-process.ts';
import { katabotVersion } from './version.ts';
import { TraceWriter } from './writer.ts';

export interface RecorderOptions {
  /** The trace file; null: none, the events only go to onEvent (a stream the guest tracer sends, the collector merges). */
  out: string | null;
  target: TraceTarget;
  /** bpftrace's version, for the header. */
  bpftrace: string;
  strlen: number;
  maxArgs: number;
  /** The packages behind the trace, for the header (format 1.1); none: a 1.0 trace of katabot's own program. */
  packages?: TracePackageInfo[];
  enrich: Enricher;
  onEvent?: (event: TraceEvent) => void;
  onBegin?: (record: BeginRecord) => void;
  onMarker?: (marker: number) => void;
  log?: (line: string) => void;
}

/** Counts of the packages' events for the footer. */
export interface ExtraFooter {
  kinds: Partial<KindCounts>;
  custom?: TraceFooter['custom'];
}

/** Events from other processes (custom packages) waiting for their place in the trace, oldest first. */
class EventQueue {
  readonly #items: Array<TraceEvent | CustomTraceEvent> = [];

  push(e: TraceEvent | CustomTraceEvent): void {
    // mostly in order: search from the end
    let i = this.#items.length;
    while (i > 0 && this.#items[i - 1]!.ts > e.ts) i--;
    this.#items.splice(i, 0, e);
  }

  takeUpTo(ts: number): Array<TraceEvent | CustomTraceEvent> {
    let n = 0;
    while (n < this.#items.length && this.#items[n]!.ts <= ts) n++;
    return n === 0 ? [] : this.#items.splice(0, n);
  }

  takeAll(): Array<TraceEvent | CustomTraceEvent> {
    return this.#items.splice(0, this.#items.length);
  }
}

export class TraceRecorder implements BpftraceSink {
  readonly header: TraceHeader;
  /** CLOCK_MONOTONIC (bpftrace's `nsecs`) at the header's start. */
  readonly startNs: bigint;
  /** Events of the packages, written among the tracer's own in time order. */
  readonly extra = new EventQueue();
  readonly #o: RecorderOptions;
  readonly #startWall: number;
  readonly #writer: TraceWriter | undefined;
  readonly #normalizer: TraceNormalizer;
  #attached: (() => void) | undefined;
  #malformed = 0;
  #closed = false;

  constructor(o: RecorderOptions) {
    this.#o = o;
    this.startNs = process.hrtime.bigint(); // CLOCK_MONOTONIC, the clock of bpftrace's nsecs
    this.#startWall = Date.now();
    this.header = {
      type: 'header',
      format: TRACE_FORMAT,
      version: o.packages ? TRACE_FORMAT_VERSION_PACKAGES : TRACE_FORMAT_VERSION,
      katabot: katabotVersion(),
      source: 'bpftrace',
      bpftrace: o.bpftrace,
      kernel: release(),
      host: hostname(),
      start: new Date(this.#startWall).toISOString(),
      target: o.target,
      limits: { strlen: o.strlen, max_args: o.maxArgs },
      ...(o.packages ? { packages: o.packages } : {}),
    };
    this.#writer = o.out === null ? undefined : new TraceWriter(o.out);
    this.#writer?.write(this.header);
    this.#normalizer = new TraceNormalizer({
      startNs: this.startNs,
      strlen: o.strlen,
      enrich: o.enrich,
      emit: (event) => {
        for (const x of this.extra.takeUpTo(event.ts)) this.#writer?.write(x);
        this.#writer?.write(event);
        o.onEvent?.(event);
      },
      // Not on `attached_probes`: v0.17 prints that before attaching, while BEGIN runs after every probe is in.
      onBegin: (record) => {
        o.onBegin?.(record);
        this.#attached?.();
      },
      ...(o.onMarker ? { onMarker: o.onMarker } : {}),
      onBpftraceError: (msg) => o.log?.(`bpftrace: ${msg}`),
      onMalformed: (line, reason) => o.log?.(`bpftrace output line ${line}: ${reason}`),
    });
  }

  push(record: BpftraceRecord, attached: () => void): void {
    this.#attached = attached;
    this.#normalizer.push(record);
  }

  malformed(err: TraceParseError): void {
    this.#malformed++;
    this.#o.log?.(err.message);
  }

  /** Writes the packages' events up to `upToTs` and hands buffered lines to the output (a trace read as it grows). */
  flush(upToTs?: number): void {
    if (this.#closed) return;
    if (upToTs !== undefined) for (const x of this.extra.takeUpTo(upToTs)) this.#writer?.write(x);
    this.#writer?.flush();
  }

  /** After bpftrace exited: the events still held back, the rest of the packages' events, and the footer. */
  async finish(exitCode: number | null, extra: ExtraFooter): Promise<{ stats: NormalizerStats; footer: TraceFooter }> {
    this.#closed = true;
    const stats = this.#normalizer.finish();
    for (const x of this.extra.takeAll()) this.#writer?.write(x);
    for (const [k, n] of Object.entries(extra.kinds)) stats.counts[k as EventKind] += n;
    const lostTotal = Math.max(stats.lostReported, stats.gap) + stats.incomplete;
    // Without the counters END prints (bpftrace killed), neither the records lost on the way nor the repeats counted
    // in the kernel are known: the footer says it cannot account for everything, as a rebuilt one does.
    const accounted = stats.sentByTag !== undefined;
    const footer: TraceFooter = {
      type: 'footer',
      counts: stats.counts,
      lost: { reported: stats.lostReported, gap: stats.gap, incomplete: accounted ? stats.incomplete : -1, total: lostTotal },
      malformed: stats.malformed + this.#malformed,
      truncated: stats.truncated,
      duration_ms: Date.now() - this.#startWall,
      end: new Date().toISOString(),
      exit_code: exitCode,
      ...(extra.custom ? { custom: extra.custom } : {}),
    };
    if (!accounted) this.#o.log?.('bpftrace ended without printing its counters: lost events and repeats counted in the kernel are unknown (footer lost.incomplete -1)');
    this.#writer?.write(footer);
    await this.#writer?.close();
    return { stats, footer };
  }

  /** A trace that never started is not a trace: its partial output goes. */
  async discard(): Promise<void> {
    this.#closed = true;
    await this.#writer?.close();
    this.#writer?.discard();
  }
}
