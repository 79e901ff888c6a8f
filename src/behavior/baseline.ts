// The baseline index: for each (repo, branch, job), the newest successful traced runs on that branch (postsubmits,
// periodics, and the base-SHA runs /trace starts when there is none), kept in the Store. A PR's traced job is
// diffed against them; the newest first, and several of them so items that vary between base runs are flaky.
// Also: PR jobs waiting for a base run, cached baseline profiles, and stored HTML reports.
import type { Store } from '../adapters/store.ts';
import type { JobRef, PathOptions } from '../artifacts/index.ts';
import { isProfile, PROFILE_VERSION, type BehaviorProfile } from '../trace/profile.ts';

/** How many base runs the index keeps per (repo, branch, job). */
const BASELINES_KEPT = 5;
const BASELINE_TTL_SECONDS = 90 * 24 * 3600;
const PENDING_TTL_SECONDS = 2 * 24 * 3600;
const PROFILE_TTL_SECONDS = 14 * 24 * 3600;
const HTML_TTL_SECONDS = 30 * 24 * 3600;
const LOCK_MS = 10_000;

/** Where a traced run's artifacts are. */
export interface TracedRun {
  /** Storage URL of the job's bucket (gs://, s3://, file://). */
  storage: string;
  ref: JobRef;
  paths?: PathOptions;
  /** ProwJob name. */
  prowjob: string;
}

export interface BaselineEntry extends TracedRun {
  /** The commit the run tested (refs.base_sha). */
  sha: string;
  /** ISO 8601 completion time. */
  finishedAt: string;
}

export interface PendingHead extends TracedRun {
  org: string;
  repo: string;
  pull: number;
  headSha: string;
  baseRef: string;
  baseSha: string;
}

function indexKey(repo: string, branch: string, job: string): string {
  return `behavior:baselines:${repo}:${branch}:${job}`;
}

function pendingKey(repo: string, job: string, baseSha: string): string {
  return `behavior:pending:${repo}:${job}:${baseSha}`;
}

function parseList<T>(raw: string | undefined): T[] {
  if (!raw) return [];
  try {
    const v = JSON.parse(raw) as unknown;
    return Array.isArray(v) ? (v as T[]) : [];
  } catch {
    return [];
  }
}

/** Records a successful traced run on a branch; keeps the newest BASELINES_KEPT, newest first. */
export async function recordBaseline(store: Store, repo: string, branch: string, entry: BaselineEntry): Promise<BaselineEntry[]> {
  const key = indexKey(repo, branch, entry.ref.job);
  return store.withLock(key, LOCK_MS, async () => {
    const list = parseList<BaselineEntry>(await store.get(key)).filter((e) => e.prowjob !== entry.prowjob);
    list.push(entry);
    list.sort((a, b) => (a.finishedAt > b.finishedAt ? -1 : a.finishedAt < b.finishedAt ? 1 : a.prowjob < b.prowjob ? -1 : 1));
    const kept = list.slice(0, BASELINES_KEPT);
    await store.set(key, JSON.stringify(kept), BASELINE_TTL_SECONDS);
    return kept;
  });
}

/**
 * Baselines for a PR job: runs at exactly the PR's base commit first (the /trace base run), then the newest
 * others on the branch; at most `max`.
 */
export async function findBaselines(store: Store, repo: string, branch: string, job: string, baseSha: string | undefined, max = 3): Promise<BaselineEntry[]> {
  const list = parseList<BaselineEntry>(await store.get(indexKey(repo, branch, job)));
  const exact = list.filter((e) => baseSha !== undefined && e.sha === baseSha);
  const rest = list.filter((e) => !(baseSha !== undefined && e.sha === baseSha));
  return [...exact, ...rest].slice(0, max);
}

export async function addPending(store: Store, p: PendingHead): Promise<void> {
  const key = pendingKey(`${p.org}/${p.repo}`, p.ref.job, p.baseSha);
  await store.withLock(key, LOCK_MS, async () => {
    const list = parseList<PendingHead>(await store.get(key)).filter((e) => e.prowjob !== p.prowjob);
    list.push(p);
    await store.set(key, JSON.stringify(list), PENDING_TTL_SECONDS);
  });
}

/** PR jobs that waited for a base run of this job at this commit; removes them from the index. */
export async function takePending(store: Store, repo: string, job: string, baseSha: string): Promise<PendingHead[]> {
  const key = pendingKey(repo, job, baseSha);
  return store.withLock(key, LOCK_MS, async () => {
    const list = parseList<PendingHead>(await store.get(key));
    if (list.length > 0) await store.del(key);
    return list;
  });
}

/** A ProwJob's run by its bucket and build; any other traced run by its id (e.g. an Actions run's artifact). */
function profileKey(run: TracedRun | string): string {
  if (typeof run === 'string') return `behavior:profile:${PROFILE_VERSION}:${run}`;
  return `behavior:profile:${PROFILE_VERSION}:${run.storage}:${run.ref.type}:${run.ref.job}:${run.ref.buildId}`;
}

/** A base run's profile, computed once and cached (base traces are read by every PR diffed against them). */
export async function cachedProfile(store: Store, run: TracedRun | string, compute: () => Promise<BehaviorProfile>): Promise<BehaviorProfile> {
  const key = profileKey(run);
  const raw = await store.get(key);
  if (raw) {
    try {
      const v = JSON.parse(raw) as unknown;
      if (isProfile(v)) return v;
    } catch {
      // recompute
    }
  }
  const p = await compute();
  await store.set(key, JSON.stringify(p), PROFILE_TTL_SECONDS);
  return p;
}

/** An id for a report, usable in a URL path. */
export function reportId(org: string, repo: string, pull: number, job: string, buildId: string): string {
  return [org, repo, String(pull), job, buildId].map((s) => s.replace(/[^A-Za-z0-9._-]/g, '_')).join('~');
}

export async function saveBehaviorHtml(store: Store, id: string, html: string): Promise<void> {
  await store.set(`behavior:html:${id}`, html, HTML_TTL_SECONDS);
}

/** The stored HTML report, for the server to serve (undefined when unknown or expired). */
export async function readBehaviorHtml(store: Store, id: string): Promise<string | undefined> {
  return store.get(`behavior:html:${id}`);
}
