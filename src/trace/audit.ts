// Kubernetes API usage from apiserver audit logs (audit.k8s.io/v1 Event JSONL), mapped to OpenAPI operations
// (openapi.ts) and attributed to user agents and service accounts; the APISnoop-style exports of `katabot apis`.
import { findOperation, isDiscoveryPath, isIgnoredRequest, uriParts, type OpenApiIndex, type OpenApiOperation } from './openapi.ts';
import type { ApiItem, ApiLevel } from './profile.ts';
import { normalizeNamespace, normalizePath } from './profile-rules.ts';

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

export class AuditParseError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'AuditParseError';
    this.line = line;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether a parsed JSON line looks like an audit event (used to tell audit logs from traces). */
export function isAuditEvent(v: unknown): boolean {
  return isObject(v) && v['kind'] === 'Event' && typeof v['apiVersion'] === 'string' && v['apiVersion'].startsWith('audit.k8s.io/');
}

/**
 * The audit events of one parsed JSON line: an Event, or an EventList (the webhook backend's batches).
 * Throws AuditParseError naming the line when it is neither.
 */
export function auditEventsOf(value: unknown, line: number): AuditEvent[] {
  if (!isObject(value)) throw new AuditParseError(line, 'not a JSON object');
  if (value['kind'] === 'EventList') {
    const items = value['items'];
    if (!Array.isArray(items)) throw new AuditParseError(line, 'EventList without items');
    return items.map((it) => checkEvent(it, line));
  }
  return [checkEvent(value, line)];
}

function checkEvent(v: unknown, line: number): AuditEvent {
  if (!isObject(v)) throw new AuditParseError(line, 'not a JSON object');
  if (v['kind'] !== undefined && v['kind'] !== 'Event') throw new AuditParseError(line, `kind is ${JSON.stringify(v['kind'])}, expected Event`);
  if (typeof v['requestURI'] !== 'string') throw new AuditParseError(line, 'audit event without requestURI');
  if (typeof v['verb'] !== 'string') throw new AuditParseError(line, 'audit event without verb');
  return v as unknown as AuditEvent;
}

/** `kubectl/v1.30.2 (linux/amd64) kubernetes/abc` → `kubectl`; an e2e test keeps its test name. */
export function userAgentName(ua: string | undefined): string {
  if (!ua) return '?';
  const agent = ua.split(/[/\s]/)[0] || '?';
  const test = ua.split(' -- ')[1];
  return test ? `${agent} -- ${test.trim()}` : agent;
}

/** `system:serviceaccount:ns:name` → `sa:ns/name` (generated namespaces normalised); other users unchanged. */
export function principalOf(username: string | undefined): string {
  if (!username) return '?';
  const m = /^system:serviceaccount:([^:]+):(.+)$/.exec(username);
  if (m) return `sa:${normalizeNamespace(m[1]!)}/${m[2]}`;
  const node = /^system:node:(.+)$/.exec(username);
  if (node) return 'system:node:<node>';
  return username;
}

export interface ApiRequest {
  item: Omit<ApiItem, 'count' | 'by'>;
  by: string;
  userAgent: string;
  principal: string;
  op?: OpenApiOperation;
}

/** Normalised non-resource path for keys (ids and random names collapse like file paths). */
function keyPath(path: string): string {
  return normalizePath(path.replace(/\/+$/, '') || '/');
}

/**
 * Classifies one request. Returns undefined for what APISnoop skips (health, metrics, /openapi/v2). Without an
 * index, the item has no operationId or level and is keyed by verb and resource only.
 */
