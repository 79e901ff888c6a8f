// Results of every ProwJob katabot sees (presubmit, postsubmit, periodic, batch), and the attempts of each job on
// each commit: the data behind rerun counts, flakiness, the failure comment's Attempts column and the dashboard.
//
// Redis layout (under the store prefix, every key expiring after the retention):
//   results:pj:<prowjob>                    JSON RunRecord
//   results:attempt-no:<repo>:<job>:<sha>   hash prowjob → attempt number (assigned once, in order of first sight)
//   results:attempts:<repo>:<job>:<sha>     hash prowjob → JSON AttemptRecord
//   results:job:<job>                       zset prowjob by start time (job history; periodics too)
//   results:pull:<repo>#<n>                 zset prowjob by start time (a PR's runs)
//   results:sha-pr:<repo>:<sha>             PR number (head SHA → PR, for check events from forks)
//   results:jobs                            zset job name by last start time
//   results:pr-meta:<repo>#<n>              JSON PullMeta: the PR's author, labels and head, as the bot last saw them
// GitHub Actions attempts are records too (`actions-<job id>`, src/render/actions-results.ts), written with put().
import type { Redis } from 'ioredis';
import type { ProwJob } from '../jobs/types.ts';
import { attemptKeyOf, attemptOf, isRegression, jobResultOf, sameResult, type AttemptRecord, type RunRecord } from '../render/results.ts';

export type { AttemptRecord, RunRecord } from '../render/results.ts';

export interface ResultsStore {
  /**
   * Records a ProwJob's current result and returns it. The first call for a ProwJob assigns its attempt number
   * (1 + the attempts already recorded for its job and commit); later calls keep it. Nothing is written when the
   * result is unchanged.
   */
  record(pj: ProwJob, url: string | undefined): Promise<RunRecord>;
  /** Read API (the dashboard's): one ProwJob's result. */
  get(name: string): Promise<RunRecord | undefined>;
  /** Attempts of `job` on commit `sha` of `repo` (`org/repo`), by attempt number. */
  attempts(repo: string, job: string, sha: string): Promise<AttemptRecord[]>;
  /** The newest results of a job (any type), newest first; `before` (ISO time) pages back. */
  jobHistory(job: string, opts?: { limit?: number; before?: string }): Promise<RunRecord[]>;
  /** Results of a PR's jobs, newest first. */
  pullResults(repo: string, pull: number): Promise<RunRecord[]>;
  /** The PR whose head was `sha` when katabot last saw a job for it. */
  pullForSha(repo: string, sha: string): Promise<number | undefined>;
  /** Job names seen within the retention, most recently run first. */
  jobNames(limit?: number): Promise<string[]>;
  /**
   * Records a result whose attempt number its CI system gave (a GitHub Actions `run_attempt`), with the same
   * rules as record(): unchanged records are not rewritten, and an older state never replaces a newer one. Returns
   * what is stored.
   */
  put(result: RunRecord): Promise<RunRecord>;
  /** Remembers that `sha` is the head of PR `pull` (for runs GitHub does not link to their PR, as a fork's). */
  linkPull(repo: string, sha: string, pull: number): Promise<void>;
  /** What the bot last saw of a PR: author, labels, head (the dashboard shows its CI labels). */
  setPullMeta(repo: string, pull: number, meta: PullMeta): Promise<void>;
  pullMeta(repo: string, pull: number): Promise<PullMeta | undefined>;
}

export interface PullMeta {
  author?: string;
  labels: string[];
  headSha?: string;
  /** ISO time the bot saw it. */
  at: string;
}

const DAY_MS = 24 * 3600 * 1000;

function scoreOf(r: RunRecord): number {
  const t = Date.parse(r.start ?? r.pending ?? r.end ?? '');
  return Number.isFinite(t) ? t : Date.now();
}

function attemptsKey(repo: string, job: string, sha: string): string {
  return `${repo.toLowerCase()}:${job}:${sha}`;
}

/** Prow's order of states, as isRegression has it: a record never moves back. */
const RANK: Record<RunRecord['state'], number> = { scheduling: 0, triggered: 0, pending: 1, success: 2, failure: 2, aborted: 2, error: 2 };

/**
 * Compare-and-write of one record and its indexes. Returns the stored record when it won (unchanged, or newer),
 * nil when this one was written.
 */
const WRITE_LUA = `
local rank = { scheduling = 0, triggered = 0, pending = 1, success = 2, failure = 2, aborted = 2, error = 2 }
local cur = redis.call('get', KEYS[1])
if cur then
  if cur == ARGV[1] then return cur end
  local ok, old = pcall(cjson.decode, cur)
  if ok and rank[old.state] and rank[old.state] > tonumber(ARGV[8]) then return cur end
end
local ttl = tonumber(ARGV[6])
local cutoff = tonumber(ARGV[7]) - ttl
redis.call('set', KEYS[1], ARGV[1], 'PX', ttl)
redis.call('hset', KEYS[2], ARGV[3], ARGV[2])
redis.call('pexpire', KEYS[2], ttl)
redis.call('zadd', KEYS[3], ARGV[4], ARGV[3])
redis.call('zremrangebyscore', KEYS[3], '-inf', cutoff)
redis.call('pexpire', KEYS[3], ttl)
redis.call('zadd', KEYS[4], ARGV[4], ARGV[5])
redis.call('zremrangebyscore', KEYS[4], '-inf', cutoff)
if ARGV[9] == '1' then
  redis.call('zadd', KEYS[5], ARGV[4], ARGV[3])
  redis.call('pexpire', KEYS[5], ttl)
  if ARGV[10] ~= '' then redis.call('set', KEYS[6], ARGV[10], 'PX', ttl) end
end
return nil`;

