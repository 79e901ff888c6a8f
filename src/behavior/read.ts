// Reading traces, audit logs and saved profiles into behavior profiles, streaming: a file is read in chunks and
// parsed line by line, so the raw trace is never held in memory. Gzip is recognised by its magic bytes.
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { AuditDeduper, eventsOfLine, isAuditEvent, SkipCounter, type AuditEvent } from '../trace/audit-parse.ts';
import { classifyRequest } from '../trace/audit.ts';
import {
  countKinds, customEventProblem, eventProblem, isCustomEventRecord, TRACE_FORMAT, TRACE_FORMAT_VERSION, TraceParseError, type CustomTraceEvent, type TraceEvent, type TraceFooter, type TraceHeader,
} from '../trace/format.ts';
import type { OpenApiIndex } from '../trace/openapi-index.ts';
import { isProfile, mergeProfiles, ProfileBuilder, type BehaviorProfile, type ProfileOptions } from '../trace/profile.ts';

/** A user-facing input problem (missing file, malformed line): printed as one line, without a stack trace. */
export class BehaviorInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BehaviorInputError';
  }
}

const NL = 0x0a;

/**
 * Calls onLine for every line of a stream (without the newline, CR stripped), synchronously within each chunk.
 * Returns the number of lines.
 */
export async function forEachLine(stream: AsyncIterable<Buffer | string>, onLine: (line: string, lineNo: number) => void): Promise<number> {
  let rest: Buffer | undefined;
  let lineNo = 0;
  for await (const raw of stream) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    let start = 0;
    let buf = chunk;
    if (rest) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) { rest = Buffer.concat([rest, chunk]); continue; }
      const first = Buffer.concat([rest, chunk.subarray(0, nl)]);
      rest = undefined;
      onLine(stripCr(first.toString('utf8')), ++lineNo);
      start = nl + 1;
      buf = chunk;
    }
    for (;;) {
      const nl = buf.indexOf(NL, start);
      if (nl < 0) break;
      onLine(stripCr(buf.toString('utf8', start, nl)), ++lineNo);
      start = nl + 1;
    }
    if (start < buf.length) rest = Buffer.from(buf.subarray(start));
  }
  if (rest && rest.length > 0) onLine(stripCr(rest.toString('utf8')), ++lineNo);
  return lineNo;
}

function stripCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

