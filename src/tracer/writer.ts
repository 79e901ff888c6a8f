// JSONL trace writer: one canonical record a line, buffered, directories created on open. The path `-` is
// standard output (an instance's trace is its pod log).
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { serializeRecord, type TraceRecord } from '../trace/format.ts';

const FLUSH_BYTES = 64 * 1024;

export class TraceWriter {
  readonly path: string;
  readonly #stream: Writable;
  #buffer: string[] = [];
  #size = 0;
  #closed = false;

  constructor(path: string) {
    this.path = path;
    if (path === '-') {
      this.#stream = process.stdout;
      return;
    }
    mkdirSync(dirname(path), { recursive: true });
    this.#stream = createWriteStream(path, { encoding: 'utf8' });
  }

  write(record: TraceRecord): void {
    if (this.#closed) throw new Error('trace writer is closed');
    const line = serializeRecord(record) + '\n';
    this.#buffer.push(line);
    this.#size += line.length;
    if (this.#size >= FLUSH_BYTES) this.flush();
  }

  flush(): void {
    if (this.#buffer.length === 0) return;
    this.#stream.write(this.#buffer.join(''));
    this.#buffer = [];
    this.#size = 0;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    if (this.path === '-') {
      // standard output stays open: wait until what was written is handed to the OS
      await new Promise<void>((resolve) => (this.#stream.write('') ? resolve() : this.#stream.once('drain', () => resolve())));
      return;
    }
    await new Promise<void>((resolve, reject) => this.#stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }

  /** Removes the file (a trace that never started is not a trace). */
  discard(): void {
    if (this.path === '-') return;
    rmSync(this.path, { force: true });
  }
}
