// The intake's HTTP contract, against a real node:http server and a queue that records what it is given.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import type { InboundDelivery, WebhookQueue } from '../../../src/adapters/queue.ts';
import { createIntake } from '../../../src/server/intake.ts';
import { createMetrics } from '../../../src/adapters/metrics.ts';
import { sign } from '../../../src/server/signature.ts';

const queued: InboundDelivery[] = [];
let failing = false;
const queue: WebhookQueue = {
  kind: 'memory',
  async enqueue(t) {
    if (failing) throw new Error('redis down');
    queued.push(t);
  },
  consume() {},
  async depth() {
    return queued.length;
  },
  async ready() {},
  async close() {},
};
const metrics = createMetrics();
let server: Server;
let url: string;

before(async () => {
  const intake = createIntake({
    secrets: () => ['k1', 'k2'],
    queue,
    metrics,
    log: pino({ level: 'silent' }),
    maxBodyBytes: 1024,
    handledEvents: new Set(['issue_comment']),
    // Stands for src/plan/deliveries.ts: this contract test only needs "some deliveries need no work".
    needsWork: (_event, body) => (JSON.parse(body.toString('utf8')) as { zen?: string }).zen !== 'no work here',
  });
  server = createServer((req, res) => void intake(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  queued.length = 0;
  failing = false;
});

function post(body: string, headers: Record<string, string>) {
  return fetch(url, { method: 'POST', body, headers });
}
const body = '{"action":"created","zen":"Keep it logically awesome."}';
const headers = (over: Record<string, string> = {}) => ({
  'content-type': 'application/json',
  'x-github-event': 'issue_comment',
  'x-github-delivery': 'delivery-1',
  'x-hub-signature-256': sign('k2', body),
  ...over,
});

describe('intake', () => {
  it('acknowledges a delivery that needs no work without persisting it, and counts it', async () => {
    const quiet = '{"action":"created","zen":"no work here"}';
    const res = await post(quiet, headers({ 'x-hub-signature-256': sign('k1', quiet) }));
    assert.equal(res.status, 200);
    assert.match(await res.text(), /needs no work/);
    assert.equal(queued.length, 0);
    assert.match(await metrics.registry.metrics(), /katabot_webhooks_total\{event="issue_comment",result="no_work"\} 1/);
  });

  it('persists a delivery whose body is not JSON (the worker says what is wrong with it)', async () => {
    const odd = 'not json';
    const res = await post(odd, headers({ 'x-hub-signature-256': sign('k1', odd), 'x-github-delivery': 'odd-1' }));
    assert.equal(res.status, 200);
    assert.equal(queued.length, 1);
  });

  it('verifies, persists and acknowledges a signed delivery', async () => {
    const res = await post(body, headers());
    assert.equal(res.status, 200);
    assert.equal(queued.length, 1);
    assert.deepEqual({ id: queued[0]!.id, name: queued[0]!.name, body: queued[0]!.body.toString('utf8') }, { id: 'delivery-1', name: 'issue_comment', body });
  });

  const rejects: Array<[string, Record<string, string>, number]> = [
    ['bad signature', { 'x-hub-signature-256': sign('nope', body) }, 401],
    ['missing event header', { 'x-github-event': '' }, 400],
    ['missing delivery header', { 'x-github-delivery': '' }, 400],
    ['form-encoded body', { 'content-type': 'application/x-www-form-urlencoded' }, 415],
  ];
  for (const [name, over, status] of rejects) {
    it(`answers ${status} for a ${name} and persists nothing`, async () => {
      const h = headers(over);
      for (const k of Object.keys(h)) if (h[k as keyof typeof h] === '') delete h[k as keyof typeof h];
      const res = await post(body, h);
      assert.equal(res.status, status);
      assert.equal(queued.length, 0);
      assert.doesNotMatch(await res.text(), /at .*\.ts:\d+/, 'no stack trace');
    });
  }

  it('answers 413 for a body over the limit, before reading it', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(2000) });
    const res = await post(big, headers({ 'x-hub-signature-256': sign('k1', big) }));
    assert.equal(res.status, 413);
    assert.equal(queued.length, 0);
  });

  it('acknowledges events it does not handle without queueing them', async () => {
    const res = await post(body, headers({ 'x-github-event': 'star' }));
    assert.equal(res.status, 200);
    assert.equal(queued.length, 0);
  });

  it('answers 503 when it cannot persist, so the sender sees the failure', async () => {
    failing = true;
    const res = await post(body, headers());
    assert.equal(res.status, 503);
  });

  it('counts results by event', async () => {
    const text = await metrics.registry.metrics();
    assert.match(text, /katabot_webhooks_total\{event="issue_comment",result="accepted"\} [1-9]/);
    assert.match(text, /katabot_webhooks_total\{event="issue_comment",result="unauthorized"\} [1-9]/);
    assert.match(text, /katabot_webhooks_total\{event="star",result="ignored"\} 1/);
  });
});
