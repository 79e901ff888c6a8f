// Storage locations: gs://bucket[/prefix], s3://bucket[/prefix], file:///dir.

export interface StorageLocation {
  scheme: 'gs' | 's3' | 'file';
  /** Bucket name, or the root directory for file://. */
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing slash ('' for none). */
  prefix: string;
}

export function parseStorageUrl(url: string): StorageLocation {
  const m = /^(gs|s3|file):\/\/(.*)$/.exec(url);
  if (!m) throw new Error(`unsupported artifact location ${JSON.stringify(url)}: use gs://, s3:// or file://`);
  const scheme = m[1] as StorageLocation['scheme'];
  const rest = m[2]!;
  if (scheme === 'file') {
    if (!rest.startsWith('/')) throw new Error(`file:// needs an absolute path: ${url}`);
    return { scheme, bucket: decodeURIComponent(rest.replace(/\/+$/, '') || '/'), prefix: '' };
  }
  const [bucket, ...path] = rest.split('/');
  if (!bucket) throw new Error(`no bucket in ${url}`);
  return { scheme, bucket, prefix: path.join('/').replace(/^\/+|\/+$/g, '') };
}

/** Prow's gcs_configuration.bucket is `gs://b`, `s3://b` or a bare GCS bucket name. */
export function storageUrlFromBucket(bucket: string): string {
  return /^(gs|s3|file):\/\//.test(bucket) ? bucket : `gs://${bucket}`;
}
