// The guest tracer's connection to the node collector: JSON lines over TCP, both ways. It reconnects when the
// connection drops and then sends its hello again first, so the collector continues the same guest. Lines written
// while disconnected wait in a bounded buffer; beyond it they are dropped and counted (the guest reports them as
// lost), so a collector that is gone cannot make the tracer eat the guest's memory.
import { connect, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** Longest line a peer may send; a guest's records are a few KiB. */
const MAX_LINE_CHARS = 1 << 20;

/**
 * Calls `onLine` for every non-empty line a socket receives; `false` from it stops reading. A peer that sends a
 * line longer than `maxLine` without its newline is cut off, so it cannot make the reader hold an endless line.
 */
export function readLines(s: Socket, onLine: (line: string) => boolean | void, maxLine = MAX_LINE_CHARS): void {
  let rest = '';
  let stopped = false;
  s.setEncoding('utf8');
  s.on('data', (chunk: string) => {
    if (stopped) return;
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (line.trim() !== '' && onLine(line) === false) { stopped = true; return; }
    }
    if (rest.length > maxLine) {
      stopped = true;
      rest = '';
      s.destroy();
    }
  });
}

export interface LinkOptions {
  host: string;
  port: number;
  /** Lines (without newline) received from the collector. */
  onLine: (line: string) => void;
  log?: (line: string) => void;
  /** Bytes kept while the collector is unreachable or slow. */
  maxBufferedBytes?: number;
  /** Longest wait between connection attempts. */
  maxBackoffMs?: number;
}

export class CollectorLink {
  readonly #o: LinkOptions;
  #socket: Socket | undefined;
  #connected = false;
  #closed = false;
  /** sent first on every connection */
  #hello: string | undefined;
  #pending: string[] = [];
  #pendingBytes = 0;
  #dropped = 0;
  #everConnected: Promise<void>;
  #onFirstConnect!: () => void;
  #loop: Promise<void> | undefined;
  #reconnects = 0;

  constructor(o: LinkOptions) {
    this.#o = o;
    this.#everConnected = new Promise((resolve) => { this.#onFirstConnect = resolve; });
  }

  /** Lines the collector never got (buffer full). */
  get dropped(): number {
    return this.#dropped;
  }

  get reconnects(): number {
    return this.#reconnects;
  }

  /** Starts connecting (and reconnecting until closed); resolves once connected the first time. */
  start(): Promise<void> {
    this.#loop ??= this.#run();
    return this.#everConnected;
  }

  /** The line every connection starts with. */
  setHello(line: string): void {
    this.#hello = line;
    if (this.#connected) this.#socket!.write(`${line}\n`);
  }

  send(line: string): void {
    if (this.#closed) return;
    const max = this.#o.maxBufferedBytes ?? 64 * 1024 * 1024;
    if (this.#connected) {
      // a collector that cannot keep up: what does not fit is lost, and counted
      if (this.#socket!.writableLength < max) this.#socket!.write(`${line}\n`);
      else this.#dropped++;
      return;
    }
    if (this.#pendingBytes + line.length > max) {
      this.#dropped++;
      return;
    }
    this.#pending.push(line);
    this.#pendingBytes += line.length + 1;
  }

  /** Sends what is buffered, ends the connection and stops reconnecting. Resolves when the collector has it all. */
  async close(timeoutMs = 10_000): Promise<void> {
    this.#closed = true;
    const s = this.#socket;
    if (!s || !this.#connected) { s?.destroy(); return; }
    this.#flushPending(s);
    await Promise.race([
      new Promise<void>((resolve) => { s.once('close', () => resolve()); s.end(); }),
      delay(timeoutMs).then(() => { s.destroy(); }),
    ]);
  }

  #flushPending(s: Socket): void {
    if (this.#pending.length === 0) return;
    s.write(this.#pending.join('\n') + '\n');
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  async #run(): Promise<void> {
    let backoff = 100;
    let warned = false;
    while (!this.#closed) {
      const ok = await this.#connectOnce();
      if (this.#closed) return;
      if (ok) {
        backoff = 100;
        warned = false;
        await this.#whileConnected();
        if (this.#closed) return;
        this.#reconnects++;
        this.#o.log?.(`connection to the collector ${this.#o.host}:${this.#o.port} lost; reconnecting`);
      } else if (!warned) {
        this.#o.log?.(`collector ${this.#o.host}:${this.#o.port} not reachable yet; retrying`);
        warned = true;
      }
      await delay(backoff);
      backoff = Math.min(backoff * 2, this.#o.maxBackoffMs ?? 5000);
    }
  }

  #connectOnce(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect({ host: this.#o.host, port: this.#o.port });
      s.setNoDelay(true);
      const fail = (): void => { s.destroy(); resolve(false); };
      s.once('error', fail);
      s.once('connect', () => {
        s.off('error', fail);
        this.#socket = s;
        this.#connected = true;
        if (this.#hello) s.write(`${this.#hello}\n`);
        this.#flushPending(s);
        this.#onFirstConnect();
        resolve(true);
      });
    });
  }

  #whileConnected(): Promise<void> {
    const s = this.#socket!;
    return new Promise((resolve) => {
      readLines(s, (line) => this.#o.onLine(line));
      s.on('error', () => { /* 'close' follows */ });
      s.once('close', () => {
        this.#connected = false;
        resolve();
      });
    });
  }
}