export function classifyRequest(ev: AuditEvent, index?: OpenApiIndex): ApiRequest | undefined {
  const q = ev.requestURI.search(/[?#]/);
  const path = q >= 0 ? ev.requestURI.slice(0, q) : ev.requestURI;
  if (isIgnoredRequest(uriParts(path))) return undefined;
  let op: OpenApiOperation | undefined;
  if (index) {
    const m = findOperation(index, ev.verb, ev.requestURI);
    if (m.kind === 'ignored') return undefined;
    if (m.kind === 'operation') op = m.op;
  }
  const ref = ev.objectRef;
  let apiVersion: string;
  let resource: string;
  let group: string;
  if (ref?.resource) {
    group = ref.apiGroup || 'core';
    const version = ref.apiVersion ?? (op?.version || '?');
    apiVersion = ref.apiGroup ? `${ref.apiGroup}/${version}` : version;
    resource = ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource;
  } else {
    apiVersion = keyPath(path);
    resource = '';
    group = op?.group ?? (path.startsWith('/apis/') ? path.split('/')[2] ?? '' : path.startsWith('/api') ? 'core' : '');
  }
  const discovery = op ? op.discovery : !ref?.resource && isDiscoveryPath(path);
  const operationId = op?.operationId ?? null;
  const what = resource ? `${apiVersion} ${resource}` : apiVersion;
  const key = `${ev.verb} ${what}${operationId ? ` (${operationId})` : ''}`;
  const userAgent = userAgentName(ev.userAgent);
  const principal = principalOf(ev.user?.username);
  const item: ApiRequest['item'] = {
    key, verb: ev.verb, apiVersion, resource, operationId, level: op?.level ?? null, group: op?.group ?? group,
    category: op?.category ?? '', discovery,
  };
  const r: ApiRequest = { item, by: `${userAgent} (${principal})`, userAgent, principal };
  if (op) r.op = op;
  return r;
}

/**
 * Counts each request once: audit policies log several stages of one request (RequestReceived, ResponseStarted,
 * ResponseComplete) under one auditID.
 */
export class AuditDeduper {
  readonly #seen = new Set<string>();
  first(ev: AuditEvent): boolean {
    if (!ev.auditID) return true;
    if (this.#seen.has(ev.auditID)) return false;
    this.#seen.add(ev.auditID);
    return true;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// `katabot apis` exports

/** `--format jsonl`: one line per audit event. */
export interface AuditEventRow {
  auditID: string | null;
  verb: string;
  requestURI: string;
  operationId: string | null;
  level: ApiLevel | null;
}

export function auditEventRow(ev: AuditEvent, index: OpenApiIndex): AuditEventRow {
  const m = findOperation(index, ev.verb, ev.requestURI);
  const op = m.kind === 'operation' ? m.op : undefined;
  return { auditID: ev.auditID ?? null, verb: ev.verb, requestURI: ev.requestURI, operationId: op?.operationId ?? null, level: op?.level ?? null };
}

interface EndpointHits {
  hits: number;
  userAgents: Map<string, number>;
  principals: Map<string, number>;
}

/** An operation of the spec with its usage; `endpoint` is the operationId, as APISnoop names it. */
export interface EndpointUsage extends Omit<OpenApiOperation, 'operationId'> {
  endpoint: string;
  hits: number;
  userAgents: Array<{ name: string; hits: number }>;
  serviceAccounts: Array<{ name: string; hits: number }>;
}

export interface LevelSummary {
  level: ApiLevel;
  endpoints: number;
  hit: number;
  percent: number;
}

export interface CategorySummary {
  category: string;
  level: ApiLevel;
  endpoints: number;
  hit: number;
  hits: number;
}

export interface ApiUsageReport {
  spec: { title: string; version: string; endpoints: number };
  events: number;
  requests: number;
  matched: number;
  unmatched: number;
  ignored: number;
  discovery: number;
  /** APISnoop's levels, stable first; endpoints exclude deprecated ones as its endpoint_coverage view does. */
  summary: LevelSummary[];
  /** Stable, not deprecated endpoints: APISnoop's conformance-eligible set (before k/k's ineligible list). */
  coverage: { eligible: number; hit: number; percent: number };
  categories: CategorySummary[];
  /** Endpoints hit, most hits first. */
  endpoints: EndpointUsage[];
  unmatchedRequests: Array<{ verb: string; path: string; count: number }>;
}

const LEVELS: readonly ApiLevel[] = ['stable', 'beta', 'alpha'];

function pct(hit: number, total: number): number {
  return total === 0 ? 0 : Math.round((hit / total) * 10000) / 100;
}

function sortedCounts(m: Map<string, number>): Array<{ name: string; hits: number }> {
  return [...m].map(([name, hits]) => ({ name, hits })).sort((a, b) => b.hits - a.hits || (a.name < b.name ? -1 : 1));
}

/** Aggregates audit events against a spec, one event at a time. */
export class ApiUsageBuilder {
  readonly #index: OpenApiIndex;
  readonly #dedupe = new AuditDeduper();
  readonly #hits = new Map<OpenApiOperation, EndpointHits>();
  readonly #unmatched = new Map<string, { verb: string; path: string; count: number }>();
  #events = 0;
  #requests = 0;
  #matched = 0;
  #ignored = 0;
  #discovery = 0;

  constructor(index: OpenApiIndex) {
    this.#index = index;
  }

  add(ev: AuditEvent): void {
    this.#events++;
    if (!this.#dedupe.first(ev)) return;
    this.#requests++;
    const m = findOperation(this.#index, ev.verb, ev.requestURI);
    if (m.kind === 'ignored') { this.#ignored++; return; }
    if (m.kind === 'unmatched') {
      const q = ev.requestURI.search(/[?#]/);
      const path = keyPath(q >= 0 ? ev.requestURI.slice(0, q) : ev.requestURI);
      const k = `${ev.verb} ${path}`;
      const u = this.#unmatched.get(k) ?? { verb: ev.verb, path, count: 0 };
      u.count++;
      this.#unmatched.set(k, u);
      return;
    }
    this.#matched++;
    if (m.op.discovery) this.#discovery++;
    let h = this.#hits.get(m.op);
    if (!h) { h = { hits: 0, userAgents: new Map(), principals: new Map() }; this.#hits.set(m.op, h); }
    h.hits++;
    const ua = userAgentName(ev.userAgent);
    h.userAgents.set(ua, (h.userAgents.get(ua) ?? 0) + 1);
    const p = principalOf(ev.user?.username);
    if (p.startsWith('sa:')) h.principals.set(p.slice(3), (h.principals.get(p.slice(3)) ?? 0) + 1);
  }

  build(): ApiUsageReport {
    const ops = this.#index.operations.filter((o) => !o.deprecated);
    const hitOf = (o: OpenApiOperation): number => this.#hits.get(o)?.hits ?? 0;
    const summary = LEVELS.map((level) => {
      const all = ops.filter((o) => o.level === level);
      const hit = all.filter((o) => hitOf(o) > 0).length;
      return { level, endpoints: all.length, hit, percent: pct(hit, all.length) };
    });
    const eligible = ops.filter((o) => o.level === 'stable');
    const eligibleHit = eligible.filter((o) => hitOf(o) > 0).length;
    const cats = new Map<string, CategorySummary>();
    for (const o of ops) {
      const k = `${o.level}\0${o.category}`;
      const c = cats.get(k) ?? { category: o.category, level: o.level, endpoints: 0, hit: 0, hits: 0 };
      c.endpoints++;
      if (hitOf(o) > 0) c.hit++;
      c.hits += hitOf(o);
      cats.set(k, c);
    }
    const endpoints: EndpointUsage[] = [];
    for (const [o, h] of this.#hits) {
      endpoints.push({
        endpoint: o.operationId, level: o.level, category: o.category, group: o.group, version: o.version, kind: o.kind,
        action: o.action, path: o.path, method: o.method, deprecated: o.deprecated, discovery: o.discovery, hits: h.hits,
        userAgents: sortedCounts(h.userAgents), serviceAccounts: sortedCounts(h.principals),
      });
    }
    endpoints.sort((a, b) => b.hits - a.hits || (a.endpoint < b.endpoint ? -1 : 1));
    return {
      spec: { title: this.#index.title, version: this.#index.version, endpoints: ops.length },
      events: this.#events,
      requests: this.#requests,
      matched: this.#matched,
      unmatched: [...this.#unmatched.values()].reduce((a, u) => a + u.count, 0),
      ignored: this.#ignored,
      discovery: this.#discovery,
      summary,
      coverage: { eligible: eligible.length, hit: eligibleHit, percent: pct(eligibleHit, eligible.length) },
      categories: [...cats.values()].sort((a, b) => LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level) || (a.category < b.category ? -1 : 1)),
      endpoints,
      unmatchedRequests: [...this.#unmatched.values()].sort((a, b) => b.count - a.count || (a.path < b.path ? -1 : 1)),
    };
  }

  /** APISnoop's endpoint_coverage as CSV: every non-deprecated endpoint of the spec with its hits. */
  coverageCsv(): string {
    const rows = [['endpoint', 'level', 'category', 'group', 'version', 'kind', 'action', 'method', 'path', 'hits', 'tested', 'user_agents', 'service_accounts']];
    const levelRank = (l: ApiLevel): number => LEVELS.indexOf(l);
    const ops = this.#index.operations.filter((o) => !o.deprecated)
      .sort((a, b) => levelRank(a.level) - levelRank(b.level) || (a.operationId < b.operationId ? -1 : 1));
    for (const o of ops) {
      const h = this.#hits.get(o);
      rows.push([
        o.operationId, o.level, o.category, o.group, o.version, o.kind, o.action, o.method.toUpperCase(), o.path,
        String(h?.hits ?? 0), h ? 'true' : 'false',
        h ? sortedCounts(h.userAgents).map((u) => u.name).join(';') : '',
        h ? sortedCounts(h.principals).map((u) => u.name).join(';') : '',
      ]);
    }
    return rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
  }
}

export function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

// ---------------------------------------------------------------------------------------------------------------
// Sunburst (APISnoop: level → category → endpoint)

export interface SunburstNode {
  name: string;
  /** Leaf status: added / removed / flaky / same (behavior diff) or hit / untested (coverage). */
  status?: string;
  value?: number;
  children?: SunburstNode[];
}

/** Builds the hierarchy: root → level (stable, beta, alpha) → category → operation. */
export function sunburstOf(leaves: ReadonlyArray<{ level: ApiLevel | null; category: string; name: string; status: string }>): SunburstNode {
  const root: SunburstNode = { name: 'API', children: [] };
  const levelOrder = [...LEVELS, 'unknown'];
  const byLevel = new Map<string, Map<string, SunburstNode[]>>();
  for (const l of leaves) {
    const level = l.level ?? 'unknown';
    const cats = byLevel.get(level) ?? new Map<string, SunburstNode[]>();
    byLevel.set(level, cats);
    const cat = l.category || 'other';
    const list = cats.get(cat) ?? [];
    cats.set(cat, list);
    list.push({ name: l.name, status: l.status, value: 1 });
  }
  for (const level of levelOrder) {
    const cats = byLevel.get(level);
    if (!cats) continue;
    const ln: SunburstNode = { name: level, children: [] };
    for (const cat of [...cats.keys()].sort()) {
      const kids = cats.get(cat)!.sort((a, b) => (a.status! < b.status! ? -1 : a.status! > b.status! ? 1 : a.name < b.name ? -1 : 1));
      ln.children!.push({ name: cat, children: kids });
    }
    root.children!.push(ln);
  }
  return root;
}