/** Chunks of a Buffer, so in-memory artifacts go through the same line reader without one big string. */
export async function* bufferChunks(buf: Buffer, size = 1 << 20): AsyncGenerator<Buffer> {
  const gz = buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  if (gz) {
    const { gunzipSync } = await import('node:zlib');
    buf = gunzipSync(buf);
  }
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** A file as a stream of chunks, gunzipped when gzip. */
export async function openChunks(path: string): Promise<Readable> {
  const gz = await isGzip(path);
  const s = createReadStream(path, { highWaterMark: 256 << 10 });
  return gz ? s.pipe(createGunzip()) : s;
}

function rebuiltFooter(header: TraceHeader, counts: Record<string, number>, truncated: number): TraceFooter {
  return {
    type: 'footer', counts: counts as TraceFooter['counts'], lost: { reported: 0, gap: 0, incomplete: -1, total: 0 }, malformed: 0,
    truncated, duration_ms: 0, end: header.start, exit_code: null,
  };
}

/**
 * Feeds one trace (JSONL chunks) into a profile builder. Throws TraceParseError naming the first bad line. A trace
 * without a footer (the tracer was killed) is accepted as trace-format.md says.
 */
export async function readTraceInto(builder: ProfileBuilder, chunks: AsyncIterable<Buffer | string>, name = 'trace'): Promise<void> {
  let header: TraceHeader | undefined;
  let footer: TraceFooter | undefined;
  const counts = countKinds([]);
  let truncated = 0;
  try {
    await forEachLine(chunks, (line, lineNo) => {
      if (line.length === 0 || (line.length < 8 && line.trim() === '')) return;
      let v: Record<string, unknown>;
      try {
        v = JSON.parse(line) as Record<string, unknown>;
      } catch (err) {
        throw new TraceParseError(lineNo, `not JSON: ${(err as Error).message}`);
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TraceParseError(lineNo, 'not a JSON object');
      if (footer) throw new TraceParseError(lineNo, 'record after the footer');
      const type = v['type'];
      if (type === 'event') {
        if (!header) throw new TraceParseError(lineNo, 'event before the header');
        // format 1.1: custom events of eBPF packages are a category of their own
        if (isCustomEventRecord(v)) {
          const p = customEventProblem(v);
          if (p) throw new TraceParseError(lineNo, p);
          builder.addCustom(v as unknown as CustomTraceEvent);
          return;
        }
        const problem = eventProblem(v);
        if (problem) throw new TraceParseError(lineNo, problem);
        const e = v as unknown as TraceEvent;
        if (e.kind in counts) counts[e.kind] += e.count ?? 1;
        if (e.truncated) truncated++;
        builder.add(e);
      } else if (type === 'header') {
        if (header) throw new TraceParseError(lineNo, 'second header');
        if (v['format'] !== TRACE_FORMAT) throw new TraceParseError(lineNo, `format is ${JSON.stringify(v['format'])}, expected ${TRACE_FORMAT}`);
        const version = String(v['version'] ?? '');
        const major = TRACE_FORMAT_VERSION.split('.')[0];
        if (version.split('.')[0] !== major) throw new TraceParseError(lineNo, `unsupported trace format version ${version} (this katabot reads ${major}.x)`);
        header = v as unknown as TraceHeader;
        builder.begin(header);
      } else if (type === 'footer') {
        if (!header) throw new TraceParseError(lineNo, 'footer before the header');
        footer = v as unknown as TraceFooter;
        builder.end(footer);
      } else {
        throw new TraceParseError(lineNo, `unknown record type ${JSON.stringify(type)}`);
      }
    });
  } catch (err) {
    if (err instanceof TraceParseError) throw new BehaviorInputError(`${name}: ${err.message}`);
    throw err;
  }
  if (!header) throw new BehaviorInputError(`${name}: line 1: no header (not a katabot trace)`);
  if (!footer) builder.end(rebuiltFooter(header, counts, truncated));
}

export interface AuditReadOptions {
  /** The first malformed line is an error naming the file and line, instead of a counted skip. */
  strict?: boolean;
  /** Counts skipped lines by reason (the files of one run share one). */
  skips?: SkipCounter;
  /** One count per request over its stages, across the files of one run. */
  dedupe?: AuditDeduper;
  /** Also sees every audit event read (e.g. an ApiUsageBuilder). */
  onEvent?: (ev: AuditEvent) => void;
}

/**
 * Streams the audit events of a log (audit.k8s.io Event JSONL, or EventList lines) to a callback. Lines that are
 * not audit events are skipped and counted in `o.skips` by reason, or with `o.strict` end the read with a
 * BehaviorInputError naming the file and line. Returns the number of events.
 */
export async function readAuditEvents(chunks: AsyncIterable<Buffer | string>, name: string, onEvent: (ev: AuditEvent) => void, o: AuditReadOptions = {}): Promise<number> {
  const skips = o.skips ?? new SkipCounter();
  const place = basename(name);
  let events = 0;
  await forEachLine(chunks, (line, lineNo) => {
    const found = eventsOfLine(line, (reason) => {
      if (o.strict) throw new BehaviorInputError(`${name}: line ${lineNo}: ${reason}`);
      skips.add(reason, `${place}:${lineNo}`);
    });
    for (const ev of found) {
      events++;
      onEvent(ev);
    }
  });
  return events;
}

/** Feeds an audit log into a profile builder: each request once, malformed lines counted into the profile. */
export async function readAuditInto(builder: ProfileBuilder, chunks: AsyncIterable<Buffer | string>, index: OpenApiIndex | undefined, name = 'audit log', o: AuditReadOptions = {}): Promise<number> {
  const dedupe = o.dedupe ?? new AuditDeduper();
  const skips = new SkipCounter();
  const n = await readAuditEvents(chunks, name, (ev) => {
    o.onEvent?.(ev);
    if (!dedupe.first(ev)) return;
    const r = classifyRequest(ev, index);
    if (r) builder.addApi(r.item, r.by);
  }, { ...o, skips });
  builder.addAuditSkips(skips.summary());
  o.skips?.merge(skips.summary());
  return n;
}

/** Streams the audit events of a file to a callback (for `katabot apis`). */
export async function forEachAuditEvent(path: string, onEvent: (ev: AuditEvent) => void, o: AuditReadOptions = {}): Promise<number> {
  return readAuditEvents(await openChunks(path), path, onEvent, o);
}

export type InputKind = 'trace' | 'audit' | 'profile' | 'unknown';

/** Looks at the first line of a file: a katabot trace, an audit log, a saved profile, or something else. */
async function sniff(path: string): Promise<InputKind> {
  let first = '';
  const stream = await openChunks(path);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      first += chunk.toString('utf8');
      const nl = first.indexOf('\n');
      if (nl >= 0) { first = first.slice(0, nl); break; }
      if (first.length > 1 << 20) break;
    }
  } finally {
    stream.destroy();
  }
  first = first.trim();
  if (first === '{' || first.startsWith('{"format":"katabot-profile"') || first.startsWith('{ "format"')) return 'profile';
  try {
    const v = JSON.parse(first) as Record<string, unknown>;
    if (v['type'] === 'header' && v['format'] === TRACE_FORMAT) return 'trace';
    if (isAuditEvent(v) || (v['kind'] === 'EventList' && Array.isArray(v['items']))) return 'audit';
    if (isProfile(v)) return 'profile';
  } catch {
    return 'unknown';
  }
  return 'unknown';
}

