// Loading the cluster's OpenAPI v2 document: a file (`.json` or gzip, e.g. ../shared/kubernetes/
// openapi-v2-swagger.json.gz), an http(s) URL, or `cluster` (GET /openapi/v2 with the current kubeconfig).
import { readFile } from 'node:fs/promises';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { gunzipSync } from 'node:zlib';
import { buildOpenApiIndex, type OpenApiIndex } from '../trace/openapi.ts';
import { BehaviorInputError } from './read.ts';

function gunzipMaybe(buf: Buffer): Buffer {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf;
}

export function openApiFromBuffer(buf: Buffer, name: string): OpenApiIndex {
  let spec: unknown;
  try {
    spec = JSON.parse(gunzipMaybe(buf).toString('utf8'));
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
