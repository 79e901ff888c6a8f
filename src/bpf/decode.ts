// A package's bpftrace output (its `-f json` records) as trace events: printf lines and printed maps, read
// through the package's declared events. Pure: no I/O.
import type { BpftraceRecord } from '../trace/bpftrace-stream.ts';
import {
  CUSTOM_EVENT_KIND, type CustomFieldValue, type CustomTraceEvent, type EventKind, type TraceEvent, type TracePackageInfo,
} from '../trace/format.ts';
import { decodeOpenFlags, errnoName } from '../trace/linux.ts';
import type { Enricher, EventFacts } from '../trace/enrich.ts';
import { CUSTOM_KIND, type EventSpec, type FieldSpec, type PackageMeta, type PackageOrigin } from './package.ts';
import { ATTACH_MARKER } from './source.ts';
import { mapEventName } from './validate.ts';

/** Undeclared printf lines (unnamed packages, or packages that declare no printf event) become this custom event. */
export const OUTPUT_EVENT = 'output';

export interface DecoderOptions {
  meta: PackageMeta;
  /** bpftrace `nsecs` (CLOCK_MONOTONIC) → trace `ts` (ns since the header's start). */
  tsFromNsecs: (ns: bigint) => number;
  /** The trace `ts` of now, for events without a ts field (maps printed at exit). */
  now: () => number;
  /** Runs on every event the package's output becomes (src/trace/enrich.ts), e.g. cgroup attribution. */
  enrich?: Enricher;
}

export interface DecoderStats {
  /** custom events by `<package>/<name>` */
  custom: Record<string, number>;
  /** events of the seven kinds a package mapped its output to */
  kinds: Partial<Record<EventKind, number>>;
  lost: number;
  malformed: number;
}

export interface DecodeResult {
  events: Array<TraceEvent | CustomTraceEvent>;
  attached?: true;
  /** A line that does not keep the output contract, with the reason. */
  malformed?: string;
  /** A bpftrace error record (helper errors and the like). */
  error?: string;
}

const PROCESS_KEYS = ['pid', 'ppid', 'comm', 'exe', 'uid'] as const;

/** An event as decoded, with the facts the enrichers read. */
interface Decoded<E extends TraceEvent | CustomTraceEvent = TraceEvent | CustomTraceEvent> {
  event: E;
  facts: EventFacts;
}

function typed(f: FieldSpec, raw: string): number | string | undefined {
  if (f.type === 'string') return raw;
  const t = raw.trim();
  if (!/^-?\d+$/.test(t)) return undefined;
  const n = Number(t);
  // u64 values (cgroup ids, pointers) beyond 2^53 stay exact as strings
  return Number.isSafeInteger(n) ? n : t;
}

function jsonValue(v: unknown): CustomFieldValue {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(jsonValue);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, jsonValue(x)]));
  return String(v);
}

/** How a package looks in a trace header. */
export function tracePackageInfo(meta: PackageMeta, origin: PackageOrigin, sha256?: string): TracePackageInfo {
  return {
    name: meta.name,
    version: meta.version,
    origin: origin.kind,
    ...(sha256 !== undefined ? { sha256 } : {}),
    events: meta.events.map((e) => ({ name: e.name, kind: e.kind, ...(e.kind === CUSTOM_KIND ? { identity: e.identity } : {}) })),
  };
}

export class PackageDecoder {
  readonly stats: DecoderStats = { custom: {}, kinds: {}, lost: 0, malformed: 0 };
  readonly #o: DecoderOptions;
  readonly #printf: Map<string, EventSpec>;
  readonly #maps: Map<string, EventSpec>;
  /** printf lines that match no event become `output` events instead of being malformed */
  readonly #freeOutput: boolean;

  constructor(o: DecoderOptions) {
    this.#o = o;
    this.#printf = new Map(o.meta.events.filter((e) => e.source === 'printf').map((e) => [e.name, e]));
    this.#maps = new Map(o.meta.events.filter((e) => e.source === 'map').map((e) => [e.map!, e]));
    this.#freeOutput = o.meta.unnamed === true || this.#printf.size === 0;
  }

