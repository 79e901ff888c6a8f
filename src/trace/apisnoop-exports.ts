// APISnoop's CSV exports, by its names and with its columns, from katabot's API usage (api-usage.ts):
//   app-usage-categories, app-usage-summary, app-usage-endpoints, coverage-spreadsheet — the exporters of
//   APISnoop's log review tool (kubernetes-sigs/apisnoop attic/audit/lib/exports.py @ 3f6ae568), where an "app" is
//   one loaded audit log; in katabot an app is a user agent program (kubectl, e2e.test, kube-controller-manager);
//   endpoint-coverage — the columns of its endpoint_coverage view (apps/snoopdb/postgres/initdb/
//   200_view_endpoint_coverage.sql @ 57cc8c06).
// APISnoop filled coverage-spreadsheet's `conforms` and `questions` from a Google sheet; katabot fills them from its
// own attribution (conformance.ts). Deprecated endpoints are left out, as APISnoop's loaders left them out.
import type { ApiUsageRecord, EndpointHitRecord } from './api-usage.ts';
import { LEVELS } from './api-usage.ts';
import { conformanceEligibility, type IneligibleEndpoint } from './conformance.ts';
import type { OpenApiOperation } from './openapi-index.ts';
import type { ApiLevel } from './profile.ts';

export const EXPORT_NAMES = ['app-usage-categories', 'app-usage-summary', 'app-usage-endpoints', 'coverage-spreadsheet', 'endpoint-coverage'] as const;
export type ExportName = (typeof EXPORT_NAMES)[number];

export function isExportName(s: string): s is ExportName {
  return (EXPORT_NAMES as readonly string[]).includes(s);
}

/** The fixed header of each export; coverage-spreadsheet adds one column per app before `questions`. */
export const EXPORT_COLUMNS: Record<ExportName, readonly string[]> = {
  'app-usage-categories': ['app', 'level', 'category', 'count'],
  'app-usage-summary': ['app', 'stable', 'beta', 'alpha', 'total', 'conformance'],
  'app-usage-endpoints': ['level', 'category', 'method + url', 'count'],
  'coverage-spreadsheet': ['level', 'category', 'method', 'url', 'conforms', 'apps using it', 'questions'],
  'endpoint-coverage': ['release', 'endpoint', 'level', 'category', 'path', 'description', 'kind', 'version', 'group', 'action', 'tested', 'conf_tested', 'tests'],
};

