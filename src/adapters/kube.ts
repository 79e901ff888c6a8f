// ProwJob adapter (imperative shell): creates, reads, lists and aborts prow.k8s.io/v1 ProwJobs.
//
// Two implementations of one interface:
// - kubeProwJobClient: the Kubernetes API through @kubernetes/client-node's CustomObjectsApi.
// - fileProwJobClient: YAML files under a directory, for running without a cluster (KUBECONFIG unset).
//
// Semantics follow Prow (see /work/shared/notes/prow-semantics.md §3, §7.4):
// - Names are fixed before the first attempt, so create retries are idempotent and AlreadyExists is success
//   (pjutil createWithRetry).
// - The ProwJob CRD has no status subresource: status is written through the object itself, with a merge-patch
//   that carries metadata.resourceVersion, so a concurrent change by plank/crier conflicts (409) instead of being
//   clobbered. On a conflict the job is re-read and the caller's mutate() decides again.
// - Aborting sets state `aborted` and a description and never sets completionTime ("do not SetComplete() when
//   aborting, because Plank's aborting ignores completed jobs"); completed jobs are never touched.
import { randomUUID } from 'node:crypto';
import { access, constants, link, mkdir, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiException, CustomObjectsApi, Observable, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ConfigurationOptions, KubeConfig, ObservableMiddleware, RequestContext, ResponseContext } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import pRetry, { AbortError } from 'p-retry';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { labelsMatch, shouldAbort } from '../jobs/state.ts';
import { LABELS, type ProwJob, type ProwJobStatus } from '../jobs/types.ts';

export const PROWJOB_GROUP = 'prow.k8s.io';
export const PROWJOB_VERSION = 'v1';
export const PROWJOB_PLURAL = 'prowjobs';

export interface ProwJobClient {
  /** Create; AlreadyExists counts as success ('exists'), so retries with a precomputed name are idempotent.
   *  Retries 429/5xx/network errors with bounded exponential backoff, honouring Retry-After. */
  create(pj: ProwJob): Promise<'created' | 'exists'>;
  /** The job, or undefined when it does not exist. */
  get(name: string): Promise<ProwJob | undefined>;
  /** Jobs in the client's namespace whose labels equal all of `labelSelector`, sorted by name. */
  list(labelSelector: Record<string, string>): Promise<ProwJob[]>;
  /** Merge-patch status through the object (no status subresource), guarded by resourceVersion. `mutate` sees the
   *  current job and returns the status fields to set (merge-patch semantics: maps merge, null deletes), or
   *  undefined to leave the job alone. On a 409 the job is re-read and `mutate` asked again. Returns the updated
   *  job, or undefined when `mutate` said no or the job does not exist. */
  updateStatus(name: string, mutate: (current: ProwJob) => Partial<ProwJobStatus> | undefined): Promise<ProwJob | undefined>;
  /** Abort every incomplete presubmit whose labels match: state 'aborted' + `description`, completionTime left unset.
   *  `prow.k8s.io/type=presubmit` is added to the selector unless given. Completed jobs (completionTime set, or state
   *  success/failure/aborted/error) are never touched, also when they complete while this runs. Returns the names
   *  this call aborted. When some updates fail the others still happen and an AbortIncompleteError is thrown. */
  abortIncomplete(labelSelector: Record<string, string>, description: string): Promise<string[]>;
  /** Resolves when ProwJobs can be listed; throws with the reason otherwise (unreachable, CRD missing, forbidden). */
  ready(): Promise<void>;
  readonly namespace: string;
}

export interface KubeClientOptions {
  /** Attempts per request for transient errors (429, 500, 502, 503, 504, network, timeout). Default 8, like Prow's createWithRetry. */
  attempts?: number;
  /** First backoff delay; doubles per attempt with jitter. Default 200 ms. */
  baseDelayMs?: number;
  /** Backoff cap. Default 5000 ms. */
  maxDelayMs?: number;
  /** Cap on a server's Retry-After. Default 30000 ms. */
  maxRetryAfterMs?: number;
  /** Per-request timeout. Default 30000 ms. */
  requestTimeoutMs?: number;
  /** Page size of list requests (limit/continue). Default 500. */
  pageSize?: number;
  /** Re-read-and-retry rounds of updateStatus on 409 Conflict. Default 10. */
  conflictAttempts?: number;
  /** For tests. */
  sleep?: (ms: number) => Promise<void>;
}

