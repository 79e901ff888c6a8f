// GET /api/…: the dashboard's JSON API (docs/dashboard-api.md). Reads only katabot's store, through DashboardData.
// Responses are compressed when large and carry an ETag, so a phone polling an unchanged view gets a 304.
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { runInNewContext } from 'node:vm';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import express, { type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { DEFAULTS, filterRows, LIMITS } from '../dashboard/query.ts';
import type { ApiError } from '../dashboard/types.ts';
import type { DashboardData } from './dashboard-data.ts';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);
const COMPRESS_MIN = 1024;

export async function sendJson(req: Request, res: Response, body: unknown, status = 200): Promise<void> {
  const json = JSON.stringify(body);
  const etag = `W/"${createHash('sha1').update(json).digest('base64url')}"`;
  res.status(status);
  res.set('cache-control', 'no-cache');
  res.set('etag', etag);
  res.vary('accept-encoding');
  res.type('application/json; charset=utf-8');
  if (status === 200 && req.headers['if-none-match'] === etag) {
    res.status(304).end();
    return;
  }
  const accept = String(req.headers['accept-encoding'] ?? '');
  if (json.length >= COMPRESS_MIN && /\bbr\b/.test(accept)) {
    res.set('content-encoding', 'br');
    res.end(await brotli(json, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_SIZE_HINT]: json.length } }));
  } else if (json.length >= COMPRESS_MIN && /\bgzip\b/.test(accept)) {
    res.set('content-encoding', 'gzip');
    res.end(await gz(json, { level: 6 }));
  } else {
    res.end(json);
  }
}

function fail(req: Request, res: Response, status: number, error: string): Promise<void> {
  return sendJson(req, res, { error } satisfies ApiError, status);
}

class BadRequest extends Error {}

function intParam(req: Request, name: string, fallback: number, max: number): number {
  const raw = req.query[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(n) || n < 1) throw new BadRequest(`${name} must be a positive integer`);
  return Math.min(n, max);
}

function strParam(req: Request, name: string): string | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw new BadRequest(`${name} must be given once`);
  return raw;
}

const REGEX_BUDGET_MS = 50;

/**
 * The names a user's job regex finds, evaluated in a separate V8 context with a time budget: a pattern that
 * backtracks catastrophically is stopped (and answered with 400) instead of stalling the bot's event loop.
 */
function namesMatching(pattern: string, names: readonly string[]): Set<string> {
  if (pattern.length > LIMITS.jobRegex) throw new BadRequest(`job: longer than ${LIMITS.jobRegex} characters`);
  try {
    new RegExp(pattern, 'i');
  } catch (err) {
    throw new BadRequest(`job: ${(err as Error).message}`);
  }
  try {
    const hits = runInNewContext('const re = new RegExp(pattern, "i"); names.filter((n) => re.test(n))', { pattern, names: [...names] }, {
      timeout: REGEX_BUDGET_MS,
    }) as string[];
    return new Set(hits);
  } catch {
    throw new BadRequest(`job: the regex took longer than ${REGEX_BUDGET_MS} ms; simplify it`);
  }
}

/** The API's job filters (`job` regex, `required`), applied like the page applies them. */
function filtered<T extends { job: string; context?: string; typeable?: string; requirement: { required: boolean } }>(req: Request, rows: readonly T[]): T[] {
  const pattern = strParam(req, 'job') ?? '';
  const requiredOnly = ['1', 'true', 'yes'].includes((strParam(req, 'required') ?? '').toLowerCase());
  if (!pattern && !requiredOnly) return [...rows];
  let matches: ((name: string) => boolean) | undefined;
  if (pattern) {
    const names = new Set<string>();
    for (const r of rows) {
      names.add(r.job);
      if (r.context) names.add(r.context);
      if (r.typeable) names.add(r.typeable);
    }
    const hits = namesMatching(pattern, [...names]);
    matches = (n) => hits.has(n);
  }
  return filterRows(rows, { ...(matches ? { matches } : {}), requiredOnly });
}

const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

export function createApiRouter(data: DashboardData, log: Logger): express.Router {
  const api = express.Router();

  const route = (fn: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    try {
      await fn(req, res);
    } catch (err) {
      if (err instanceof BadRequest) return fail(req, res, 400, err.message);
      log.warn({ err: (err as Error).message, path: req.path }, 'dashboard api: failed');
      return fail(req, res, 503, 'the results store is not available');
    }
  };

  api.get('/jobs', route(async (req, res) => {
    const c = await data.catalogue();
    const type = strParam(req, 'type');
    const jobs = filtered(req, type ? c.jobs.filter((j) => j.type === type) : c.jobs);
    await sendJson(req, res, { ...c, jobs });
  }));

  api.get('/jobs/nightly', route(async (req, res) => {
    const v = await data.nightly(intParam(req, 'runs', DEFAULTS.runs, LIMITS.runs));
    await sendJson(req, res, { ...v, jobs: filtered(req, v.jobs) });
  }));

  api.get('/jobs/presubmits', route(async (req, res) => {
    const v = await data.presubmits(intParam(req, 'prs', DEFAULTS.prs, LIMITS.prs));
    await sendJson(req, res, { ...v, jobs: filtered(req, v.jobs) });
  }));

  api.get('/jobs/:job/runs', route(async (req, res) => {
    const before = strParam(req, 'before');
    if (before !== undefined && !Number.isFinite(Date.parse(before))) throw new BadRequest('before must be an ISO 8601 time');
    await sendJson(req, res, await data.jobRuns(String(req.params.job), intParam(req, 'limit', 50, 200), before));
  }));

  api.get('/runs/:prowjob', route(async (req, res) => {
    const d = await data.run(String(req.params.prowjob));
    if (!d) return fail(req, res, 404, `katabot has no run named ${req.params.prowjob}`);
    await sendJson(req, res, d);
  }));

  api.get('/prs', route(async (req, res) => {
    await sendJson(req, res, await data.pulls(intParam(req, 'limit', DEFAULTS.prs, LIMITS.prs)));
  }));

  api.get('/prs/:number', route(async (req, res) => {
    const n = Number(req.params.number);
    if (!Number.isInteger(n) || n < 1) throw new BadRequest('the PR number must be a positive integer');
    const repo = strParam(req, 'repo');
    if (repo !== undefined && !REPO.test(repo)) throw new BadRequest('repo must be org/repo');
    const sha = strParam(req, 'sha');
    if (sha !== undefined && !/^[0-9a-fA-F]{4,64}$/.test(sha)) throw new BadRequest('sha must be a commit SHA (or its first characters)');
    const v = await data.pull(n, repo, sha);
    if ('error' in v) return fail(req, res, v.status, v.error);
    await sendJson(req, res, { ...v, jobs: filtered(req, v.jobs) });
  }));

  api.get('/behavior/:key', route(async (req, res) => {
    const { html: _html, ...info } = await data.behavior(String(req.params.key));
    await sendJson(req, res, info);
  }));

  // The service graph of a behavior report (docs/dashboard-api.md): nodes and edges with their diff status.
  api.get('/behavior/:key/graph', route(async (req, res) => {
    const graph = await data.behaviorGraph(String(req.params.key));
    if (!graph) return fail(req, res, 404, 'no behavior report with a service graph has this key');
    await sendJson(req, res, graph);
  }));

  api.use((req, res) => {
    void fail(req, res, 404, `no such API: ${req.method} ${req.baseUrl}${req.path}`);
  });
  return api;
}
