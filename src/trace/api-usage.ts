// Kubernetes API usage of audit logs against an OpenAPI spec, as `katabot apis` and the dashboard show it: each
// request once, mapped to its operation (openapi.ts), with who made it (user agent program, e2e test, service
// account) and whether an e2e or a conformance test made it (conformance.ts). The usage is a small record that
// runs can be merged by (the dashboard's "last N runs"); the report adds the spec around it: coverage by level,
// conformance-eligible endpoints, categories. Names follow APISnoop: an operationId is an "endpoint".
import { AuditDeduper, NO_SKIPS, SkipCounter, type AuditEvent, type AuditSkips } from './audit-parse.ts';
import { keyPath, principalOf, userAgentName } from './audit.ts';
import { conformanceEligibility, parseUserAgent, type IneligibleEndpoint } from './conformance.ts';
import { findOperation, type OpenApiIndex, type OpenApiOperation } from './openapi-index.ts';
import type { ApiLevel } from './profile.ts';

const API_USAGE_FORMAT = 'katabot-api-usage';
/** Names (tests, user agents, apps, service accounts) kept per endpoint; the rest count under OTHER. */
const MAX_NAMES = 100;
const OTHER = '(other)';
const MAX_UNMATCHED = 200;

export const LEVELS: readonly ApiLevel[] = ['stable', 'beta', 'alpha'];

/** The hits of one operation; names are counted in `C` (a Map while counting, an object once recorded). */
interface HitCounts<C> {
  hits: number;
  /** Requests whose user agent is an e2e test (APISnoop's test_hit). */
  e2e: number;
  /** Requests whose user agent names a [Conformance] test (APISnoop's conf_test_hit). */
  conformance: number;
  tests: C;
  /** By user agent program (`kubectl`, `e2e.test`, `kube-controller-manager`): APISnoop's "apps". */
  apps: C;
  userAgents: C;
  serviceAccounts: C;
}

export type EndpointHitRecord = HitCounts<Record<string, number>>;

/** How much of a log was read, and how it mapped. */
interface UsageTotals {
  spec: { title: string; version: string; endpoints: number };
  /** Runs merged (1 for one run). */
  runs: number;
  /** Audit events read, and requests (one per auditID over its stages). */
  events: number;
  requests: number;
  /** Requests mapped to an operation, mapped to none, skipped as APISnoop skips them (health, metrics), discovery. */
  matched: number;
  unmatched: number;
  ignored: number;
  discovery: number;
  /** Malformed or incomplete audit events, by reason (audit-parse.ts). */
  skipped: AuditSkips;
}

/** What one run (or several, merged) did with the API: small enough to store per run. */
export interface ApiUsageRecord extends UsageTotals {
  format: typeof API_USAGE_FORMAT;
  version: 1;
  /** By operationId. */
  endpoints: Record<string, EndpointHitRecord>;
  unmatchedRequests: Array<{ verb: string; path: string; count: number }>;
}

export function isUsageRecord(v: unknown): v is ApiUsageRecord {
  return typeof v === 'object' && v !== null && (v as { format?: unknown }).format === API_USAGE_FORMAT;
}

function bump(m: Map<string, number>, name: string, n = 1): void {
  const key = m.has(name) || m.size < MAX_NAMES ? name : OTHER;
  m.set(key, (m.get(key) ?? 0) + n);
}

function toObject(m: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) out[k] = v;
  return out;
}

type Hits = HitCounts<Map<string, number>>;

function newHits(): Hits {
  return { hits: 0, e2e: 0, conformance: 0, tests: new Map(), apps: new Map(), userAgents: new Map(), serviceAccounts: new Map() };
}

