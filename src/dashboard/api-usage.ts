// The dashboard's API usage view: what a traced run (or a job's last N traced runs) did with the Kubernetes API,
// as APISnoop shows a release: coverage by level and of conformance-eligible endpoints, the sunburst of every
// operation of the cluster's spec coloured by who hit it (a conformance test, another e2e test, something else, or
// nothing), the endpoints hit, audit events skipped, and APISnoop's CSV exports to download. Pure.
import { usageReport, coverageStatus, type ApiUsageRecord, type ApiUsageReport, type EndpointUsage, type LevelSummary, type NamedCount } from '../trace/api-usage.ts';
import { EXPORT_COLUMNS, EXPORT_NAMES, type ExportName } from '../trace/apisnoop-exports.ts';
import type { AuditSkips } from '../trace/audit-parse.ts';
import type { IneligibleEndpoint } from '../trace/conformance.ts';
import type { OpenApiOperation } from '../trace/openapi-index.ts';
import { sunburstTree, type SunburstNode } from '../render/sunburst.ts';

/** A run whose usage is shown. */
export interface ApiUsageRun {
  prowjob: string;
  job: string;
  type: string;
  buildId: string;
  /** When its usage was recorded (ISO 8601). */
  recordedAt: string;
  org?: string;
  repo?: string;
  pull?: number;
}

type ApiUsageEndpoint = Pick<EndpointUsage, 'endpoint' | 'level' | 'category' | 'method' | 'path' | 'hits' | 'status' | 'eligible' | 'ineligibleReason'> & {
  /** How many e2e tests hit it (names: in the exports). */
  tests: number;
  apps: NamedCount[];
};

export interface ApiUsageView {
  generatedAt: string;
  scope: 'run' | 'job';
  /** The ProwJob (run) or the job name (job). */
  key: string;
  job: string;
  /** The runs behind the view, newest first. */
  runs: ApiUsageRun[];
  spec: ApiUsageReport['spec'];
  totals: Pick<ApiUsageReport, 'events' | 'requests' | 'matched' | 'unmatched' | 'ignored' | 'discovery'>;
  skipped: AuditSkips;
  summary: LevelSummary[];
  coverage: ApiUsageReport['coverage'];
  /** Endpoints hit, most hits first (at most MAX_ENDPOINTS). */
  endpoints: ApiUsageEndpoint[];
  /** Every non-deprecated operation of the spec: level → category → operation, leaves by coverage status. */
  sunburst: SunburstNode;
  exports: Array<{ name: ExportName; url: string; columns: readonly string[] }>;
}

const MAX_ENDPOINTS = 300;

export interface ApiUsageInput {
  scope: 'run' | 'job';
  key: string;
  job: string;
  runs: readonly ApiUsageRun[];
  usage: ApiUsageRecord;
  operations: readonly OpenApiOperation[];
  ineligible?: ReadonlyMap<string, IneligibleEndpoint>;
  now: Date;
  /** Where the CSV downloads are: `<base>/<export>.csv` (the view adds the query, e.g. `?runs=10`). */
  exportBase: string;
  exportQuery?: string;
}

export function apiUsageView(i: ApiUsageInput): ApiUsageView {
  const r = usageReport(i.usage, i.operations, i.ineligible);
  const sunburst = sunburstTree(i.operations.filter((o) => !o.deprecated).map((o) => ({
    level: o.level, category: o.category, name: o.operationId, status: coverageStatus(i.usage.endpoints[o.operationId]),
  })), i.scope === 'run' ? 'this run' : `${i.runs.length} run${i.runs.length === 1 ? '' : 's'}`);
  return {
    generatedAt: i.now.toISOString(), scope: i.scope, key: i.key, job: i.job, runs: i.runs.map((x) => ({ ...x })), spec: r.spec,
    totals: { events: r.events, requests: r.requests, matched: r.matched, unmatched: r.unmatched, ignored: r.ignored, discovery: r.discovery },
    skipped: r.skipped, summary: r.summary, coverage: r.coverage,
    endpoints: r.endpoints.slice(0, MAX_ENDPOINTS).map((e) => {
      const out: ApiUsageEndpoint = {
        endpoint: e.endpoint, level: e.level, category: e.category, method: e.method, path: e.path, hits: e.hits, status: e.status,
        eligible: e.eligible, tests: e.tests.length, apps: e.apps,
      };
      if (e.ineligibleReason) out.ineligibleReason = e.ineligibleReason;
      return out;
    }),
    sunburst,
    exports: EXPORT_NAMES.map((name) => ({ name, url: `${i.exportBase}/${name}.csv${i.exportQuery ?? ''}`, columns: EXPORT_COLUMNS[name] })),
  };
}
