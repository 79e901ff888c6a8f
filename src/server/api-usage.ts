// GET /api/apis/…: the Kubernetes API usage of traced runs (docs/dashboard-api.md), from the records the behavior
// diff keeps (src/behavior/api-usage-store.ts): one run's, or a job's last N runs' merged, as JSON for the
// dashboard's API usage page, and APISnoop's CSV exports as downloads.
import express, { type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Store } from '../adapters/store.ts';
import { mergeStored, readJobUsage, readRunUsage, readSpecOperations, USAGE_RUNS_KEPT, type StoredUsage } from '../behavior/api-usage-store.ts';
import { ineligibleEndpoints } from '../behavior/conformance-data.ts';
import { apiUsageView, type ApiUsageView } from '../dashboard/api-usage.ts';
import { exportCsv, isExportName } from '../trace/apisnoop-exports.ts';
import type { OpenApiOperation } from '../trace/openapi-index.ts';
import { sendJson } from './api.ts';

/** The job view's default window (`runs`), as the nightly weather's. */
const DEFAULT_USAGE_RUNS = 10;

class NotFound extends Error {}
class BadRequest extends Error {}

interface Loaded {
  scope: 'run' | 'job';
  key: string;
  stored: StoredUsage[];
  operations: OpenApiOperation[];
  query: string;
}

function runsParam(req: Request): number {
  const raw = req.query['runs'];
  if (raw === undefined || raw === '') return DEFAULT_USAGE_RUNS;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(n) || n < 1) throw new BadRequest('runs must be a positive integer');
  return Math.min(n, USAGE_RUNS_KEPT);
}

async function load(store: Store, scope: 'run' | 'job', key: string, req: Request): Promise<Loaded> {
  let stored: StoredUsage[];
  let query = '';
  if (scope === 'run') {
    const s = await readRunUsage(store, key);
    if (!s) throw new NotFound(`no Kubernetes API usage for run ${key}: it was not traced, had no apiserver audit log among its artifacts, or is older than 30 days (docs/audit-logs.md)`);
    stored = [s];
  } else {
    const n = runsParam(req);
    stored = await readJobUsage(store, key, n);
    if (stored.length === 0) throw new NotFound(`no traced run of ${key} has Kubernetes API usage (docs/audit-logs.md)`);
    query = n === DEFAULT_USAGE_RUNS ? '' : `?runs=${n}`;
  }
  const operations = await readSpecOperations(store, stored[0]!.run.spec);
  if (!operations) throw new NotFound(`the OpenAPI spec of ${key} has expired`);
  return { scope, key, stored, operations, query };
}

export function createApiUsageRouter(store: Store, log: Logger, now: () => Date = () => new Date()): express.Router {
  const r = express.Router();

  const route = (fn: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    try {
      await fn(req, res);
    } catch (err) {
      if (err instanceof BadRequest) return sendJson(req, res, { error: err.message }, 400);
      if (err instanceof NotFound) return sendJson(req, res, { error: err.message }, 404);
      log.warn({ err: (err as Error).message, path: req.path }, 'api usage: failed');
      return sendJson(req, res, { error: 'the store is not available' }, 503);
    }
  };

  const view = async (l: Loaded): Promise<ApiUsageView> => {
    const base = `/api/apis/${l.scope === 'run' ? 'runs' : 'jobs'}/${encodeURIComponent(l.key)}`;
    return apiUsageView({
      scope: l.scope, key: l.key, job: l.stored[0]!.run.job,
      runs: l.stored.map(({ run: { spec: _spec, ...rest } }) => rest), usage: mergeStored(l.stored), operations: l.operations,
      ineligible: await ineligibleEndpoints(), now: now(), exportBase: base, ...(l.query ? { exportQuery: l.query } : {}),
    });
  };

  const csv = async (req: Request, res: Response, l: Loaded, name: string) => {
    if (!isExportName(name)) throw new NotFound(`no export named ${name}`);
    const app = req.query['app'];
    if (app !== undefined && typeof app !== 'string') throw new BadRequest('app must be given once');
    const body = exportCsv(name, { usage: mergeStored(l.stored), operations: l.operations, ineligible: await ineligibleEndpoints(), ...(app ? { app } : {}) });
    res.set('cache-control', 'no-cache');
    res.set('content-disposition', `attachment; filename="${l.key.replace(/[^A-Za-z0-9._-]/g, '_')}-${name}.csv"`);
    res.type('text/csv; charset=utf-8').send(body);
  };

  r.get('/runs/:prowjob', route(async (req, res) => sendJson(req, res, await view(await load(store, 'run', String(req.params.prowjob), req)))));
  r.get('/jobs/:job', route(async (req, res) => sendJson(req, res, await view(await load(store, 'job', String(req.params.job), req)))));
  r.get('/runs/:prowjob/:file', route(async (req, res) => {
    const file = String(req.params.file);
    if (!file.endsWith('.csv')) throw new NotFound(`no such export: ${file}`);
    await csv(req, res, await load(store, 'run', String(req.params.prowjob), req), file.slice(0, -4));
  }));
  r.get('/jobs/:job/:file', route(async (req, res) => {
    const file = String(req.params.file);
    if (!file.endsWith('.csv')) throw new NotFound(`no such export: ${file}`);
    await csv(req, res, await load(store, 'job', String(req.params.job), req), file.slice(0, -4));
  }));
  r.use((req, res) => {
    void sendJson(req, res, { error: `no such API: ${req.method} ${req.baseUrl}${req.path}` }, 404);
  });
  return r;
}
