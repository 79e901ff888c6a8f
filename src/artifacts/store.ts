// The storage adapter interface the rest of katabot reads artifacts through.

export interface ArtifactStore {
  /** e.g. `s3://kata-ci/prefix`; keys are relative to it. */
  readonly location: string;
  read(key: string): Promise<Buffer>;
  /** The object's bytes as a stream, for files too large to hold (JUnit, traces). */
  stream(key: string): Promise<AsyncIterable<Uint8Array>>;
  exists(key: string): Promise<boolean>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
}

export class ArtifactNotFoundError extends Error {
  readonly key: string;
  constructor(location: string, key: string) {
    super(`no artifact ${key} in ${location}`);
    this.name = 'ArtifactNotFoundError';
    this.key = key;
  }
}

/** Joins a store prefix and a key; rejects keys that climb out of the prefix. */
export function joinKey(prefix: string, key: string): string {
  const parts = key.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new Error(`artifact key ${JSON.stringify(key)} must not contain ..`);
  return [prefix, ...parts].filter((p) => p !== '').join('/');
}
