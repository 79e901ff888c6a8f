// JSONL trace writer: one canonical record a line, buffered, directories created on open.
import { createWriteStream, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { serializeRecord, type TraceRecord } from '../trace/format.ts';

const FLUSH_BYTES = 64 * 1024;

export class TraceWriter {
  readonly path: string;
  readonly #stream: WriteStream;
  #buffer: string[] = [];
  #size = 0;
  #closed = false;

  constructor(path: string) {
    this.path = path;
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
    await new Promise<void>((resolve, reject) => this.#stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }

  /** Removes the file (a trace that never started is not a trace). */
  discard(): void {
    rmSync(this.path, { force: true });
  }
}
