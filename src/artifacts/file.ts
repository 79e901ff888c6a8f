// file:// artifacts: a directory laid out exactly like the bucket (pr-logs/pull/..., logs/...), as Prow's
// pod-utils write it in local mode.
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ArtifactNotFoundError, joinKey, type ArtifactStore } from './store.ts';

export class FileArtifactStore implements ArtifactStore {
  readonly location: string;
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
    this.location = `file://${root}`;
  }

  async read(key: string): Promise<Buffer> {
    try {
      return await readFile(join(this.#root, joinKey('', key)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') {
        throw new ArtifactNotFoundError(this.location, key);
      }
      throw err;
    }
  }

  async stream(key: string): Promise<AsyncIterable<Uint8Array>> {
    if (!(await this.exists(key))) throw new ArtifactNotFoundError(this.location, key);
    return createReadStream(join(this.#root, joinKey('', key)), { highWaterMark: 1 << 20 });
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(join(this.#root, joinKey('', key)))).isFile();
    } catch {
      return false;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.isFile()) out.push(relative(this.#root, p).split(sep).join('/'));
      }
    };
    // A key prefix, as in a bucket: `a/b` matches `a/b.txt` and `a/b/c`; `a/b/` only the latter.
    const cleaned = joinKey('', prefix);
    const isDir = prefix.endsWith('/') && cleaned !== '';
    const slash = cleaned.lastIndexOf('/');
    const dir = isDir ? cleaned : slash >= 0 ? cleaned.slice(0, slash) : '';
    const match = isDir ? `${cleaned}/` : cleaned;
    await walk(join(this.#root, dir));
    return out.filter((k) => k.startsWith(match)).sort();
  }
}
