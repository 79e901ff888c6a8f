// Reading apiserver audit logs leniently: a line that is not an audit event (bad JSON, a line cut by log rotation,
// another apiVersion, an event without requestURI or verb) is skipped and counted by reason with the first few
// places it was seen, as APISnoop skips what it cannot map; `--strict` callers turn the first skip into an error.
// Also the bounded per-request dedupe: one count per request over its audit stages, remembering only requests
// whose final stage has not been seen yet, so a 2 GB log needs no set of every auditID.
import { isObject } from './json.ts';

export interface AuditEvent {
  kind?: string;
  apiVersion?: string;
  level?: string;
  auditID?: string;
  stage?: string;
  requestURI: string;
  verb: string;
  user?: { username?: string; groups?: string[] };
  userAgent?: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string; apiGroup?: string; apiVersion?: string };
  responseStatus?: { code?: number };
}

/** Why a line (or an item of an EventList) was skipped, in the order reports list them. */
const SKIP_REASONS = [
  'bad JSON', 'not a JSON object', 'not an audit event', 'wrong apiVersion', 'EventList without items', 'no requestURI', 'no verb',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** audit.k8s.io versions whose Event has the fields katabot reads (v1beta1 has them too; v1alpha1 did not). */
const AUDIT_API_VERSIONS: readonly string[] = ['audit.k8s.io/v1', 'audit.k8s.io/v1beta1'];

export class AuditParseError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'AuditParseError';
    this.line = line;
  }
}

export interface SkipCount {
  reason: SkipReason;
  count: number;
  /** The first places it was seen: `line 12`, or `audit.log:12` when several files were read. */
  first: string[];
}

export interface AuditSkips {
  total: number;
  reasons: SkipCount[];
}

export const NO_SKIPS: AuditSkips = { total: 0, reasons: [] };

/** How many places each reason keeps. */
export const SKIP_PLACES = 5;

/** Counts skipped lines by reason, keeping the first few places of each. */
export class SkipCounter {
  readonly #by = new Map<SkipReason, SkipCount>();
  #total = 0;

