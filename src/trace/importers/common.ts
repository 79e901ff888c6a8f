// Shared parts of the importers: JSON reading with line numbers, timestamps, and assembling a Trace.
import {
  TRACE_FORMAT, TRACE_FORMAT_VERSION, TraceParseError, countKinds, type Trace, type TraceEvent, type TraceSource,
} from '../format.ts';
import { isObject } from '../json.ts';

export interface ImportOptions {
  /** katabot version recorded in the header. */
  katabot?: string;
  /** Fail on the first malformed input line (TraceParseError naming it) instead of skipping and counting it. */
  strict?: boolean;
}

/** Malformed input of one import: thrown when strict, else skipped and counted (the footer's `malformed`). */
export interface MalformedLines {
  count: number;
  skip(err: TraceParseError): void;
}

export function malformedLines(opts: ImportOptions): MalformedLines {
  const lines: MalformedLines = {
    count: 0,
    skip(err) {
      if (opts.strict) throw err;
      lines.count += 1;
    },
  };
  return lines;
}


export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function num(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  return undefined;
}

function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}

/** The kernel's comm: the executable's basename, cut to 15 bytes. */
export function commOf(exe: string): string {
  return basename(exe).slice(0, 15);
}

/** Nanoseconds since the epoch from an ISO 8601 string with up to 9 fractional digits, or from a number
 * (nanoseconds when ≥ 1e15, else milliseconds). */
export function timestampNs(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value >= 1e15 ? BigInt(Math.round(value)) : BigInt(Math.round(value)) * 1_000_000n;
  if (typeof value !== 'string' || value === '') return undefined;
  if (/^\d+$/.test(value)) return timestampNs(Number(value));
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(value);
  if (m) {
    const seconds = Date.parse(`${m[1]}${m[3]}`);
    if (Number.isNaN(seconds)) return undefined;
    return BigInt(seconds) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
  }
  const ms = Date.parse(value.replace(/\s+/g, ' '));
  return Number.isNaN(ms) ? undefined : BigInt(ms) * 1_000_000n;
}

/** Line number (1-based) of a character offset. */
function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Parses a whole JSON document; a syntax error becomes a TraceParseError naming its line. */
export function parseJsonDocument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const lineCol = /line (\d+) column \d+/.exec(message);
    const position = /position (\d+)/.exec(message);
    const line = lineCol ? Number(lineCol[1]) : position ? lineOf(text, Number(position[1])) : 1;
    throw new TraceParseError(line, `not JSON: ${message}`);
  }
}

/**
 * Reads JSON Lines: one object (or an array of objects) a line. Blank lines are skipped; a bad line goes to
 * `malformed` (a TraceParseError naming it).
 */
export function* jsonLines(text: string, malformed: MalformedLines): Generator<{ line: number; value: Record<string, unknown> }> {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      malformed.skip(new TraceParseError(i + 1, `not JSON: ${(err as Error).message}`));
      continue;
    }
    const items = Array.isArray(value) ? value : [value];
    if (!items.every(isObject)) {
      malformed.skip(new TraceParseError(i + 1, 'expected a JSON object'));
      continue;
    }
    for (const item of items) yield { line: i + 1, value: item };
  }
}

/** An event being imported, with its absolute time kept aside until the trace start is known. */
export interface Imported {
  at: bigint | undefined;
  event: Omit<TraceEvent, 'ts'>;
}

/** Builds the trace: `ts` counts from the earliest timestamp; events keep their input order. */
export function assembleTrace(source: TraceSource, items: Imported[], opts: ImportOptions, host: string | null, malformed: number): Trace {
  const times = items.map((i) => i.at).filter((t): t is bigint => t !== undefined);
  const start = times.length > 0 ? times.reduce((a, b) => (b < a ? b : a)) : 0n;
  const end = times.length > 0 ? times.reduce((a, b) => (b > a ? b : a)) : 0n;
  const events: TraceEvent[] = items.map((i) => ({ ...i.event, ts: i.at === undefined ? 0 : Number(i.at - start) }) as TraceEvent);
  const startIso = new Date(Number(start / 1_000_000n)).toISOString();
  return {
    header: {
      type: 'header',
      format: TRACE_FORMAT,
      version: TRACE_FORMAT_VERSION,
      katabot: opts.katabot ?? '0.0.0',
      source,
      bpftrace: null,
      kernel: null,
      host,
      start: startIso,
      target: { mode: 'import' },
    },
    events,
    footer: {
      type: 'footer',
      counts: countKinds(events),
      lost: { reported: 0, gap: 0, incomplete: 0, total: 0 },
      malformed,
      truncated: events.filter((e) => e.truncated).length,
      duration_ms: Number((end - start) / 1_000_000n),
      end: new Date(Number(end / 1_000_000n)).toISOString(),
      exit_code: null,
    },
  };
}
