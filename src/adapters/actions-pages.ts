// Pages of GitHub's Actions REST API for backfill: workflow runs (of the repository or of some workflow files),
// the jobs of a run (every attempt), and PRs, following `Link: rel="next"`. Each page is asked for with the ETag of
// the last time (`If-None-Match`), so an unchanged page is a 304 that GitHub does not count against the rate limit;
// the fields katabot reads of each page are kept beside its ETag in the store. Rate limits are Octokit's throttling
// plugin's: the caller's Octokit waits and resumes (src/cli/backfill.ts).
import type { WorkflowJobObject, WorkflowRunObject } from '../jobs/actions.ts';
import type { Octokit } from './github.ts';
import type { Store } from './store.ts';

/** How long a page's ETag and fields are kept. */
const ETAG_TTL_SECONDS = 14 * 24 * 3600;

export interface PageStats {
  requests: number;
  /** Pages GitHub answered 304 Not Modified. */
  notModified: number;
}

interface Kept<T> {
  etag: string;
  items: T[];
  next?: string;
  /** The list's `total_count`, when GitHub gives one. */
  total?: number;
}

/** The URL of `rel="next"` in a Link header. */
function nextLink(link: string | undefined): string | undefined {
  for (const part of (link ?? '').split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) return m[1];
  }
  return undefined;
}

function pickRun(r: WorkflowRunObject): WorkflowRunObject {
  return {
    id: r.id,
    name: r.name ?? null,
    path: r.path ?? null,
    workflow_id: r.workflow_id,
    event: r.event,
    status: r.status,
    conclusion: r.conclusion,
    head_sha: r.head_sha,
    head_branch: r.head_branch ?? null,
    run_attempt: r.run_attempt ?? null,
    run_number: r.run_number ?? null,
    created_at: r.created_at,
    html_url: r.html_url,
    pull_requests: (r.pull_requests ?? []).map((p) => ({ number: p.number, ...(p.head?.sha ? { head: { sha: p.head.sha } } : {}), ...(p.base?.ref ? { base: { ref: p.base.ref } } : {}) })),
  };
}

function pickJob(j: WorkflowJobObject): WorkflowJobObject {
  return {
    id: j.id,
    run_id: j.run_id,
    run_attempt: j.run_attempt ?? null,
    name: j.name,
    workflow_name: j.workflow_name ?? null,
    head_sha: j.head_sha,
    head_branch: j.head_branch ?? null,
    status: j.status,
    conclusion: j.conclusion,
    created_at: j.created_at ?? null,
    started_at: j.started_at ?? null,
    completed_at: j.completed_at ?? null,
    html_url: j.html_url,
    labels: j.labels ?? [],
    runner_name: j.runner_name ?? null,
  };
}

export class ActionsPages {
  readonly #octokit: Octokit;
  readonly #store: Store;
  readonly owner: string;
  readonly repo: string;
  readonly stats: PageStats = { requests: 0, notModified: 0 };

  constructor(octokit: Octokit, store: Store, owner: string, repo: string) {
    this.#octokit = octokit;
    this.#store = store;
    this.owner = owner;
    this.repo = repo;
  }

  /** One page, conditionally: its items (fields picked by `pick` from the array at `key`) and the next page's URL. */
  async #page<T>(url: string, key: string, pick: (x: T) => T): Promise<Kept<T>> {
    const cacheKey = `backfill-page:${url}`;
    const raw = await this.#store.get(cacheKey);
    const kept = raw ? (JSON.parse(raw) as Kept<T>) : undefined;
    this.stats.requests++;
    try {
      const res = await this.#octokit.request(`GET ${url}`, kept ? { headers: { 'if-none-match': kept.etag } } : {});
      const data = res.data as Record<string, unknown> | unknown[];
      const list = (Array.isArray(data) ? data : (data[key] as T[] | undefined)) ?? [];
      const page: Kept<T> = { etag: String(res.headers.etag ?? ''), items: (list as T[]).map(pick) };
      const total = Array.isArray(data) ? undefined : data.total_count;
      if (typeof total === 'number') page.total = total;
      const next = nextLink(res.headers.link);
      if (next) page.next = next;
      if (page.etag) await this.#store.set(cacheKey, JSON.stringify(page), ETAG_TTL_SECONDS);
      return page;
    } catch (err) {
      if ((err as { status?: number }).status === 304 && kept) {
        this.stats.notModified++;
        return kept;
      }
      throw err;
    }
  }

  async *#pages<T>(first: string, key: string, pick: (x: T) => T): AsyncGenerator<Kept<T>> {
    let url: string | undefined = first;
    while (url) {
      const page: Kept<T> = await this.#page(url, key, pick);
      yield page;
      url = page.next;
    }
  }

  #base(): string {
    return `/repos/${encodeURIComponent(this.owner)}/${encodeURIComponent(this.repo)}`;
  }

  /** Workflow runs created since `since`, newest first, page by page (with the total): of one workflow file, or of the repository. */
  runs(since: Date, workflow?: string): AsyncGenerator<{ items: WorkflowRunObject[]; total?: number }> {
    // To the hour: a rerun within the hour asks for the same URLs, so their ETags apply.
    const created = `>=${new Date(Math.floor(since.getTime() / 3600_000) * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
    const path = workflow ? `/actions/workflows/${encodeURIComponent(workflow)}/runs` : '/actions/runs';
    return this.#pages(`${this.#base()}${path}?per_page=100&created=${encodeURIComponent(created)}`, 'workflow_runs', pickRun);
  }

  /** Every job of every attempt of a run. */
  async jobs(runId: number): Promise<WorkflowJobObject[]> {
    const out: WorkflowJobObject[] = [];
    for await (const page of this.#pages(`${this.#base()}/actions/runs/${runId}/jobs?filter=all&per_page=100`, 'jobs', pickJob)) out.push(...page.items);
    return out;
  }

  /** PRs updated since `since`, newest first, as (number, head SHA) pairs: the PRs of a fork's runs. */
  async *pulls(since: Date): AsyncGenerator<Array<{ number: number; sha: string }>> {
    type P = { number: number; head: { sha: string }; updated_at: string };
    const pick = (p: P): P => ({ number: p.number, head: { sha: p.head.sha }, updated_at: p.updated_at });
    for await (const page of this.#pages<P>(`${this.#base()}/pulls?state=all&sort=updated&direction=desc&per_page=100`, 'items', pick)) {
      const recent = page.items.filter((p) => Date.parse(p.updated_at) >= since.getTime());
      yield recent.map((p) => ({ number: p.number, sha: p.head.sha }));
      if (recent.length < page.items.length) return;
    }
  }
}
