// gs:// artifacts through the official @google-cloud/storage client.
import { Storage, type StorageOptions } from '@google-cloud/storage';
import { ArtifactNotFoundError, joinKey, type ArtifactStore } from './store.ts';

export interface GcsOptions {
  /** Prow's gcs-credentials secret: a service-account JSON key file. Default: application default credentials. */
  keyFilename?: string;
  /** For emulators (fake-gcs-server); default: the real GCS API. */
  apiEndpoint?: string;
  projectId?: string;
}

export class GcsArtifactStore implements ArtifactStore {
  readonly location: string;
  readonly #storage: Storage;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(bucket: string, prefix: string, options: GcsOptions = {}) {
    this.#bucket = bucket;
    this.#prefix = prefix;
    this.location = `gs://${bucket}${prefix ? `/${prefix}` : ''}`;
    const config: StorageOptions = {};
    if (options.keyFilename) config.keyFilename = options.keyFilename;
    if (options.apiEndpoint) config.apiEndpoint = options.apiEndpoint;
    if (options.projectId) config.projectId = options.projectId;
    this.#storage = new Storage(config);
  }

  async read(key: string): Promise<Buffer> {
    try {
      const [data] = await this.#storage.bucket(this.#bucket).file(joinKey(this.#prefix, key)).download();
      return data;
    } catch (err) {
      if ((err as { code?: number }).code === 404) throw new ArtifactNotFoundError(this.location, key);
      throw err;
    }
  }

  async stream(key: string): Promise<AsyncIterable<Uint8Array>> {
    const file = this.#storage.bucket(this.#bucket).file(joinKey(this.#prefix, key));
    // The read stream reports a missing object only once read; ask first so callers get ArtifactNotFoundError.
    if (!(await this.exists(key))) throw new ArtifactNotFoundError(this.location, key);
    return file.createReadStream();
  }

  async exists(key: string): Promise<boolean> {
    const [exists] = await this.#storage.bucket(this.#bucket).file(joinKey(this.#prefix, key)).exists();
    return exists;
  }

  async list(prefix: string): Promise<string[]> {
    const full = joinKey(this.#prefix, prefix) + (prefix.endsWith('/') ? '/' : '');
    const [files] = await this.#storage.bucket(this.#bucket).getFiles({ prefix: full });
    return files.map((f) => (this.#prefix ? f.name.slice(this.#prefix.length + 1) : f.name)).sort();
  }
}
