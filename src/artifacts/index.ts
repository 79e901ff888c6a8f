// Artifact storage: open a job's blob storage (gs://, s3://, file://) and read katabot's trace from it.
import { parseTrace, type Trace } from '../trace/format.ts';
import { FileArtifactStore } from './file.ts';
import { GcsArtifactStore, type GcsOptions } from './gcs.ts';
import { traceArtifactPath, type JobRef, type PathOptions } from './paths.ts';
import { S3ArtifactStore, type S3Options } from './s3.ts';
import type { ArtifactStore } from './store.ts';
import { parseStorageUrl } from './url.ts';

export { ArtifactNotFoundError, type ArtifactStore } from './store.ts';
export { jobArtifacts, jobBuildPath, traceArtifactPath, type JobRef, type PathOptions } from './paths.ts';
export { parseStorageUrl, storageUrlFromBucket } from './url.ts';

export interface StoreOptions {
  s3?: S3Options;
  gcs?: GcsOptions;
}

export function openArtifactStore(url: string, options: StoreOptions = {}): ArtifactStore {
  const loc = parseStorageUrl(url);
  switch (loc.scheme) {
    case 'file': return new FileArtifactStore(loc.bucket);
    case 's3': return new S3ArtifactStore(loc.bucket, loc.prefix, options.s3);
    case 'gs': return new GcsArtifactStore(loc.bucket, loc.prefix, options.gcs);
  }
}

/** Reads and parses the trace a traced job uploaded. Throws ArtifactNotFoundError when the job has none. */
export async function readJobTrace(store: ArtifactStore, job: JobRef, paths: PathOptions = {}): Promise<Trace> {
  const text = (await store.read(traceArtifactPath(job, paths))).toString('utf8');
  return parseTrace(text);
}
