// The Kubernetes API usage of traced runs, kept for the dashboard: per run its usage record (src/trace/api-usage.ts,
// a few KB), per job the newest runs that have one, and per spec document its operations (shared by every run
// made against it, so a run stores only a hash). Written when a traced run's audit log is read
// (src/behavior/traced-run.ts); read by the dashboard's API usage views and CSV downloads.
import { createHash } from 'node:crypto';
import type { Store } from '../adapters/store.ts';
import type { ApiUsageRun } from '../dashboard/api-usage.ts';
import { isUsageRecord, mergeUsage, type ApiUsageRecord } from '../trace/api-usage.ts';
import type { OpenApiOperation } from '../trace/openapi-index.ts';

/** Runs of a job whose usage is kept (the dashboard's last N runs go up to this). */
export const USAGE_RUNS_KEPT = 20;
const USAGE_TTL_SECONDS = 30 * 24 * 3600;
const LOCK_MS = 10_000;

/** Who made a usage record, and against which spec: sha256 of its operations (`behavior:openapi-ops:<hash>`). */
export type UsageRun = ApiUsageRun & { spec: string };

export interface StoredUsage {
  run: UsageRun;
  usage: ApiUsageRecord;
}

const runKey = (prowjob: string) => `behavior:apis:run:${prowjob}`;
const jobKey = (job: string) => `behavior:apis:job:${job}`;
const opsKey = (hash: string) => `behavior:openapi-ops:${hash}`;

function parse<T>(raw: string | undefined, check: (v: unknown) => boolean): T | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    return check(v) ? (v as T) : undefined;
  } catch {
    return undefined;
  }
}

/** The operations of a spec without what only matching needs (the trie), and their hash. */
function specOperations(ops: readonly OpenApiOperation[]): { hash: string; json: string } {
  const json = JSON.stringify(ops);
  return { hash: createHash('sha256').update(json).digest('hex').slice(0, 32), json };
}

/** Keeps a run's usage, its spec's operations (once per spec) and its place among the job's newest runs. */
export async function recordUsage(store: Store, run: Omit<UsageRun, 'spec'>, usage: ApiUsageRecord, ops: readonly OpenApiOperation[]): Promise<UsageRun> {
  const spec = specOperations(ops);
  const full: UsageRun = { ...run, spec: spec.hash };
  // refreshed with every run that uses it, so it lives as long as any usage record does
  await store.set(opsKey(spec.hash), spec.json, USAGE_TTL_SECONDS);
  await store.set(runKey(run.prowjob), JSON.stringify({ run: full, usage } satisfies StoredUsage), USAGE_TTL_SECONDS);
  await store.withLock(jobKey(run.job), LOCK_MS, async () => {
    const list = (parse<UsageRun[]>(await store.get(jobKey(run.job)), Array.isArray) ?? []).filter((r) => r.prowjob !== run.prowjob);
    list.unshift(full);
    list.sort((a, b) => (a.recordedAt > b.recordedAt ? -1 : a.recordedAt < b.recordedAt ? 1 : 0));
    await store.set(jobKey(run.job), JSON.stringify(list.slice(0, USAGE_RUNS_KEPT)), USAGE_TTL_SECONDS);
  });
  return full;
}

export async function readRunUsage(store: Store, prowjob: string): Promise<StoredUsage | undefined> {
  return parse<StoredUsage>(await store.get(runKey(prowjob)), (v) => typeof v === 'object' && v !== null && isUsageRecord((v as StoredUsage).usage));
}

/** The newest `n` runs of a job with their usage, newest first (expired records left out). */
export async function readJobUsage(store: Store, job: string, n: number): Promise<StoredUsage[]> {
  const runs = (parse<UsageRun[]>(await store.get(jobKey(job)), Array.isArray) ?? []).slice(0, n);
  if (runs.length === 0) return [];
  const raw = await store.mget(runs.map((r) => runKey(r.prowjob)));
  return raw.flatMap((r) => {
    const s = parse<StoredUsage>(r, (v) => typeof v === 'object' && v !== null && isUsageRecord((v as StoredUsage).usage));
    return s ? [s] : [];
  });
}

/** The job's usage over its newest `n` runs, as one record against the newest run's spec. */
export function mergeStored(runs: readonly StoredUsage[]): ApiUsageRecord {
  return mergeUsage(runs.map((r) => r.usage));
}

export async function readSpecOperations(store: Store, hash: string): Promise<OpenApiOperation[] | undefined> {
  return parse<OpenApiOperation[]>(await store.get(opsKey(hash)), Array.isArray);
}
