// GET /dashboard…: the dashboard's pages. The front end (web/, built by `npm run build` into dist/web) is a small
// Preact app; this router serves its HTML shell, its hashed assets (immutable, precompressed) and the behavior
// diff's HTML report in a sandbox. The shell preloads the page's first API call, so data and code load in parallel.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { apiUrlFor, parseQuery } from '../dashboard/query.ts';
import type { DashboardData } from './dashboard-data.ts';
import { escapeHtml } from '../render/html.ts';

interface WebAssets {
  dir: string;
  /** Logical name (app.js, app.css) → hashed file name. */
  manifest: Record<string, string>;
  files: Map<string, { body: Buffer; br?: Buffer; gz?: Buffer; type: string }>;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Where `npm run build` puts the front end: dist/web, seen from src/server (development) or dist/server (image). */
function defaultAssetsDir(): string | undefined {
  const candidates = [new URL('../../dist/web/', import.meta.url), new URL('../web/', import.meta.url)].map((u) => fileURLToPath(u));
  return candidates.find((d) => existsSync(join(d, 'manifest.json')));
}

function loadAssets(dir: string): WebAssets {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, string>;
  const files: WebAssets['files'] = new Map();
  for (const name of readdirSync(dir)) {
    const ext = /\.[a-z0-9]+$/.exec(name)?.[0] ?? '';
    const type = TYPES[ext];
    if (!type || name === 'manifest.json') continue;
    const entry: { body: Buffer; br?: Buffer; gz?: Buffer; type: string } = { body: readFileSync(join(dir, name)), type };
    if (existsSync(join(dir, `${name}.br`))) entry.br = readFileSync(join(dir, `${name}.br`));
    if (existsSync(join(dir, `${name}.gz`))) entry.gz = readFileSync(join(dir, `${name}.gz`));
    files.set(name, entry);
  }
  return { dir, manifest, files };
}


/** The page's CSP; `ancestors` are the origins that may embed it in an iframe (none: no one may). */
function shellCsp(ancestors: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${ancestors.length ? ancestors.join(' ') : "'none'"}`,
  ].join('; ');
}

/** The behavior report is katabot's own HTML, but it shows what a PR's code did: it runs sandboxed, in an opaque origin. */
const REPORT_CSP = [
  'sandbox allow-scripts allow-popups allow-popups-to-escape-sandbox',
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  'img-src data:',
  "frame-ancestors 'self'",
].join('; ');

function shellHtml(assets: WebAssets, req: Request): string {
  const q = parseQuery(new URLSearchParams(req.url.split('?')[1] ?? ''), req.baseUrl + req.path);
  const api = apiUrlFor(q);
  const js = `/dashboard/assets/${assets.manifest['app.js']}`;
  const css = `/dashboard/assets/${assets.manifest['app.css']}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="color-scheme" content="light dark">
<meta name="description" content="Kata Containers CI health: nightly jobs, PR checks, reruns, flakiness and behavior diffs, from katabot">
<title>katabot · CI dashboard</title>
<link rel="icon" href="/dashboard/assets/${assets.manifest['favicon.svg'] ?? ''}" type="image/svg+xml">
<link rel="stylesheet" href="${escapeHtml(css)}">
${api ? `<link rel="preload" as="fetch" href="${escapeHtml(api)}" crossorigin="anonymous">\n` : ''}<link rel="modulepreload" href="${escapeHtml(js)}">
<script type="module" src="${escapeHtml(js)}"></script>
</head>
<body>
<div id="app"><noscript>The dashboard needs JavaScript. Its data is also in the JSON API under /api/ (docs/dashboard-api.md).</noscript></div>
</body>
</html>
`;
}

export function createDashboardRouter(data: DashboardData, opts: { assetsDir?: string | undefined; log: Logger; frameAncestors?: readonly string[] }): express.Router {
  const csp = shellCsp(opts.frameAncestors);
  const router = express.Router({ strict: false });
  let assets: WebAssets | undefined;
  const load = (): WebAssets | undefined => {
    if (assets) return assets;
    const dir = opts.assetsDir ?? defaultAssetsDir();
    if (!dir || !existsSync(join(dir, 'manifest.json'))) return undefined;
    try {
      assets = loadAssets(dir);
    } catch (err) {
      opts.log.warn({ dir, err: (err as Error).message }, 'dashboard: cannot load the front end');
    }
    return assets;
  };
  if (!load()) opts.log.warn('dashboard: the front end is not built (npm run build); /dashboard answers 503 until it is');

  const page = (req: Request, res: Response) => {
    const a = load();
    res.set('x-content-type-options', 'nosniff');
    res.set('referrer-policy', 'same-origin');
    if (!a) {
      res.status(503).type('text/plain').send('The dashboard front end is not built: run `npm run build`. The JSON API is under /api/.\n');
      return;
    }
    res.set('content-security-policy', csp);
    res.set('cache-control', 'no-cache');
    res.type('html').send(shellHtml(a, req));
  };

  router.get('/', page);
  router.get('/behavior/:key', page);
  router.get('/apis/:scope/:key', page);

  router.get('/behavior/:key/report', async (req, res) => {
    try {
      const b = await data.behavior(String(req.params.key));
      res.set('x-content-type-options', 'nosniff');
      res.set('cache-control', 'no-cache');
      if (!b.html) {
        res.status(404).type('text/plain').send(`${b.reason ?? 'no behavior report'}\n`);
        return;
      }
      res.set('content-security-policy', REPORT_CSP);
      res.type('html').send(b.html);
    } catch (err) {
      opts.log.warn({ err: (err as Error).message }, 'dashboard: behavior report failed');
      res.status(503).type('text/plain').send('the store is not available\n');
    }
  });

  router.get('/assets/:file', (req, res) => {
    const a = load();
    const f = a?.files.get(String(req.params.file));
    if (!f) {
      res.status(404).type('text/plain').send('not found\n');
      return;
    }
    res.set('cache-control', 'public, max-age=31536000, immutable');
    res.set('x-content-type-options', 'nosniff');
    res.vary('accept-encoding');
    res.type(f.type);
    const accept = String(req.headers['accept-encoding'] ?? '');
    if (f.br && /\bbr\b/.test(accept)) {
      res.set('content-encoding', 'br');
      res.end(f.br);
    } else if (f.gz && /\bgzip\b/.test(accept)) {
      res.set('content-encoding', 'gzip');
      res.end(f.gz);
    } else {
      res.end(f.body);
    }
  });

  return router;
}
