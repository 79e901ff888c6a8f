// A file parsed once and again whenever its mtime or size changes (checked at most every few seconds); a broken
// edit keeps the last good version. Kata's required-tests.yaml and maintainers.yml are read this way.
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from 'pino';

/** A file parsed once and again whenever its mtime or size changes; a broken edit keeps the last good version. */
export class WatchedFile<T> {
  readonly #path: string | undefined;
  readonly #parse: (text: string, path: string) => T;
  readonly #log: Logger;
  readonly #checkMs: number;
  #value: T;
  #stamp = '';
  #checked = 0;
  #pending: Promise<T> | undefined;

  constructor(path: string | undefined, empty: T, parse: (text: string, path: string) => T, log: Logger, checkMs: number) {
    this.#path = path;
    this.#value = empty;
    this.#parse = parse;
    this.#log = log;
    this.#checkMs = checkMs;
  }

  async get(): Promise<T> {
    if (!this.#path || Date.now() - this.#checked < this.#checkMs) return this.#value;
    this.#pending ??= this.#reload().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #reload(): Promise<T> {
    const path = this.#path!;
    this.#checked = Date.now();
    try {
      const st = await stat(path);
      const stamp = `${st.mtimeMs}:${st.size}`;
      if (stamp === this.#stamp) return this.#value;
      this.#value = this.#parse(await readFile(path, 'utf8'), path);
      this.#stamp = stamp;
      this.#log.info({ file: path }, 'dashboard: loaded');
    } catch (err) {
      this.#log.warn({ file: path, err: (err as Error).message }, 'dashboard: cannot load; keeping the last good version');
    }
    return this.#value;
  }
}