  add(reason: SkipReason, place: string, n = 1): void {
    this.#total += n;
    let c = this.#by.get(reason);
    if (!c) { c = { reason, count: 0, first: [] }; this.#by.set(reason, c); }
    c.count += n;
    if (c.first.length < SKIP_PLACES) c.first.push(place);
  }

  /** Adds another summary (another file, another run). */
  merge(s: AuditSkips | undefined): void {
    if (!s) return;
    for (const r of s.reasons) {
      this.#total += r.count;
      let c = this.#by.get(r.reason);
      if (!c) { c = { reason: r.reason, count: 0, first: [] }; this.#by.set(r.reason, c); }
      c.count += r.count;
      for (const p of r.first) if (c.first.length < SKIP_PLACES) c.first.push(p);
    }
  }

  get total(): number {
    return this.#total;
  }

  summary(): AuditSkips {
    const reasons = SKIP_REASONS.flatMap((r) => {
      const c = this.#by.get(r);
      return c ? [{ reason: c.reason, count: c.count, first: [...c.first] }] : [];
    });
    return { total: this.#total, reasons };
  }
}

/** `12 malformed audit events skipped: bad JSON 1 (line 7), no verb 11 (lines 2, 5, …)`; '' when none. */
export function skipsText(s: AuditSkips | undefined): string {
  if (!s || s.total === 0) return '';
  const parts = s.reasons.map((r) => {
    const more = r.count > r.first.length ? ', …' : '';
    return `${r.reason} ${r.count} (${r.first.join(', ')}${more})`;
  });
  return `${s.total} malformed audit event${s.total === 1 ? '' : 's'} skipped: ${parts.join(', ')}`;
}


/** Whether a parsed JSON line looks like an audit event (used to tell audit logs from traces). */
export function isAuditEvent(v: unknown): boolean {
  return isObject(v) && v['kind'] === 'Event' && typeof v['apiVersion'] === 'string' && v['apiVersion'].startsWith('audit.k8s.io/');
}

type OnSkip = (reason: SkipReason) => void;

function checkEvent(v: unknown, inheritedVersion: boolean, skip: OnSkip): AuditEvent | undefined {
  if (!isObject(v)) { skip('not a JSON object'); return undefined; }
  if (v['kind'] !== undefined && v['kind'] !== 'Event') { skip('not an audit event'); return undefined; }
  const version = v['apiVersion'];
  // items of an EventList carry no apiVersion of their own; a lone event must name an audit.k8s.io version
  if (version === undefined ? !inheritedVersion : typeof version !== 'string' || !AUDIT_API_VERSIONS.includes(version)) {
    skip('wrong apiVersion');
    return undefined;
  }
  if (typeof v['requestURI'] !== 'string') { skip('no requestURI'); return undefined; }
  if (typeof v['verb'] !== 'string') { skip('no verb'); return undefined; }
  return v as unknown as AuditEvent;
}

/**
 * The audit events of one parsed JSON value: an Event, or an EventList (the webhook backend's batches, whose
 * items are checked one by one). Whatever is not an event is reported to `skip` and left out.
 */
function eventsOfValue(value: unknown, skip: OnSkip): AuditEvent[] {
  if (!isObject(value)) { skip('not a JSON object'); return []; }
  if (value['kind'] === 'EventList') {
    const version = value['apiVersion'];
    if (version !== undefined && (typeof version !== 'string' || !AUDIT_API_VERSIONS.includes(version))) { skip('wrong apiVersion'); return []; }
    const items = value['items'];
    if (!Array.isArray(items)) { skip('EventList without items'); return []; }
    const out: AuditEvent[] = [];
    for (const it of items) {
      const ev = checkEvent(it, true, skip);
      if (ev) out.push(ev);
    }
    return out;
  }
  const ev = checkEvent(value, false, skip);
  return ev ? [ev] : [];
}

/** The audit events of one line of a log; blank lines have none and are not skips. */
export function eventsOfLine(line: string, skip: OnSkip): AuditEvent[] {
  if (line.length === 0 || line.trim() === '') return [];
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    skip('bad JSON');
    return [];
  }
  return eventsOfValue(v, skip);
}

/** Stages after which a request has no more audit events. */
const FINAL_STAGES = new Set(['ResponseComplete', 'Panic']);

/**
 * Counts each request once: audit policies log several stages of one request (RequestReceived, ResponseStarted,
 * ResponseComplete) under one auditID. Only requests seen at a non-final stage are remembered, until their final
 * stage arrives, so memory follows the requests in flight (watches included), not the log's length. Past
 * `maxOpen` remembered requests the oldest are forgotten (a log whose policy omits the final stage).
 */
export class AuditDeduper {
  readonly #open = new Set<string>();
  readonly #maxOpen: number;

  constructor(maxOpen = 200_000) {
    this.#maxOpen = maxOpen;
  }

  first(ev: AuditEvent): boolean {
    const id = ev.auditID;
    if (!id) return true;
    const final = ev.stage === undefined || FINAL_STAGES.has(ev.stage);
    if (this.#open.has(id)) {
      if (final) this.#open.delete(id);
      return false;
    }
    if (final) return true;
    this.#open.add(id);
    if (this.#open.size > this.#maxOpen) {
      const oldest = this.#open.values().next().value;
      if (oldest !== undefined) this.#open.delete(oldest);
    }
    return true;
  }

  /** Requests remembered now (for tests and the memory benchmark). */
  get open(): number {
    return this.#open.size;
  }
}

/** Strict reading: the events of a parsed value, or AuditParseError naming the line and the first problem. */
export function auditEventsOf(value: unknown, line: number): AuditEvent[] {
  return eventsOfValue(value, (reason) => {
    throw new AuditParseError(line, reason);
  });
}
