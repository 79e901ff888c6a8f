// Leader election for the reporter over a real Redis: one leader, prompt hand-over on shutdown, takeover after a
// crash or partition only once the old leader has stopped believing in its lease, and fenced writes.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { FencedOut, ReportState, type Fence } from '../../src/adapters/report-state.ts';
import { RedisStore, type Store } from '../../src/adapters/store.ts';
import { LeaderElector } from '../../src/reporter/leader.ts';
import { startRedis, type TestRedis } from '../fixtures/redis.ts';
import { waitFor } from './harness.ts';

let redis: TestRedis;
const clients: Redis[] = [];
const log = pino({ level: 'silent' });
const TTL = 600;

before(async () => {
  redis = await startRedis();
});
after(async () => {
  for (const c of clients) c.disconnect();
  await redis.close();
});

function store(prefix: string): RedisStore {
  const c = new Redis(redis.url);
  clients.push(c);
  return new RedisStore(c, prefix);
}

interface Replica {
  elector: LeaderElector;
  events: Array<{ what: 'start' | 'stop'; at: number; fence?: Fence }>;
}

function replica(s: Store): Replica {
  const events: Replica['events'] = [];
  const elector = new LeaderElector({
    store: s,
    ttlMs: TTL,
    log,
    onStart: (fence) => void events.push({ what: 'start', at: Date.now(), fence }),
    onStop: () => void events.push({ what: 'stop', at: Date.now() }),
  });
  return { elector, events };
}

describe('reporter leader election', () => {
  it('one leader among three; a stopping leader hands over at once', async () => {
    const prefix = `${redis.prefix}a:`;
    const rs = [replica(store(prefix)), replica(store(prefix)), replica(store(prefix))];
    for (const r of rs) r.elector.start();
    await waitFor('a leader', () => rs.some((r) => r.elector.isLeader()));
    await sleep(TTL * 2);
    assert.equal(rs.filter((r) => r.elector.isLeader()).length, 1);
    assert.equal(rs.flatMap((r) => r.events).filter((e) => e.what === 'start').length, 1, 'nobody else ever started');

    const leader = rs.find((r) => r.elector.isLeader())!;
    const stoppedAt = Date.now();
    await leader.elector.stop();
    assert.equal(leader.events.at(-1)?.what, 'stop');
    const next = await waitFor('next leader', () => rs.find((r) => r !== leader && r.elector.isLeader()));
    assert.ok(next.events[0]!.at - stoppedAt < TTL, 'released, not expired');
    for (const r of rs) await r.elector.stop();
  });

  it('a partitioned leader stops before anyone else starts, and its late writes are fenced out', async () => {
    const prefix = `${redis.prefix}b:`;
    let partitioned = false;
    const base = store(prefix);
    // Replica A loses Redis (renewals fail) without dying: what a crash or a network split looks like to B.
    const flaky = new Proxy(base, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => (partitioned ? Promise.reject(new Error('connection lost')) : (v as (...a: unknown[]) => unknown).apply(target, args));
      },
    }) as Store;
    const a = replica(flaky);
    a.elector.start();
    await waitFor('A leads', () => a.elector.isLeader());
    const b = replica(store(prefix));
    b.elector.start();
    await sleep(TTL);
    assert.equal(b.elector.isLeader(), false);

    const fenceA = a.events[0]!.fence!;
    partitioned = true;
    const bStart = await waitFor('B takes over after the lease expires', () => b.events.find((e) => e.what === 'start'), 5000);
    const aStop = a.events.find((e) => e.what === 'stop');
    assert.ok(aStop, 'A stopped reporting');
    assert.ok(aStop.at <= bStart.at, 'A stopped before B started');
    assert.equal(a.elector.isLeader(), false);

    // A's writes with its old fence are refused, B's go through.
    partitioned = false;
    const reports = new ReportState(base);
    await assert.rejects(reports.markReported('pj-x', 'check', 'success', fenceA), FencedOut);
    await reports.markReported('pj-x', 'check', 'failure', bStart.fence);
    assert.equal((await reports.reported('pj-x')).check, 'failure');
    await a.elector.stop();
    await b.elector.stop();
  });
});
