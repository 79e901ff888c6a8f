// Parser for bpftrace's `-f json` output: NDJSON, one `{"type": ..., "data": ...}` object a line.
// Chunks from a pipe split lines anywhere, so the parser keeps the unfinished tail between pushes.
import { TraceParseError } from './format.ts';
import { isObject } from './json.ts';

export type BpftraceRecord =
  | { type: 'printf'; line: number; text: string }
  | { type: 'lost_events'; line: number; events: number }
  | { type: 'attached_probes'; line: number; probes: number }
  | { type: 'map'; line: number; maps: Record<string, unknown> }
  | { type: 'error'; line: number; message: string }
  | { type: 'other'; line: number; kind: string; data: unknown };


/** Reads a count that moved between versions: v0.17–0.20 put it in `data.<name>`, later ones also at `count`. */
function countField(obj: Record<string, unknown>, name: string): number | undefined {
  const data = obj['data'];
  if (isObject(data) && typeof data[name] === 'number') return data[name];
  if (typeof obj['count'] === 'number') return obj['count'];
  return undefined;
}

/** Parses one line of bpftrace JSON output. Throws TraceParseError naming `lineNo`. */
export function parseBpftraceLine(line: string, lineNo: number): BpftraceRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new TraceParseError(lineNo, `bpftrace output is not JSON (${(err as Error).message}): ${line.slice(0, 120)}`);
  }
  if (!isObject(value) || typeof value['type'] !== 'string') {
    throw new TraceParseError(lineNo, `bpftrace record without a type: ${line.slice(0, 120)}`);
  }
  const type = value['type'];
  switch (type) {
    case 'printf': {
      const data = value['data'];
      if (typeof data !== 'string') throw new TraceParseError(lineNo, 'printf record whose data is not a string');
      // bpftrace keeps the format's trailing newline inside the string.
      return { type: 'printf', line: lineNo, text: data.endsWith('\n') ? data.slice(0, -1) : data };
    }
    case 'lost_events': {
      const events = countField(value, 'events');
      if (events === undefined) throw new TraceParseError(lineNo, 'lost_events record without a count');
      return { type: 'lost_events', line: lineNo, events };
    }
    case 'attached_probes': {
      const probes = countField(value, 'probes');
      if (probes === undefined) throw new TraceParseError(lineNo, 'attached_probes record without a count');
      return { type: 'attached_probes', line: lineNo, probes };
    }
    case 'map':
    case 'stats':
    case 'hist': {
      const data = value['data'];
      if (!isObject(data)) throw new TraceParseError(lineNo, `${type} record whose data is not an object`);
      return { type: 'map', line: lineNo, maps: data };
    }
    case 'errorf':
    case 'helper_error':
    case 'runtime_error': {
      const msg = typeof value['msg'] === 'string' ? value['msg'] : JSON.stringify(value['data'] ?? value);
      return { type: 'error', line: lineNo, message: `${type}: ${msg}` };
    }
    default:
      return { type: 'other', line: lineNo, kind: type, data: value['data'] };
  }
}

export interface BpftraceStreamOptions {
  /** Called for a malformed line; without it the parser throws. */
  onError?: (err: TraceParseError) => void;
}

/** Incremental parser: push chunks, get whole records; `end()` flushes a final line without newline. */
export class BpftraceJsonStream {
  #tail = '';
  #lineNo = 0;
  readonly #onError: ((err: TraceParseError) => void) | undefined;

  constructor(options: BpftraceStreamOptions = {}) {
    this.#onError = options.onError;
  }

  /** Number of lines consumed so far. */
  get lines(): number {
    return this.#lineNo;
  }

  push(chunk: string): BpftraceRecord[] {
    const text = this.#tail + chunk;
    const parts = text.split('\n');
    this.#tail = parts.pop() ?? '';
    return this.#parseLines(parts);
  }

  end(): BpftraceRecord[] {
    const rest = this.#tail;
    this.#tail = '';
    return rest === '' ? [] : this.#parseLines([rest]);
  }

  #parseLines(lines: string[]): BpftraceRecord[] {
    const out: BpftraceRecord[] = [];
    for (const raw of lines) {
      this.#lineNo++;
      const line = raw.trim();
      if (line === '') continue; // bpftrace prints blank lines around map output
      try {
        out.push(parseBpftraceLine(line, this.#lineNo));
      } catch (err) {
        if (!(err instanceof TraceParseError) || !this.#onError) throw err;
        this.#onError(err);
      }
    }
    return out;
  }
}
