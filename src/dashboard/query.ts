// The dashboard's URL: which view, which filters. Shared by the server (to preload the page's API call) and the
// browser (to read and write the address bar), so a copied link opens the same page. Pure.

export type Display = 'nightly' | 'prchecks' | 'prsingle' | 'behavior' | 'apis';

const DISPLAYS: readonly Display[] = ['nightly', 'prchecks', 'prsingle', 'behavior', 'apis'];

export interface DashboardQuery {
  display: Display;
  /** Job regex (case-insensitive, searched anywhere in the job name or its context). */
  job: string;
  requiredOnly: boolean;
  /** Nightly: finished runs per job in the weather window. */
  runs: number;
  /** PR checks: how many recent PRs. */
  prs: number;
  /** Single PR. */
  pr?: number;
  repo?: string;
  sha?: string;
  /** Behavior: ProwJob name or report id. API usage: ProwJob name (run) or job name (job). */
  key?: string;
  /** API usage: one run's, or the job's last `runs` runs'. */
  apiScope?: 'run' | 'job';
  /** Column the table is sorted by; empty is the view's default (worst or flakiest first). */
  sort: string;
}

export const DEFAULTS = { runs: 10, prs: 20 } as const;
export const LIMITS = { runs: 50, prs: 100, jobRegex: 200 } as const;

export const BASE = '/dashboard';

function clampInt(v: string | null, fallback: number, max: number): number {
  if (v === null || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) return fallback;
  return Math.min(n, max);
}

const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const SHA = /^[0-9a-fA-F]{4,64}$/;

