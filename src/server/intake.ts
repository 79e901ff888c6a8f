// Webhook intake: the hot path. Plain node:http (no framework) because every delivery passes through it:
// read the raw body within a limit, verify the HMAC before parsing anything, persist what needs work, answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { WebhookQueue } from '../adapters/queue.ts';
import type { Metrics } from '../adapters/metrics.ts';
import { verifySignature } from './signature.ts';

const WEBHOOK_PATHS: ReadonlySet<string> = new Set(['/', '/api/github/webhooks', '/hook']);

export interface IntakeDeps {
  secrets: () => readonly string[];
  queue: WebhookQueue;
  metrics: Metrics;
  log: Logger;
  maxBodyBytes: number;
  /** Events some handler registers for; others are acknowledged and dropped after the signature check. */
  handledEvents: ReadonlySet<string>;
  /**
   * Whether a delivery of a handled event needs any work (src/plan/deliveries.ts), given its verified raw body.
   * Those that don't are acknowledged without being persisted; when it cannot tell (it throws: a body that is not
   * JSON), the delivery is persisted.
   */
  needsWork?: (event: string, body: Buffer) => boolean | Promise<boolean>;
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export function isWebhookRequest(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const path = (req.url ?? '/').split('?', 1)[0]!;
  return WEBHOOK_PATHS.has(path);
}

export function createIntake(deps: IntakeDeps) {
  const handled = deps.handledEvents;
  return async function intake(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const event = header(req, 'x-github-event');
    const delivery = header(req, 'x-github-delivery');
    let result = 'accepted';
    try {
      if (!event || !delivery) throw new HttpError(400, 'missing X-GitHub-Event or X-GitHub-Delivery header');
      const type = (header(req, 'content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase();
      if (type !== 'application/json') throw new HttpError(415, 'content-type must be application/json');
      const body = await readBody(req, deps.maxBodyBytes);
      if (!verifySignature(deps.secrets(), body, header(req, 'x-hub-signature-256'))) {
        throw new HttpError(401, 'invalid or missing X-Hub-Signature-256');
      }
      if (!handled.has(event)) {
        result = 'ignored';
        return reply(res, 200, 'Event ignored: katabot does not handle it.');
      }
      if (deps.needsWork && !(await needsWork(deps.needsWork, event, body))) {
        result = 'no_work';
        return reply(res, 200, 'Event received; it needs no work.');
      }
      try {
        await deps.queue.enqueue({ id: delivery, name: event, body, receivedAt: Date.now() });
      } catch (err) {
        deps.log.warn({ delivery, err: (err as Error).message }, 'cannot persist webhook; answering 503');
        throw new HttpError(503, 'cannot persist the event right now; please redeliver');
      }
      reply(res, 200, 'Event received. Have a nice day.');
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      result = resultFor(status);
      if (status === 500) deps.log.error({ err, delivery }, 'intake failed');
      reply(res, status, err instanceof HttpError ? err.message : 'internal error');
    } finally {
      deps.metrics.webhooks.inc({ event: event ?? 'unknown', result });
      deps.metrics.intakeSeconds.observe({ result }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}

async function needsWork(filter: NonNullable<IntakeDeps['needsWork']>, event: string, body: Buffer): Promise<boolean> {
  try {
    return await filter(event, body);
  } catch {
    // Not JSON, or the filter could not decide: persist, and let the worker say what is wrong with it.
    return true;
  }
}

function resultFor(status: number): string {
  switch (status) {
    case 401:
      return 'unauthorized';
    case 413:
      return 'too_large';
    case 503:
      return 'unavailable';
    default:
      return status >= 500 ? 'error' : 'invalid';
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function reply(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: status === 413 ? 'close' : 'keep-alive' });
  res.end(text + '\n');
}

/** Reads the body, refusing more than `limit` bytes before buffering them. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    req.resume();
    throw new HttpError(413, `body larger than ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw new HttpError(413, `body larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}