/** Thrown by abortIncomplete when some jobs could not be aborted; `aborted` lists the ones that were. */
export class AbortIncompleteError extends AggregateError {
  aborted: string[];
  constructor(aborted: string[], errors: unknown[]) {
    super(errors, `failed to abort ${errors.length} prowjob(s): ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}`);
    this.name = 'AbortIncompleteError';
    this.aborted = aborted;
  }
}

/** A failed Kubernetes API call, with the HTTP code and Status reason when there was an answer. */
/** The name of a ProwJob that may be created in `namespace`; both clients refuse the same mistakes. */
function creatableName(pj: ProwJob, namespace: string): string {
  const name = pj.metadata?.name;
  if (!name) throw new Error('create prowjob: metadata.name is required (names are precomputed so retries are idempotent)');
  if (pj.metadata.namespace && pj.metadata.namespace !== namespace)
    throw new Error(`create prowjob ${name}: metadata.namespace ${pj.metadata.namespace} differs from the client's namespace ${namespace}`);
  return name;
}

export class KubeApiError extends Error {
  code: number | undefined;
  reason: string | undefined;
  /** The API server's own words (Status.message), for users: e.g. why an object is invalid. */
  serverMessage: string;
  constructor(message: string, code: number | undefined, reason: string | undefined, cause: unknown, serverMessage = message) {
    super(message, { cause });
    this.name = 'KubeApiError';
    this.code = code;
    this.reason = reason;
    this.serverMessage = serverMessage;
  }