/** Counted hits as a record, operations by name. */
function recordOf(hits: ReadonlyMap<string, Hits>): Record<string, EndpointHitRecord> {
  const out: Record<string, EndpointHitRecord> = {};
  for (const id of [...hits.keys()].sort()) {
    const h = hits.get(id)!;
    out[id] = {
      hits: h.hits, e2e: h.e2e, conformance: h.conformance, tests: toObject(h.tests), apps: toObject(h.apps),
      userAgents: toObject(h.userAgents), serviceAccounts: toObject(h.serviceAccounts),
    };
  }
  return out;
}

/** Aggregates audit events against a spec, one event at a time, in memory bounded by the spec's size. */
export class ApiUsageBuilder {
  readonly #index: OpenApiIndex;
  readonly #dedupe: AuditDeduper;
  readonly #skips = new SkipCounter();
  readonly #hits = new Map<string, Hits>();
  readonly #unmatched = new Map<string, { verb: string; path: string; count: number }>();
  #events = 0;
  #requests = 0;
  #matched = 0;
  #unmatchedCount = 0;
  #ignored = 0;
  #discovery = 0;

  constructor(index: OpenApiIndex, dedupe = new AuditDeduper()) {
    this.#index = index;
    this.#dedupe = dedupe;
  }

  add(ev: AuditEvent): void {
    this.#events++;
    if (!this.#dedupe.first(ev)) return;
    this.#requests++;
    const m = findOperation(this.#index, ev.verb, ev.requestURI);
    if (m.kind === 'ignored') { this.#ignored++; return; }
    if (m.kind === 'unmatched') {
      this.#unmatchedCount++;
      const q = ev.requestURI.search(/[?#]/);
      const path = keyPath(q >= 0 ? ev.requestURI.slice(0, q) : ev.requestURI);
      const k = `${ev.verb} ${path}`;
      const key = this.#unmatched.has(k) || this.#unmatched.size < MAX_UNMATCHED ? k : OTHER;
      const u = this.#unmatched.get(key) ?? (key === OTHER ? { verb: '', path: OTHER, count: 0 } : { verb: ev.verb, path, count: 0 });
      u.count++;
      this.#unmatched.set(key, u);
      return;
    }
    this.#matched++;
    if (m.op.discovery) this.#discovery++;
    let h = this.#hits.get(m.op.operationId);
    if (!h) { h = newHits(); this.#hits.set(m.op.operationId, h); }
    h.hits++;
    const ua = parseUserAgent(ev.userAgent);
    if (ua.e2e) h.e2e++;
    if (ua.conformance) h.conformance++;
    if (ua.test) bump(h.tests, ua.test);
    bump(h.apps, ua.program);
    bump(h.userAgents, userAgentName(ev.userAgent));
    const p = principalOf(ev.user?.username);
    if (p.startsWith('sa:')) bump(h.serviceAccounts, p.slice(3));
  }

  /** Lines of the log that were skipped (audit-parse.ts). */
  addSkips(s: AuditSkips): void {
    this.#skips.merge(s);
  }

  record(): ApiUsageRecord {
    const endpoints = recordOf(this.#hits);
    return {
      format: API_USAGE_FORMAT, version: 1,
      spec: { title: this.#index.title, version: this.#index.version, endpoints: this.#index.operations.length },
      runs: 1, events: this.#events, requests: this.#requests, matched: this.#matched, unmatched: this.#unmatchedCount,
      ignored: this.#ignored, discovery: this.#discovery, skipped: this.#skips.summary(), endpoints,
      unmatchedRequests: [...this.#unmatched.values()].sort((a, b) => b.count - a.count || (a.path < b.path ? -1 : 1)),
    };
  }
}

function mergeCounts(into: Map<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) bump(into, k, v);
}

/** Several runs' usage as one (the dashboard's last N runs). The spec is the first record's (the newest run). */
export function mergeUsage(records: readonly ApiUsageRecord[]): ApiUsageRecord {
  const first = records[0];
  const skips = new SkipCounter();
  const hits = new Map<string, Hits>();
  const unmatched = new Map<string, { verb: string; path: string; count: number }>();
  const out: ApiUsageRecord = {
    format: API_USAGE_FORMAT, version: 1, spec: first ? { ...first.spec } : { title: '', version: '', endpoints: 0 }, runs: 0,
    events: 0, requests: 0, matched: 0, unmatched: 0, ignored: 0, discovery: 0, skipped: NO_SKIPS, endpoints: {}, unmatchedRequests: [],
  };
  for (const r of records) {
    out.runs += r.runs;
    out.events += r.events;
    out.requests += r.requests;
    out.matched += r.matched;
    out.unmatched += r.unmatched;
    out.ignored += r.ignored;
    out.discovery += r.discovery;
    skips.merge(r.skipped);
    for (const [id, e] of Object.entries(r.endpoints)) {
      let h = hits.get(id);
      if (!h) { h = newHits(); hits.set(id, h); }
      h.hits += e.hits;
      h.e2e += e.e2e;
      h.conformance += e.conformance;
      mergeCounts(h.tests, e.tests);
      mergeCounts(h.apps, e.apps);
      mergeCounts(h.userAgents, e.userAgents);
      mergeCounts(h.serviceAccounts, e.serviceAccounts);
    }
    for (const u of r.unmatchedRequests) {
      const k = `${u.verb} ${u.path}`;
      const into = unmatched.get(k) ?? { ...u, count: 0 };
      into.count += u.count;
      unmatched.set(k, into);
    }
  }
  out.skipped = skips.summary();
  out.endpoints = recordOf(hits);
  out.unmatchedRequests = [...unmatched.values()].sort((a, b) => b.count - a.count || (a.path < b.path ? -1 : 1)).slice(0, MAX_UNMATCHED);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The report: the record seen against its spec

/** Coverage status of an operation, as the sunburst colours it. */
export type CoverageStatus = 'conformance' | 'tested' | 'hit' | 'untested';

export function coverageStatus(h: Pick<EndpointHitRecord, 'hits' | 'e2e' | 'conformance'> | undefined): CoverageStatus {
  if (!h || h.hits === 0) return 'untested';
  return h.conformance > 0 ? 'conformance' : h.e2e > 0 ? 'tested' : 'hit';
}

export interface NamedCount {
  name: string;
  hits: number;
}

/** An operation of the spec with its usage; `endpoint` is the operationId, as APISnoop names it. */
export interface EndpointUsage extends Omit<OpenApiOperation, 'operationId' | 'description'> {
  endpoint: string;
  hits: number;
  /** Hit by an e2e test / by a conformance test (APISnoop's tested, conf_tested). */
  tested: boolean;
  conformanceTested: boolean;
  status: CoverageStatus;
  eligible: boolean;
  ineligibleReason?: string;
  tests: NamedCount[];
  apps: NamedCount[];
  userAgents: NamedCount[];
  serviceAccounts: NamedCount[];
}

export interface LevelSummary {
  level: ApiLevel;
  endpoints: number;
  hit: number;
  tested: number;
  conformanceTested: number;
  percent: number;
}

interface CategorySummary {
  category: string;
  level: ApiLevel;
  endpoints: number;
  hit: number;
  hits: number;
}

export interface ApiUsageReport extends UsageTotals {
  /** APISnoop's levels, stable first; endpoints exclude deprecated ones as its endpoint_coverage view does. */
  summary: LevelSummary[];
  /** Conformance-eligible endpoints (stable, not deprecated, not on Kubernetes' ineligible list). */
  coverage: { eligible: number; hit: number; tested: number; conformanceTested: number; percent: number; conformancePercent: number };
  categories: CategorySummary[];
  /** Endpoints hit, most hits first. */
  endpoints: EndpointUsage[];
  /** Stable, not deprecated endpoints of the spec that Kubernetes lists as ineligible for conformance. */
  ineligible: Array<{ endpoint: string; reason: string; link: string }>;
  unmatchedRequests: Array<{ verb: string; path: string; count: number }>;
}

function pct(hit: number, total: number): number {
  return total === 0 ? 0 : Math.round((hit / total) * 10000) / 100;
}

function namedCounts(r: Record<string, number>): NamedCount[] {
  return Object.entries(r).map(([name, hits]) => ({ name, hits })).sort((a, b) => b.hits - a.hits || (a.name < b.name ? -1 : 1));
}

/** The report of a record against the spec it was made with. */
export function usageReport(rec: ApiUsageRecord, operations: readonly OpenApiOperation[], ineligible?: ReadonlyMap<string, IneligibleEndpoint>): ApiUsageReport {
  const ops = operations.filter((o) => !o.deprecated);
  const h = (o: OpenApiOperation): EndpointHitRecord | undefined => rec.endpoints[o.operationId];
  const summary = LEVELS.map((level) => {
    const all = ops.filter((o) => o.level === level);
    const hit = all.filter((o) => (h(o)?.hits ?? 0) > 0).length;
    return {
      level, endpoints: all.length, hit, tested: all.filter((o) => (h(o)?.e2e ?? 0) > 0).length,
      conformanceTested: all.filter((o) => (h(o)?.conformance ?? 0) > 0).length, percent: pct(hit, all.length),
    };
  });
  const eligible = ops.filter((o) => conformanceEligibility(o, ineligible).eligible);
  const eHit = eligible.filter((o) => (h(o)?.hits ?? 0) > 0).length;
  const eConf = eligible.filter((o) => (h(o)?.conformance ?? 0) > 0).length;
  const cats = new Map<string, CategorySummary>();
  for (const o of ops) {
    const k = `${o.level}\0${o.category}`;
    const c = cats.get(k) ?? { category: o.category, level: o.level, endpoints: 0, hit: 0, hits: 0 };
    c.endpoints++;
    if ((h(o)?.hits ?? 0) > 0) c.hit++;
    c.hits += h(o)?.hits ?? 0;
    cats.set(k, c);
  }
  const byId = new Map(operations.map((o) => [o.operationId, o]));
  const endpoints: EndpointUsage[] = [];
  for (const [id, e] of Object.entries(rec.endpoints)) {
    const o = byId.get(id);
    if (!o) continue;
    const el = conformanceEligibility(o, ineligible);
    const { operationId: _id, description: _d, ...rest } = o;
    const u: EndpointUsage = {
      endpoint: id, ...rest, hits: e.hits, tested: e.e2e > 0, conformanceTested: e.conformance > 0, status: coverageStatus(e),
      eligible: el.eligible, tests: namedCounts(e.tests), apps: namedCounts(e.apps), userAgents: namedCounts(e.userAgents), serviceAccounts: namedCounts(e.serviceAccounts),
    };
    if (!el.eligible) u.ineligibleReason = el.reason;
    endpoints.push(u);
  }
  endpoints.sort((a, b) => b.hits - a.hits || (a.endpoint < b.endpoint ? -1 : 1));
  const listed = ops.filter((o) => o.level === 'stable' && ineligible?.has(o.operationId)).map((o) => ineligible!.get(o.operationId)!);
  return {
    spec: { ...rec.spec }, runs: rec.runs, events: rec.events, requests: rec.requests, matched: rec.matched, unmatched: rec.unmatched,
    ignored: rec.ignored, discovery: rec.discovery, skipped: rec.skipped, summary,
    coverage: {
      eligible: eligible.length, hit: eHit, tested: eligible.filter((o) => (h(o)?.e2e ?? 0) > 0).length, conformanceTested: eConf,
      percent: pct(eHit, eligible.length), conformancePercent: pct(eConf, eligible.length),
    },
    categories: [...cats.values()].sort((a, b) => LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level) || (a.category < b.category ? -1 : 1)),
    endpoints,
    ineligible: listed.map((i) => ({ endpoint: i.endpoint, reason: i.reason, link: i.link })).sort((a, b) => (a.endpoint < b.endpoint ? -1 : 1)),
    unmatchedRequests: rec.unmatchedRequests,
  };
}