export interface ExportInput {
  usage: ApiUsageRecord;
  operations: readonly OpenApiOperation[];
  ineligible?: ReadonlyMap<string, IneligibleEndpoint>;
  /** Only this app (APISnoop's `export-data NAME PATH APP`). */
  app?: string;
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  return rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Non-deprecated operations with their hits, by app (an app filter keeps only its hits). */
function usageByOp(input: ExportInput): Array<{ op: OpenApiOperation; hit?: EndpointHitRecord; apps: Map<string, number> }> {
  return input.operations.filter((o) => !o.deprecated).map((op) => {
    const hit = input.usage.endpoints[op.operationId];
    const apps = new Map<string, number>();
    for (const [app, n] of Object.entries(hit?.apps ?? {})) if (n > 0 && (input.app === undefined || app === input.app)) apps.set(app, n);
    return hit ? { op, hit, apps } : { op, apps };
  });
}

function allApps(rows: ReturnType<typeof usageByOp>): string[] {
  const apps = new Set<string>();
  for (const r of rows) for (const a of r.apps.keys()) apps.add(a);
  return [...apps].sort(cmp);
}

function categoriesCsv(input: ExportInput): string {
  const rows = usageByOp(input);
  const out: Array<[string, string, string, number]> = [];
  for (const app of allApps(rows)) {
    const stats = new Map<string, number>();
    for (const r of rows) if (r.apps.has(app)) stats.set(`${r.op.level}\0${r.op.category}`, (stats.get(`${r.op.level}\0${r.op.category}`) ?? 0) + 1);
    for (const [k, count] of stats) {
      const [level, category] = k.split('\0') as [string, string];
      out.push([app, level, category, count]);
    }
  }
  out.sort((a, b) => cmp(a[0], b[0]) || b[3] - a[3] || cmp(a[1], b[1]) || cmp(a[2], b[2]));
  return csv([EXPORT_COLUMNS['app-usage-categories'], ...out]);
}

function summaryCsv(input: ExportInput): string {
  const rows = usageByOp(input);
  const out: Array<Array<string | number>> = [];
  for (const app of allApps(rows)) {
    const n = { stable: 0, beta: 0, alpha: 0 };
    for (const r of rows) if (r.apps.has(app)) n[r.op.level]++;
    // APISnoop's `conformance` column: the least stable level the app needs
    const level = n.alpha > 0 ? 'alpha' : n.beta > 0 ? 'beta' : 'stable';
    out.push([app, n.stable, n.beta, n.alpha, n.stable + n.beta + n.alpha, level]);
  }
  return csv([EXPORT_COLUMNS['app-usage-summary'], ...out]);
}

function category(op: OpenApiOperation): string {
  return op.category === '' ? 'uncategorized' : op.category;
}

function endpointsCsv(input: ExportInput): string {
  const rows = usageByOp(input);
  const hit = rows.filter((r) => r.apps.size > 0);
  const byLevel = new Map<string, number>();
  const byCategory = new Map<string, number>();
  for (const r of hit) {
    byLevel.set(r.op.level, (byLevel.get(r.op.level) ?? 0) + 1);
    byCategory.set(`${r.op.level}\0${r.op.category}`, (byCategory.get(`${r.op.level}\0${r.op.category}`) ?? 0) + 1);
  }
  // APISnoop's order: busiest level, busiest category, most apps, then url and method
  hit.sort((a, b) => (byLevel.get(b.op.level)! - byLevel.get(a.op.level)!) || (byCategory.get(`${b.op.level}\0${b.op.category}`)! - byCategory.get(`${a.op.level}\0${a.op.category}`)!)
    || b.apps.size - a.apps.size || cmp(a.op.path, b.op.path) || cmp(a.op.method, b.op.method));
  const out: Array<Array<string | number>> = hit.map((r) => [r.op.level, category(r.op), `${r.op.method} ${r.op.path}`, r.apps.size]);
  const unused = new Map<string, number>();
  for (const r of rows) if (r.apps.size === 0) unused.set(`${r.op.level}\0${category(r.op)}`, (unused.get(`${r.op.level}\0${category(r.op)}`) ?? 0) + 1);
  const unusedRows = [...unused].map(([k, n]) => [...(k.split('\0') as [string, string]), n] as const)
    .sort((a, b) => LEVELS.indexOf(a[0] as ApiLevel) - LEVELS.indexOf(b[0] as ApiLevel) || cmp(a[1], b[1]));
  for (const [level, cat, n] of unusedRows) out.push([level, cat, 'unused', n]);
  return csv([EXPORT_COLUMNS['app-usage-endpoints'], ...out]);
}

/** coverage-spreadsheet's `conforms`: yes (a conformance test hit it), e2e (only other e2e tests), no. */
function conformsOf(hit: Pick<EndpointHitRecord, 'e2e' | 'conformance'> | undefined): 'yes' | 'e2e' | 'no' {
  if (!hit) return 'no';
  return hit.conformance > 0 ? 'yes' : hit.e2e > 0 ? 'e2e' : 'no';
}

function spreadsheetCsv(input: ExportInput): string {
  const rows = usageByOp(input);
  const apps = allApps(rows);
  const [first, ...rest] = EXPORT_COLUMNS['coverage-spreadsheet'];
  const header = [first!, ...rest.slice(0, -1), ...apps, rest[rest.length - 1]!];
  // APISnoop: ordered by level, url, method, then (stably) by how many apps use it
  const ordered = [...rows].sort((a, b) => cmp(a.op.level, b.op.level) || cmp(a.op.path, b.op.path) || cmp(a.op.method, b.op.method))
    .sort((a, b) => b.apps.size - a.apps.size);
  const out = ordered.map((r) => {
    const el = conformanceEligibility(r.op, input.ineligible);
    const questions = el.eligible ? '' : `not eligible for conformance: ${el.reason}${el.link ? ` (${el.link})` : ''}`;
    return [r.op.level, r.op.category, r.op.method, r.op.path, conformsOf(r.hit), r.apps.size, ...apps.map((a) => r.apps.get(a) ?? 0), questions];
  });
  return csv([header, ...out]);
}

function coverageCsv(input: ExportInput): string {
  const ops = input.operations.filter((o) => !o.deprecated)
    .sort((a, b) => cmp(b.level, a.level) || cmp(a.operationId, b.operationId));
  const out = ops.map((o) => {
    const h = input.usage.endpoints[o.operationId];
    const tests = Object.keys(h?.tests ?? {}).sort(cmp).join(';');
    return [input.usage.spec.version, o.operationId, o.level, o.category, o.path, o.description, o.kind, o.version, o.group, o.action,
      String((h?.e2e ?? 0) > 0), String((h?.conformance ?? 0) > 0), tests];
  });
  return csv([EXPORT_COLUMNS['endpoint-coverage'], ...out]);
}

/** One export as CSV text. */
export function exportCsv(name: ExportName, input: ExportInput): string {
  switch (name) {
    case 'app-usage-categories': return categoriesCsv(input);
    case 'app-usage-summary': return summaryCsv(input);
    case 'app-usage-endpoints': return endpointsCsv(input);
    case 'coverage-spreadsheet': return spreadsheetCsv(input);
    case 'endpoint-coverage': return coverageCsv(input);
  }
}