  /**
   * A final answer no retry changes: a 4xx other than a timeout, a conflict (the storage layer's "try again") or a
   * rate limit, e.g. 422 for an invalid object or 403 from an admission webhook.
   */
  get refused(): boolean {
    return this.code !== undefined && this.code >= 400 && this.code < 500 && ![408, 409, 429].includes(this.code);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Shared helpers

function selectorString(labelSelector: Record<string, string>): string {
  return Object.entries(labelSelector)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386 merge patch, as the API server applies it. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return structuredClone(patch);
  const out: Json = isRecord(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (v !== undefined) out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * Equality of JSON as the API server stores it: a key whose value is undefined counts as absent, because
 * JSON.stringify drops it and the server never sees it. A mutate callback may return `url: undefined`; once
 * sent, the re-read status has no such key, and a patch whose response was lost must still count as applied
 * (mergePatch drops such keys in objects, not inside lists). Library deep-equals (node:util isDeepStrictEqual,
 * lodash isEqual) tell `{a: undefined}` and `{}` apart, so this one stays, named for its rule.
 */
function jsonEqualIgnoringUndefined(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqualIgnoringUndefined(x, b[i]));
  if (!isRecord(a) || !isRecord(b)) return false;
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => jsonEqualIgnoringUndefined(a[k], b[k]));
}

const byName = (a: ProwJob, b: ProwJob): number => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0);

async function abortVia(client: Pick<ProwJobClient, 'list' | 'updateStatus'>, labelSelector: Record<string, string>, description: string): Promise<string[]> {
  const selector = { [LABELS.type]: 'presubmit', ...labelSelector };
  const jobs = await client.list(selector);
  const aborted: string[] = [];
  const errors: unknown[] = [];
  for (const job of jobs) {
    if (!shouldAbort(job, selector)) continue;
    try {
      const updated = await client.updateStatus(job.metadata.name, (current) => (shouldAbort(current, selector) ? { state: 'aborted', description } : undefined));
      if (updated) aborted.push(job.metadata.name);
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0) throw new AbortIncompleteError(aborted, errors);
  return aborted;
}

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes

interface ErrorFacts {
  code?: number;
  reason?: string;
  message: string;
  retryAfterMs?: number;
  network: boolean;
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function parseStatusBody(body: unknown): Json | undefined {
  if (isRecord(body)) return body;
  if (typeof body === 'string' && body.trim().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(body);
      return isRecord(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function retryAfterMs(headers: Record<string, string> | undefined, status: Json | undefined): number | undefined {
  const h = headers?.['retry-after'] ?? headers?.['Retry-After'];
  if (h !== undefined) {
    const secs = Number(h);
    if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
    const at = Date.parse(h);
    if (!Number.isNaN(at)) return Math.max(0, at - Date.now());
  }
  const details = status?.['details'];
  const s = isRecord(details) ? details['retryAfterSeconds'] : undefined;
  return typeof s === 'number' && s >= 0 ? s * 1000 : undefined;
}

function errorFacts(e: unknown): ErrorFacts {
  if (e instanceof ApiException) {
    const ex = e as ApiException<unknown>;
    const status = parseStatusBody(ex.body);
    const ra = retryAfterMs(ex.headers, status);
    return {
      code: ex.code,
      ...(typeof status?.['reason'] === 'string' ? { reason: status['reason'] } : {}),
      message: typeof status?.['message'] === 'string' ? status['message'] : `HTTP ${ex.code}`,
      ...(ra !== undefined ? { retryAfterMs: ra } : {}),
      network: false,
    };
  }
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 5; depth++) {
    const c = cur as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    if ((typeof c.code === 'string' && NETWORK_CODES.has(c.code)) || c.name === 'TimeoutError' || c.name === 'AbortError' || c.name === 'SocketError' || c.name === 'ConnectTimeoutError')
      return { message: `${String(c.code ?? c.name)}: ${String(c.message ?? '')}`.trim(), network: true };
    cur = c.cause;
  }
  if (e instanceof TypeError && e.message === 'fetch failed') return { message: 'fetch failed', network: true };
  return { message: e instanceof Error ? e.message : String(e), network: false };
}

const TRANSIENT_CODES = new Set([429, 500, 502, 503, 504]);
const isTransient = (f: ErrorFacts): boolean => f.network || (f.code !== undefined && TRANSIENT_CODES.has(f.code));

function toKubeError(op: string, e: unknown): KubeApiError {
  if (e instanceof KubeApiError) return e;
  const f = errorFacts(e);
  return new KubeApiError(`${op}: ${f.code !== undefined ? `${f.code} ${f.reason ?? ''}: ` : ''}${f.message}`.replace(/\s+:/, ':'), f.code, f.reason, e, f.message);
}

/** Middleware aborting a request that takes longer than `ms`. */
function timeoutOptions(ms: number): ConfigurationOptions<ObservableMiddleware> {
  const mw: ObservableMiddleware = {
    pre: (ctx: RequestContext) => {
      ctx.setSignal(AbortSignal.timeout(ms));
      return new Observable(Promise.resolve(ctx));
    },
    post: (rsp: ResponseContext) => new Observable(Promise.resolve(rsp)),
  };
  return { middleware: [mw], middlewareMergeStrategy: 'append' };
}

export function kubeProwJobClient(kc: KubeConfig, namespace: string, log?: Logger, opts: KubeClientOptions = {}): ProwJobClient {
  const api = kc.makeApiClient(CustomObjectsApi);
  const attempts = Math.max(1, opts.attempts ?? 8);
  const baseDelayMs = opts.baseDelayMs ?? 200;
  const maxDelayMs = opts.maxDelayMs ?? 5000;
  const maxRetryAfterMs = opts.maxRetryAfterMs ?? 30_000;
  const conflictAttempts = Math.max(1, opts.conflictAttempts ?? 10);
  const pageSize = Math.max(1, opts.pageSize ?? 500);
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const reqOpts = timeoutOptions(opts.requestTimeoutMs ?? 30_000);
  const mergePatchOpts = setHeaderOptions('Content-Type', PatchStrategy.MergePatch, reqOpts);
  const base = { group: PROWJOB_GROUP, version: PROWJOB_VERSION, namespace, plural: PROWJOB_PLURAL };
  const server = kc.getCurrentCluster()?.server ?? '(no current cluster)';

  /**
   * Run `fn`, retrying transient failures (p-retry); anything else is rethrown at once. The wait before a retry
   * is the server's Retry-After (capped), else an exponential backoff with jitter; it is taken in
   * onFailedAttempt (p-retry's own wait is 0) because only there is the failure's Retry-After known.
   */
  function withRetry<T>(op: string, name: string, fn: () => Promise<T>, onRetry?: () => void): Promise<T> {
    return pRetry(
      async () => {
        try {
          return await fn();
        } catch (e) {
          // AbortError: p-retry stops and rejects with `e` itself.
          throw e instanceof Error && !isTransient(errorFacts(e)) ? new AbortError(e) : e;
        }
      },
      {
        retries: attempts - 1,
        minTimeout: 0,
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft === 0) return;
          const f = errorFacts(error);
          onRetry?.();
          const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (attemptNumber - 1));
          const delay = f.retryAfterMs !== undefined ? Math.min(maxRetryAfterMs, f.retryAfterMs) : backoff / 2 + Math.random() * (backoff / 2);
          log?.warn({ op, prowjob: name || undefined, attempt: attemptNumber, code: f.code, reason: f.reason, err: f.message, delayMs: Math.round(delay) }, 'kubernetes request failed, retrying');
          await sleep(delay);
        },
      },
    );
  }

  const client: ProwJobClient = {
    namespace,

    async create(pj) {
      const name = creatableName(pj, namespace);
      const body = structuredClone(pj);
      body.metadata.namespace = namespace;
      for (const f of ['resourceVersion', 'uid', 'creationTimestamp', 'generation', 'managedFields']) delete body.metadata[f];
      try {
        return await withRetry('create', name, async () => {
          try {
            await api.createNamespacedCustomObject({ ...base, body }, reqOpts);
            return 'created' as const;
          } catch (e) {
            const f = errorFacts(e);
            // AlreadyExists: an earlier attempt (or an earlier delivery) created it.
            if (f.code === 409 && (f.reason === 'AlreadyExists' || f.reason === undefined)) return 'exists' as const;
            throw e;
          }
        });
      } catch (e) {
        throw toKubeError(`create prowjob ${namespace}/${name}`, e);
      }
    },

    async get(name) {
      try {
        return await withRetry('get', name, async () => {
          try {
            return (await api.getNamespacedCustomObject({ ...base, name }, reqOpts)) as ProwJob;
          } catch (e) {
            if (errorFacts(e).code === 404) return undefined;
            throw e;
          }
        });
      } catch (e) {
        throw toKubeError(`get prowjob ${namespace}/${name}`, e);
      }
    },

    async list(labelSelector) {
      const selector = selectorString(labelSelector);
      const items: ProwJob[] = [];
      let cont: string | undefined;
      try {
        do {
          const page = (await withRetry('list', '', () =>
            api.listNamespacedCustomObject({ ...base, labelSelector: selector, limit: pageSize, ...(cont ? { _continue: cont } : {}) }, reqOpts),
          )) as { items?: ProwJob[]; metadata?: { continue?: string } };
          items.push(...(page.items ?? []));
          cont = page.metadata?.continue || undefined;
        } while (cont);
      } catch (e) {
        throw toKubeError(`list prowjobs in ${namespace} (${selector || 'all'})`, e);
      }
      return items.sort(byName);
    },

    async updateStatus(name, mutate) {
      // A patch whose response was lost (transient error, then 409 on the retry because it did apply) is
      // recognised on the re-read: applying it again would change nothing.
      let maybeApplied: Partial<ProwJobStatus> | undefined;
      for (let round = 1; round <= conflictAttempts; round++) {
        const current = await client.get(name);
        if (!current) return undefined;
        if (maybeApplied && jsonEqualIgnoringUndefined(mergePatch(current.status ?? {}, maybeApplied), current.status ?? {})) return current;
        maybeApplied = undefined;
        const status = mutate(structuredClone(current));
        if (!status) return undefined;
        const patch = { metadata: { resourceVersion: current.metadata.resourceVersion }, status };
        let retried = false;
        try {
          return (await withRetry(
            'patch-status',
            name,
            () => api.patchNamespacedCustomObject({ ...base, name, body: patch }, mergePatchOpts),
            () => {
              retried = true;
            },
          )) as ProwJob;
        } catch (e) {
          const f = errorFacts(e);
          if (f.code === 404) return undefined;
          if (f.code === 409) {
            if (retried) maybeApplied = status;
            log?.debug({ prowjob: name, round }, 'prowjob changed concurrently, re-reading');
            continue;
          }
          throw toKubeError(`update prowjob status ${namespace}/${name}`, e);
        }
      }
      throw new KubeApiError(`update prowjob status ${namespace}/${name}: still conflicting after ${conflictAttempts} attempts`, 409, 'Conflict', undefined);
    },

    abortIncomplete(labelSelector, description) {
      return abortVia(client, labelSelector, description);
    },

    async ready() {
      try {
        await api.listNamespacedCustomObject({ ...base, limit: 1 }, reqOpts);
      } catch (e) {
        const f = errorFacts(e);
        let why: string;
        if (f.code === 404) why = `the ProwJob CRD (${PROWJOB_PLURAL}.${PROWJOB_GROUP}/${PROWJOB_VERSION}) is not installed`;
        else if (f.code === 401 || f.code === 403) why = `not allowed to list prowjobs in namespace ${namespace}: ${f.message}`;
        else if (f.network) why = `API server unreachable: ${f.message}`;
        else why = f.code !== undefined ? `${f.code} ${f.reason ?? ''}: ${f.message}` : f.message;
        throw new KubeApiError(`kubernetes ${server}: ${why}`, f.code, f.reason, e);
      }
    },
  };
  return client;
}

// ---------------------------------------------------------------------------------------------------------------
// Files

const FILE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** ProwJobs as YAML files `<dir>/<name>.yaml`, for running without a cluster. Single process: updates are
 *  serialised per name in memory, and files are replaced atomically (write + rename; create via link). */
export function fileProwJobClient(dir: string, namespace: string): ProwJobClient {
  const locks = new Map<string, Promise<unknown>>();
  const pathOf = (name: string): string => {
    if (!FILE_NAME.test(name) || name.length > 253) throw new Error(`invalid prowjob name ${JSON.stringify(name)}`);
    return join(dir, `${name}.yaml`);
  };
  const read = async (name: string): Promise<ProwJob | undefined> => {
    try {
      return parseYaml(await readFile(pathOf(name), 'utf8')) as ProwJob;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  };
  const tmpPath = (name: string): string => {
    pathOf(name); // validates the name
    return join(dir, `.${name}.${randomUUID()}.tmp`);
  };
  const withLock = <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const prev = locks.get(name) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    locks.set(name, settled);
    void settled.then(() => {
      if (locks.get(name) === settled) locks.delete(name);
    });
    return next;
  };

  const client: ProwJobClient = {
    namespace,

    async create(pj) {
      const name = creatableName(pj, namespace);
      await mkdir(dir, { recursive: true });
      const body = structuredClone(pj);
      body.metadata.namespace = namespace;
      body.metadata.uid = randomUUID();
      body.metadata.resourceVersion = '1';
      body.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      body.metadata['generation'] = 1;
      const tmp = tmpPath(name);
      await writeFile(tmp, stringifyYaml(body));
      try {
        await link(tmp, pathOf(name)); // atomic create-if-absent with the full content
        return 'created';
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
        throw e;
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
    },

    get: (name) => read(name),

    async list(labelSelector) {
      let files: string[];
      try {
        files = await readdir(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw e;
      }
      const jobs: ProwJob[] = [];
      for (const f of files) {
        if (!f.endsWith('.yaml') || f.startsWith('.')) continue;
        const pj = await read(f.slice(0, -'.yaml'.length));
        if (pj && labelsMatch(labelSelector, pj.metadata?.labels)) jobs.push(pj);
      }
      return jobs.sort(byName);
    },

    updateStatus(name, mutate) {
      return withLock(name, async () => {
        const current = await read(name);
        if (!current) return undefined;
        const status = mutate(structuredClone(current));
        if (!status) return undefined;
        const next = structuredClone(current);
        next.status = mergePatch(current.status, status) as ProwJobStatus;
        next.metadata.resourceVersion = String(Number(current.metadata.resourceVersion ?? '0') + 1);
        const tmp = tmpPath(name);
        await writeFile(tmp, stringifyYaml(next));
        await rename(tmp, pathOf(name));
        return next;
      });
    },

    abortIncomplete(labelSelector, description) {
      return abortVia(client, labelSelector, description);
    },

    async ready() {
      await mkdir(dir, { recursive: true });
      await access(dir, constants.W_OK);
    },
  };
  return client;
}