const ASSIGN_ATTEMPT_LUA = `
local cur = redis.call('hget', KEYS[1], ARGV[1])
if cur then return tonumber(cur) end
local n = redis.call('hlen', KEYS[1]) + 1
redis.call('hset', KEYS[1], ARGV[1], n)
redis.call('pexpire', KEYS[1], ARGV[2])
return n`;

export class RedisResultsStore implements ResultsStore {
  readonly #redis: Redis;
  readonly #p: string;
  readonly #retentionMs: number;

  constructor(redis: Redis, prefix: string, retentionDays = 90) {
    this.#redis = redis;
    this.#p = `${prefix}results:`;
    this.#retentionMs = retentionDays * DAY_MS;
  }

  async record(pj: ProwJob, url: string | undefined): Promise<RunRecord> {
    const name = pj.metadata.name;
    const existing = await this.get(name);
    const k = attemptKeyOf(pj);
    const key = attemptsKey(k.repo, k.job, k.sha);
    const attempt =
      existing?.attempt ?? Number(await this.#redis.eval(ASSIGN_ATTEMPT_LUA, 1, `${this.#p}attempt-no:${key}`, name, String(this.#retentionMs)));
    return this.#write(existing, jobResultOf(pj, url, attempt), key);
  }

  async put(result: RunRecord): Promise<RunRecord> {
    const existing = await this.get(result.name);
    return this.#write(existing, result, attemptsKey(`${result.org ?? '-'}/${result.repo ?? '-'}`, result.job, result.sha ?? `run:${result.name}`));
  }

  async linkPull(repo: string, sha: string, pull: number): Promise<void> {
    await this.#redis.set(`${this.#p}sha-pr:${repo.toLowerCase()}:${sha}`, String(pull), 'PX', this.#retentionMs);
  }

  async setPullMeta(repo: string, pull: number, meta: PullMeta): Promise<void> {
    await this.#redis.set(`${this.#p}pr-meta:${repo.toLowerCase()}#${pull}`, JSON.stringify(meta), 'PX', this.#retentionMs);
  }

  async pullMeta(repo: string, pull: number): Promise<PullMeta | undefined> {
    const raw = await this.#redis.get(`${this.#p}pr-meta:${repo.toLowerCase()}#${pull}`);
    return raw ? (JSON.parse(raw) as PullMeta) : undefined;
  }

  async #write(existing: RunRecord | undefined, result: RunRecord, key: string): Promise<RunRecord> {
    if (sameResult(existing, result) || isRegression(existing, result)) return existing!;
    const ttl = this.#retentionMs;
    const repo = result.org && result.repo && result.pull !== undefined ? `${result.org}/${result.repo}`.toLowerCase() : undefined;
    const keys = [
      `${this.#p}pj:${result.name}`,
      `${this.#p}attempts:${key}`,
      `${this.#p}job:${result.job}`,
      `${this.#p}jobs`,
      repo ? `${this.#p}pull:${repo}#${result.pull}` : `${this.#p}pull:-`,
      repo && result.sha ? `${this.#p}sha-pr:${repo}:${result.sha}` : `${this.#p}sha-pr:-`,
    ];
    // One script, so concurrent deliveries about one job (in_progress and completed handled by two workers) can
    // never leave an older state in the record or the attempts index.
    const stored = (await this.#redis.eval(
      WRITE_LUA,
      keys.length,
      ...keys,
      JSON.stringify(result),
      JSON.stringify(attemptOf(result)),
      result.name,
      String(scoreOf(result)),
      result.job,
      String(ttl),
      String(Date.now()),
      String(RANK[result.state]),
      repo ? '1' : '0',
      repo && result.sha ? String(result.pull) : '',
    )) as string | null;
    return stored ? (JSON.parse(stored) as RunRecord) : result;
  }

  async get(name: string): Promise<RunRecord | undefined> {
    const raw = await this.#redis.get(`${this.#p}pj:${name}`);
    return raw ? (JSON.parse(raw) as RunRecord) : undefined;
  }

  async attempts(repo: string, job: string, sha: string): Promise<AttemptRecord[]> {
    const all = await this.#redis.hvals(`${this.#p}attempts:${attemptsKey(repo, job, sha)}`);
    return all.map((v) => JSON.parse(v) as AttemptRecord).sort((a, b) => a.attempt - b.attempt);
  }

  async #many(names: string[]): Promise<RunRecord[]> {
    if (names.length === 0) return [];
    const raws = await this.#redis.mget(...names.map((n) => `${this.#p}pj:${n}`));
    return raws.flatMap((r) => (r ? [JSON.parse(r) as RunRecord] : []));
  }

  async jobHistory(job: string, opts: { limit?: number; before?: string } = {}): Promise<RunRecord[]> {
    const max = opts.before ? `(${Date.parse(opts.before)}` : '+inf';
    const names = await this.#redis.zrevrangebyscore(`${this.#p}job:${job}`, max, '-inf', 'LIMIT', 0, opts.limit ?? 100);
    return this.#many(names);
  }

  async pullResults(repo: string, pull: number): Promise<RunRecord[]> {
    const names = await this.#redis.zrevrange(`${this.#p}pull:${repo.toLowerCase()}#${pull}`, 0, -1);
    return this.#many(names);
  }

  async pullForSha(repo: string, sha: string): Promise<number | undefined> {
    const n = await this.#redis.get(`${this.#p}sha-pr:${repo.toLowerCase()}:${sha}`);
    return n ? Number(n) : undefined;
  }

  async jobNames(limit = 1000): Promise<string[]> {
    return this.#redis.zrevrange(`${this.#p}jobs`, 0, limit - 1);
  }
}