  push(record: BpftraceRecord): DecodeResult {
    switch (record.type) {
      case 'printf':
        return this.#printfLine(record.text);
      case 'map':
        return { events: Object.entries(record.maps).flatMap(([name, value]) => this.#map(name, value)) };
      case 'lost_events':
        this.stats.lost += record.events;
        return { events: [] };
      case 'error':
        return { events: [], error: record.message };
      default:
        return { events: [] };
    }
  }

  /** The decoded events through the enrichers, counted. */
  #emit(decoded: Decoded[]): Array<TraceEvent | CustomTraceEvent> {
    const out: Array<TraceEvent | CustomTraceEvent> = [];
    for (const { event: e, facts } of decoded) {
      if (this.#o.enrich?.(e, facts) === false) continue;
      if (e.kind === CUSTOM_EVENT_KIND) {
        const key = `${e.package}/${e.name}`;
        this.stats.custom[key] = (this.stats.custom[key] ?? 0) + 1;
      } else {
        this.stats.kinds[e.kind] = (this.stats.kinds[e.kind] ?? 0) + 1;
      }
      out.push(e);
    }
    return out;
  }

  #malformed(reason: string): DecodeResult {
    this.stats.malformed++;
    return { events: [], malformed: reason };
  }

  #printfLine(text: string): DecodeResult {
    if (text === ATTACH_MARKER) return { events: [], attached: true };
    const cols = text.split('\t');
    const spec = this.#printf.get(cols[0]!);
    if (!spec) {
      if (this.#freeOutput) return { events: this.#emit([this.#custom(OUTPUT_EVENT, { text }, this.#o.now())]) };
      return this.#malformed(`${JSON.stringify(text.slice(0, 80))} is not a declared event (${[...this.#printf.keys()].join(', ')})`);
    }
    const values = cols.slice(1);
    if (values.length < spec.fields.length) {
      return this.#malformed(`event ${spec.name}: ${values.length} column(s), ${spec.fields.length} declared`);
    }
    if (values.length > spec.fields.length && spec.fields.length > 0) {
      // the last column is free text that contained a tab
      values.splice(spec.fields.length - 1, values.length, values.slice(spec.fields.length - 1).join('\t'));
    }
    const fields: Record<string, number | string> = {};
    for (const [i, f] of spec.fields.entries()) {
      const v = typed(f, values[i]!);
      if (v === undefined) return this.#malformed(`event ${spec.name}: ${f.name} is ${JSON.stringify(values[i])}, not an integer`);
      fields[f.name] = v;
    }
    return { events: this.#emit([this.#event(spec, fields)]) };
  }

  #map(name: string, value: unknown): Array<TraceEvent | CustomTraceEvent> {
    const spec = this.#maps.get(name);
    const now = this.#o.now();
    const out: Array<Decoded<CustomTraceEvent>> = [];
    if (!spec) {
      // undeclared: one event per entry, the key as printed
      const eventName = mapEventName(name);
      if (value !== null && typeof value === 'object' && !Array.isArray(value) && !isStats(value)) {
        for (const [k, v] of Object.entries(value)) out.push(this.#custom(eventName, { key: k, value: jsonValue(v) }, now));
      } else {
        out.push(this.#custom(eventName, { value: jsonValue(value) }, now));
      }
    } else {
      const keys = spec.fields.slice(0, -1);
      if (keys.length === 0 || value === null || typeof value !== 'object' || Array.isArray(value)) {
        out.push(this.#mapEvent(spec, {}, value, now));
      } else {
        for (const [k, v] of Object.entries(value)) {
          const parts = k.split(',');
          // more parts than keys: the last key held a comma
          if (parts.length > keys.length) parts.splice(keys.length - 1, parts.length, parts.slice(keys.length - 1).join(','));
          const fields: Record<string, CustomFieldValue> = {};
          for (const [i, f] of keys.entries()) fields[f.name] = parts[i] === undefined ? null : typed(f, parts[i]!) ?? parts[i]!;
          out.push(this.#mapEvent(spec, fields, v, now));
        }
      }
    }
    return this.#emit(out);
  }

  #mapEvent(spec: EventSpec, keyFields: Record<string, CustomFieldValue>, value: unknown, ts: number): Decoded<CustomTraceEvent> {
    const valueField = spec.fields.at(-1)!;
    return this.#custom(spec.name, { ...keyFields, [valueField.name]: jsonValue(value) }, ts);
  }

  /** A custom event; process fields and cgid move out of `fields`. */
  #custom(name: string, all: Record<string, CustomFieldValue>, ts: number): Decoded<CustomTraceEvent> {
    const fields = { ...all };
    const e: CustomTraceEvent = { type: 'event', ts, kind: CUSTOM_EVENT_KIND, pid: 0, package: this.#o.meta.name, name, fields: {} };
    const rec = e as unknown as Record<string, unknown>;
    for (const k of PROCESS_KEYS) {
      const v = fields[k];
      if (v === undefined) continue;
      if ((k === 'comm' || k === 'exe') ? typeof v === 'string' : typeof v === 'number') {
        rec[k] = v;
        delete fields[k];
      }
    }
    const facts: EventFacts = {};
    if (typeof fields['cgid'] === 'number' || typeof fields['cgid'] === 'string') {
      facts.cgid = String(fields['cgid']);
      delete fields['cgid'];
    }
    e.fields = fields;
    return { event: e, facts };
  }

  #event(spec: EventSpec, fields: Record<string, number | string>): Decoded {
    const ts = typeof fields['ts'] === 'number' || typeof fields['ts'] === 'string' ? this.#o.tsFromNsecs(BigInt(fields['ts'])) : this.#o.now();
    const rest = { ...fields };
    delete rest['ts'];
    if (spec.kind === CUSTOM_KIND) return this.#custom(spec.name, rest, ts);
    const kind = spec.kind;
    const e: TraceEvent = { type: 'event', ts, kind, pid: Number(rest['pid'] ?? 0) };
    if (typeof rest['ppid'] === 'number') e.ppid = rest['ppid'];
    if (typeof rest['comm'] === 'string') e.comm = rest['comm'];
    if (typeof rest['exe'] === 'string') e.exe = rest['exe'];
    if (typeof rest['uid'] === 'number') e.uid = rest['uid'];
    if (typeof rest['argv'] === 'string') e.argv = rest['argv'].split(' ').filter((a) => a !== '');
    if (typeof rest['path'] === 'string') e.path = rest['path'];
    if (typeof rest['flags'] === 'number') e.flags = decodeOpenFlags(rest['flags']);
    if (typeof rest['result'] === 'number') {
      e.result = rest['result'];
      if (e.result < 0 && (kind === 'exec' || kind === 'open')) e.error = errnoName(e.result);
    }
    if (typeof rest['signal'] === 'string' && rest['signal'] !== '') e.signal = rest['signal'];
    if (kind === 'connect' || kind === 'accept' || kind === 'listen') e.proto = 'tcp';
    if (kind === 'dns') e.proto = rest['proto'] === 'tcp' ? 'tcp' : 'udp';
    if (typeof rest['saddr'] === 'string') e.saddr = rest['saddr'];
    if (typeof rest['sport'] === 'number') e.sport = rest['sport'];
    if (typeof rest['daddr'] === 'string') e.daddr = rest['daddr'];
    if (typeof rest['dport'] === 'number') e.dport = rest['dport'];
    if (typeof rest['query'] === 'string') e.query = rest['query'].toLowerCase();
    if (typeof rest['qtype'] === 'string') e.qtype = rest['qtype'];
    return { event: e, facts: rest['cgid'] !== undefined ? { cgid: String(rest['cgid']) } : {} };
  }
}

function isStats(v: object): boolean {
  const keys = Object.keys(v).sort().join(',');
  return keys === 'average,count,total';
}