const CANDIDATE = /\.(jsonl|ndjson|json|log|gz|txt)$|^[^.]+$/;

/** The traces, audit logs and profiles under a directory (recursively), sorted. */
export async function findInputs(dir: string): Promise<Array<{ path: string; kind: InputKind }>> {
  const out: Array<{ path: string; kind: InputKind }> = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) { await walk(p); continue; }
      if (!e.isFile() || !CANDIDATE.test(e.name)) continue;
      const kind = await sniff(p).catch(() => 'unknown' as const);
      if (kind !== 'unknown') out.push({ path: p, kind });
    }
  };
  await walk(dir);
  return out;
}

async function readProfileFile(path: string): Promise<BehaviorProfile> {
  const { readFile } = await import('node:fs/promises');
  let v: unknown;
  try {
    v = JSON.parse((await readFile(path)).toString('utf8'));
  } catch (err) {
    throw new BehaviorInputError(`${path}: not a katabot profile: ${(err as Error).message}`);
  }
  if (!isProfile(v)) throw new BehaviorInputError(`${path}: not a katabot profile (no "format": "katabot-profile")`);
  return v;
}

export interface LoadOptions extends ProfileOptions {
  openapi?: OpenApiIndex;
  /** A malformed audit log line is an error (default: skipped and counted into the profile). */
  strict?: boolean;
}

/**
 * The profile of one run: a trace file, a saved profile, an audit log, or a directory of artifacts holding any
 * of these (all merged). Throws BehaviorInputError for missing or malformed input.
 */
export async function loadProfile(path: string, o: LoadOptions = {}): Promise<BehaviorProfile> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new BehaviorInputError(`${path}: no such file or directory`);
  }
  const inputs = st.isDirectory() ? await findInputs(path) : [{ path, kind: await sniff(path) }];
  if (st.isDirectory() && inputs.length === 0) throw new BehaviorInputError(`${path}: no katabot trace, audit log or profile in this directory`);
  const builder = new ProfileBuilder(o);
  const saved: BehaviorProfile[] = [];
  const dedupe = new AuditDeduper();
  let used = false;
  for (const input of inputs) {
    switch (input.kind) {
      case 'trace':
        await readTraceInto(builder, await openChunks(input.path), input.path);
        used = true;
        break;
      case 'audit':
        await readAuditInto(builder, await openChunks(input.path), o.openapi, input.path, { dedupe, ...(o.strict ? { strict: true } : {}) });
        used = true;
        break;
      case 'profile':
        saved.push(await readProfileFile(input.path));
        break;
      case 'unknown':
        // a single file that is not recognised: read it as a trace to get an error naming the line
        await readTraceInto(builder, await openChunks(input.path), input.path);
        used = true;
        break;
    }
  }
  if (saved.length === 0) return builder.build();
  return mergeProfiles(used ? [builder.build(), ...saved] : saved);
}