/** Reads `?display=…&job=…&required=1&runs=…&prs=…&pr=…&repo=…&sha=…`; `/dashboard/behavior/<key>` is the Behavior view. */
export function parseQuery(params: URLSearchParams, pathname = BASE): DashboardQuery {
  const m = /\/behavior\/([^/]+)\/?$/.exec(pathname);
  const raw = params.get('display') ?? '';
  let display: Display = DISPLAYS.includes(raw as Display) ? (raw as Display) : 'nightly';
  let pr: number | undefined;
  let repo: string | undefined;
  const prRaw = (params.get('pr') ?? '').trim();
  // `pr` is a number, or org/repo#number (a pasted reference)
  const ref = /^(?:([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)#)?(\d{1,9})$/.exec(prRaw);
  if (ref) {
    pr = Number(ref[2]);
    if (ref[1]) repo = ref[1];
  }
  const repoParam = (params.get('repo') ?? '').trim();
  if (REPO.test(repoParam)) repo = repoParam;
  if (!params.get('display') && pr !== undefined) display = 'prsingle';
  const q: DashboardQuery = {
    display,
    job: (params.get('job') ?? '').slice(0, LIMITS.jobRegex),
    requiredOnly: ['1', 'true', 'yes', 'on'].includes((params.get('required') ?? '').toLowerCase()),
    runs: clampInt(params.get('runs'), DEFAULTS.runs, LIMITS.runs),
    prs: clampInt(params.get('prs'), DEFAULTS.prs, LIMITS.prs),
    sort: /^-?[a-z]{1,20}$/.test(params.get('sort') ?? '') ? params.get('sort')! : '',
  };
  if (pr !== undefined) q.pr = pr;
  if (repo) q.repo = repo;
  const sha = (params.get('sha') ?? '').trim();
  if (SHA.test(sha)) q.sha = sha.toLowerCase();
  const apis = /\/apis\/(runs|jobs)\/([^/]+)\/?$/.exec(pathname);
  if (apis) {
    q.display = 'apis';
    q.apiScope = apis[1] === 'runs' ? 'run' : 'job';
    q.key = decodePart(apis[2]!);
  }
  if (m) {
    q.display = 'behavior';
    q.key = decodePart(m[1]!);
  }
  return q;
}

function decodePart(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The page URL of a query: only what differs from the defaults, in a stable order. */
export function pageUrl(q: Partial<DashboardQuery> & { display: Display }): string {
  if (q.display === 'behavior') return `${BASE}/behavior/${encodeURIComponent(q.key ?? '')}`;
  if (q.display === 'apis') {
    const runs = q.apiScope === 'job' && q.runs !== undefined && q.runs !== DEFAULTS.runs ? `?runs=${q.runs}` : '';
    return `${BASE}/apis/${q.apiScope === 'job' ? 'jobs' : 'runs'}/${encodeURIComponent(q.key ?? '')}${runs}`;
  }
  const p = new URLSearchParams();
  if (q.display !== 'nightly') p.set('display', q.display);
  if (q.display === 'prsingle') {
    if (q.pr !== undefined) p.set('pr', String(q.pr));
    if (q.repo) p.set('repo', q.repo);
    if (q.sha) p.set('sha', q.sha);
  }
  if (q.job) p.set('job', q.job);
  if (q.requiredOnly) p.set('required', '1');
  if (q.display === 'nightly' && q.runs !== undefined && q.runs !== DEFAULTS.runs) p.set('runs', String(q.runs));
  if (q.display === 'prchecks' && q.prs !== undefined && q.prs !== DEFAULTS.prs) p.set('prs', String(q.prs));
  if (q.sort) p.set('sort', q.sort);
  const s = p.toString();
  return s ? `${BASE}?${s}` : BASE;
}

/**
 * The API call a page makes first (the server preloads it). Filters (job, required) are applied in the page, so
 * typing does not refetch; the API takes them too, for other clients.
 */
export function apiUrlFor(q: DashboardQuery): string | undefined {
  switch (q.display) {
    case 'nightly':
      return `/api/jobs/nightly?runs=${q.runs}`;
    case 'prchecks':
      return `/api/jobs/presubmits?prs=${q.prs}`;
    case 'prsingle': {
      if (q.pr === undefined) return '/api/prs';
      const p = new URLSearchParams();
      if (q.repo) p.set('repo', q.repo);
      if (q.sha) p.set('sha', q.sha);
      const s = p.toString();
      return `/api/prs/${q.pr}${s ? `?${s}` : ''}`;
    }
    case 'behavior':
      return q.key ? `/api/behavior/${encodeURIComponent(q.key)}` : undefined;
    case 'apis':
      if (!q.key) return undefined;
      return q.apiScope === 'job' ? `/api/apis/jobs/${encodeURIComponent(q.key)}?runs=${q.runs}` : `/api/apis/runs/${encodeURIComponent(q.key)}`;
  }
}

/** Compiles the job filter; an invalid pattern is reported, not thrown. Case-insensitive, searched anywhere. */
export function jobRegex(pattern: string): { re?: RegExp; error?: string } {
  if (pattern.trim() === '') return {};
  if (pattern.length > LIMITS.jobRegex) return { error: `longer than ${LIMITS.jobRegex} characters` };
  try {
    return { re: new RegExp(pattern, 'i') };
  } catch (err) {
    return { error: (err as Error).message.replace(/^Invalid regular expression: /, '') };
  }
}

export type RowOrder<T> = (a: T, b: T) => number;

/** Sorts by a `sort` parameter (`col` or `-col` for descending); ties and unknown columns go by job name. */
export function sortRows<T extends { job: string }>(rows: readonly T[], sort: string, sorts: Record<string, RowOrder<T>>): T[] {
  const desc = sort.startsWith('-');
  const cmp = sorts[desc ? sort.slice(1) : sort];
  if (!cmp) return [...rows];
  return [...rows].sort((a, b) => (desc ? -cmp(a, b) : cmp(a, b)) || a.job.localeCompare(b.job));
}

/** The rows a page shows: its job filter (an invalid pattern is reported and filters nothing), required-only, order. */
export function pageRows<T extends { job: string; context?: string; requirement: { required: boolean } }>(
  rows: readonly T[],
  q: Pick<DashboardQuery, 'job' | 'requiredOnly' | 'sort'>,
  sorts?: Record<string, RowOrder<T>>,
): { rows: T[]; error?: string } {
  const { re, error } = jobRegex(q.job);
  const filtered = filterRows(rows, { ...(re ? { matches: (n: string) => re.test(n) } : {}), requiredOnly: q.requiredOnly });
  const out = sorts ? sortRows(filtered, q.sort, sorts) : filtered;
  return error ? { rows: out, error } : { rows: out };
}

/** Applies the job and required filters to rows (the API and the page filter the same way): a row matches by its job name, its context or its typeable name. */
export function filterRows<T extends { job: string; context?: string; typeable?: string; requirement: { required: boolean } }>(
  rows: readonly T[],
  opts: { matches?: (name: string) => boolean; requiredOnly?: boolean },
): T[] {
  return rows.filter((r) => {
    if (opts.requiredOnly && !r.requirement.required) return false;
    const m = opts.matches;
    if (m && !m(r.job) && !(r.context !== undefined && m(r.context)) && !(r.typeable !== undefined && m(r.typeable))) return false;
    return true;
  });
}
