// s3:// artifacts through the official AWS SDK, against AWS or any S3-compatible server (MinIO, Ceph, s3rver).
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { ArtifactNotFoundError, joinKey, type ArtifactStore } from './store.ts';

export interface S3Options {
  /** Custom endpoint for S3-compatible servers, e.g. http://minio.prow.svc:9000. */
  endpoint?: string;
  region?: string;
  /** Path-style URLs (bucket in the path); the default whenever an endpoint is given. */
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Prow's s3-credentials secret file: {"region", "access_key", "secret_key", "endpoint", "s3_force_path_style", "insecure"}. */
  credentialsFile?: string;
}

interface ProwS3Credentials {
  region?: string;
  access_key?: string;
  secret_key?: string;
  endpoint?: string;
  insecure?: boolean;
  s3_force_path_style?: boolean;
}

export function s3ClientConfig(o: S3Options): S3ClientConfig {
  let file: ProwS3Credentials = {};
  if (o.credentialsFile) file = JSON.parse(readFileSync(o.credentialsFile, 'utf8')) as ProwS3Credentials;
  let endpoint = o.endpoint ?? file.endpoint;
  if (endpoint && !/^https?:\/\//.test(endpoint)) endpoint = `${file.insecure ? 'http' : 'https'}://${endpoint}`;
  const config: S3ClientConfig = { region: o.region ?? file.region ?? process.env['AWS_REGION'] ?? 'us-east-1' };
  if (endpoint) config.endpoint = endpoint;
  config.forcePathStyle = o.forcePathStyle ?? file.s3_force_path_style ?? endpoint !== undefined;
  const credentials = o.credentials ?? (file.access_key && file.secret_key ? { accessKeyId: file.access_key, secretAccessKey: file.secret_key } : undefined);
  if (credentials) config.credentials = credentials;
  return config;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

export class S3ArtifactStore implements ArtifactStore {
  readonly location: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(bucket: string, prefix: string, options: S3Options = {}) {
    this.#bucket = bucket;
    this.#prefix = prefix;
    this.location = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
    this.#client = new S3Client(s3ClientConfig(options));
  }

  async read(key: string): Promise<Buffer> {
    try {
      const r = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: joinKey(this.#prefix, key) }));
      if (!r.Body) return Buffer.alloc(0);
      return Buffer.from(await r.Body.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) throw new ArtifactNotFoundError(this.location, key);
      throw err;
    }
  }

  async stream(key: string): Promise<AsyncIterable<Uint8Array>> {
    try {
      const r = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: joinKey(this.#prefix, key) }));
      // In Node the SDK's body is a Readable (an async iterable of Buffers).
      return (r.Body as AsyncIterable<Uint8Array> | undefined) ?? (async function* () {})();
    } catch (err) {
      if (isNotFound(err)) throw new ArtifactNotFoundError(this.location, key);
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: joinKey(this.#prefix, key) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const full = joinKey(this.#prefix, prefix) + (prefix.endsWith('/') ? '/' : '');
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.#client.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: full, ContinuationToken: token }));
      for (const o of r.Contents ?? []) if (o.Key) out.push(this.#prefix ? o.Key.slice(this.#prefix.length + 1) : o.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  destroy(): void {
    this.#client.destroy();
  }
}