/** The same, in memory, for a single development replica. */
export class MemoryResultsStore implements ResultsStore {
  readonly #results = new Map<string, RunRecord>();
  readonly #attempts = new Map<string, Map<string, AttemptRecord>>();
  readonly #attemptNo = new Map<string, Map<string, number>>();
  readonly #shaPr = new Map<string, number>();
  readonly #meta = new Map<string, PullMeta>();

  async record(pj: ProwJob, url: string | undefined): Promise<RunRecord> {
    const name = pj.metadata.name;
    const existing = this.#results.get(name);
    const k = attemptKeyOf(pj);
    const key = attemptsKey(k.repo, k.job, k.sha);
    let numbers = this.#attemptNo.get(key);
    if (!numbers) this.#attemptNo.set(key, (numbers = new Map()));
    let attempt = existing?.attempt ?? numbers.get(name);
    if (attempt === undefined) {
      attempt = numbers.size + 1;
      numbers.set(name, attempt);
    }
    return this.#write(existing, jobResultOf(pj, url, attempt), key);
  }

  async put(result: RunRecord): Promise<RunRecord> {
    const key = attemptsKey(`${result.org ?? '-'}/${result.repo ?? '-'}`, result.job, result.sha ?? `run:${result.name}`);
    return this.#write(this.#results.get(result.name), result, key);
  }

  async linkPull(repo: string, sha: string, pull: number): Promise<void> {
    this.#shaPr.set(`${repo.toLowerCase()}:${sha}`, pull);
  }

  async setPullMeta(repo: string, pull: number, meta: PullMeta): Promise<void> {
    this.#meta.set(`${repo.toLowerCase()}#${pull}`, structuredClone(meta));
  }

  async pullMeta(repo: string, pull: number): Promise<PullMeta | undefined> {
    const m = this.#meta.get(`${repo.toLowerCase()}#${pull}`);
    return m ? structuredClone(m) : undefined;
  }

  #write(existing: RunRecord | undefined, result: RunRecord, key: string): RunRecord {
    const name = result.name;
    if (sameResult(existing, result) || isRegression(existing, result)) return existing!;
    this.#results.set(name, structuredClone(result));
    let attempts = this.#attempts.get(key);
    if (!attempts) this.#attempts.set(key, (attempts = new Map()));
    attempts.set(name, attemptOf(result));
    if (result.org && result.repo && result.pull !== undefined && result.sha) {
      this.#shaPr.set(`${result.org}/${result.repo}`.toLowerCase() + ':' + result.sha, result.pull);
    }
    return result;
  }

  async get(name: string): Promise<RunRecord | undefined> {
    const r = this.#results.get(name);
    return r ? structuredClone(r) : undefined;
  }

  async attempts(repo: string, job: string, sha: string): Promise<AttemptRecord[]> {
    return [...(this.#attempts.get(attemptsKey(repo, job, sha))?.values() ?? [])].sort((a, b) => a.attempt - b.attempt);
  }

  #sorted(filter: (r: RunRecord) => boolean): RunRecord[] {
    return [...this.#results.values()].filter(filter).sort((a, b) => scoreOf(b) - scoreOf(a));
  }

  async jobHistory(job: string, opts: { limit?: number; before?: string } = {}): Promise<RunRecord[]> {
    const before = opts.before ? Date.parse(opts.before) : Infinity;
    return this.#sorted((r) => r.job === job && scoreOf(r) < before).slice(0, opts.limit ?? 100);
  }

  async pullResults(repo: string, pull: number): Promise<RunRecord[]> {
    return this.#sorted((r) => `${r.org}/${r.repo}`.toLowerCase() === repo.toLowerCase() && r.pull === pull);
  }

  async pullForSha(repo: string, sha: string): Promise<number | undefined> {
    return this.#shaPr.get(`${repo.toLowerCase()}:${sha}`);
  }

  async jobNames(limit = 1000): Promise<string[]> {
    return [...new Set(this.#sorted(() => true).map((r) => r.job))].slice(0, limit);
  }
}
