// Loading the cluster's OpenAPI v2 document: a file (`.json` or gzip, e.g. ../shared/kubernetes/
// openapi-v2-swagger.json.gz), an http(s) URL, or `cluster` (GET /openapi/v2 with the current kubeconfig). In the
// bot, the spec a traced job captured next to its audit log (`katabot/openapi-v2.json.gz` among its artifacts,
// docs/audit-logs.md) is the truth for its CRDs and versions; KATABOT_OPENAPI is the fallback. Each distinct
// document is indexed once and kept in a small LRU cache, keyed by the hash of its content.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { gunzipSync } from 'node:zlib';
import { Lru } from 'toad-cache';
import { buildOpenApiIndex, type OpenApiIndex } from '../trace/openapi-index.ts';
import { BehaviorInputError } from './read.ts';

/**
 * A spec among a job's artifacts: `openapi-v2.json` (what `kubectl get --raw /openapi/v2` prints), gzip ok; also
 * `openapi.json` and `swagger.json`. The one under `katabot/` wins (specArtifact).
 */
const SPEC_ARTIFACT = /(^|\/)(openapi-v2|openapi|swagger)\.json(\.gz)?$/i;

/** The spec of a run among its artifact keys: the shortest path under `katabot/` first, then the shortest. */
export function specArtifact(keys: readonly string[]): string | undefined {
  const specs = keys.filter((k) => SPEC_ARTIFACT.test(k));
  const rank = (k: string) => (/(^|\/)katabot\//.test(k) ? 0 : 1);
  return specs.sort((a, b) => rank(a) - rank(b) || a.length - b.length || (a < b ? -1 : 1))[0];
}

function gunzipMaybe(buf: Buffer): Buffer {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf;
}

export function openApiFromBuffer(buf: Buffer, name: string): OpenApiIndex {
  return indexOf(gunzipMaybe(buf), name);
}

function indexOf(raw: Buffer, name: string): OpenApiIndex {
  let spec: unknown;
  try {
    spec = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new BehaviorInputError(`${name}: not JSON: ${(err as Error).message}`);
  }
  try {
    return buildOpenApiIndex(spec);
  } catch (err) {
    throw new BehaviorInputError(`${name}: ${(err as Error).message}`);
  }
}

async function fromCluster(): Promise<Buffer> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new BehaviorInputError('--openapi cluster: no current cluster in the kubeconfig');
  const url = new URL('/openapi/v2', cluster.server);
  const opts: RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  return new Promise<Buffer>((resolve, reject) => {
    const req = httpsRequest(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) reject(new BehaviorInputError(`--openapi cluster: ${url.href} answered ${res.statusCode}`));
        else resolve(Buffer.concat(chunks));
      });
      res.on('error', reject);
    });
    req.on('error', (err) => reject(new BehaviorInputError(`--openapi cluster: ${err.message}`)));
    req.end();
  });
}

/** Loads and indexes a spec; failures are BehaviorInputError (one line for the CLI). */
export async function loadOpenApi(source: string): Promise<OpenApiIndex> {
  if (source === 'cluster') return openApiFromBuffer(await fromCluster(), 'cluster /openapi/v2');
  if (/^https?:\/\//.test(source)) {
    let res: Response;
    try {
      res = await fetch(source);
    } catch (err) {
      throw new BehaviorInputError(`${source}: ${(err as Error).message}`);
    }
    if (!res.ok) throw new BehaviorInputError(`${source}: HTTP ${res.status}`);
    return openApiFromBuffer(Buffer.from(await res.arrayBuffer()), source);
  }
  let buf: Buffer;
  try {
    buf = await readFile(source);
  } catch {
    throw new BehaviorInputError(`${source}: no such file`);
  }
  return openApiFromBuffer(buf, source);
}

/**
 * Indexes each distinct spec once: the index of a document with the same content (gzip or not) is reused. At most
 * `max` indexes are kept, least recently used out first (an index of Kubernetes' spec is a few MB).
 */
export class OpenApiCache {
  readonly #indexes: Lru<OpenApiIndex>;
  #built = 0;

  constructor(max = 4) {
    this.#indexes = new Lru<OpenApiIndex>(max);
  }

  /** The index of a spec document (JSON, gzip ok); a malformed one is a BehaviorInputError naming it. */
  index(buf: Buffer, name: string): OpenApiIndex {
    const raw = gunzipMaybe(buf);
    const hash = createHash('sha256').update(raw).digest('hex');
    const hit = this.#indexes.get(hash);
    if (hit) return hit;
    const index = indexOf(raw, name);
    this.#built++;
    this.#indexes.set(hash, index);
    return index;
  }

  /** How many documents were indexed (not served from the cache). */
  get built(): number {
    return this.#built;
  }

  get size(): number {
    return this.#indexes.size;
  }
}

/**
 * KATABOT_OPENAPI as an index provider: loaded once when first needed. A spec that cannot be loaded is reported
 * to `onError` and gives no index (reports then key API calls by verb and resource); the next call tries again.
 */
export function openApiFallback(source: string | undefined, onError: (err: Error) => void): (() => Promise<OpenApiIndex | undefined>) | undefined {
  if (!source) return undefined;
  let loading: Promise<OpenApiIndex | undefined> | undefined;
  return () => {
    loading ??= loadOpenApi(source).catch((err: unknown) => {
      loading = undefined;
      onError(err as Error);
      return undefined;
    });
    return loading;
  };
}
