// The keyed queue behind the reporter's reconciles and GitHub writes: one pending run per key, the newest run
// asked for wins, most urgent first, a key asked for while running runs again, per-prefix limits, retries, halt.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { KeyedQueue } from '../../../src/reporter/keyed-queue.ts';

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describe('KeyedQueue', () => {
  it('runs a key once for a burst of asks, with the run asked for last, most urgent first', async () => {
    const ran: string[] = [];
    const blocker = gate();
    let t = 0;
    const q = new KeyedQueue({ concurrency: 1, onError: () => 'drop', now: () => ++t });
    q.want('busy', 0, async () => (await blocker.wait, ran.push('busy'), undefined));
    for (const v of ['queued', 'pending', 'success']) q.want('check:a', 1, async () => (ran.push(`a:${v}`), undefined));
    q.want('check:b', 1, async () => (ran.push('b'), undefined));
    q.want('comment:pr', 0, async () => (ran.push('comment'), undefined));
    q.want('annotations', 3, async () => (ran.push('annotations'), undefined));
    q.want('check:c', 2, async () => (ran.push('c'), undefined));
    q.want('check:c', 1, async () => (ran.push('c-urgent'), undefined)); // its rank may rise, its place in time stays
    assert.equal(q.size(), 6);
    blocker.open();
    await q.idle();
    assert.deepEqual(ran, ['busy', 'comment', 'a:success', 'b', 'c-urgent', 'annotations']);
  });

  it('a key asked for while it runs runs once more afterwards; a run may ask to run again at a rank', async () => {
    const ran: string[] = [];
    const first = gate();
    let batches = 2;
    const q = new KeyedQueue({ concurrency: 2, onError: () => 'drop' });
    q.want('k', 1, async () => (await first.wait, ran.push('first'), undefined));
    await sleep(5);
    q.want('k', 1, async () => (ran.push('second'), undefined));
    q.want('k', 1, async () => (ran.push('third'), undefined));
    q.want('b', 1, async () => (ran.push(`batch ${batches}`), --batches > 0 ? 3 : undefined));
    first.open();
    await q.idle();
    assert.deepEqual(ran.filter((r) => !r.startsWith('batch')), ['first', 'third']);
    assert.deepEqual(ran.filter((r) => r.startsWith('batch')), ['batch 2', 'batch 1']);
  });

  it('limits the keys of a prefix running at once, keeping the other lanes for other work', async () => {
    const running = new Set<string>();
    let most = 0;
    const q = new KeyedQueue({ concurrency: 2, limits: [{ prefix: 'comment:', running: 1 }], onError: () => 'drop' });
    const run = (k: string) => async () => {
      running.add(k);
      most = Math.max(most, [...running].filter((r) => r.startsWith('comment:')).length);
      await sleep(10);
      running.delete(k);
      return undefined;
    };
    for (const k of ['comment:1', 'comment:2', 'comment:3', 'check:1']) q.want(k, k.startsWith('comment') ? 0 : 1, run(k));
    await sleep(3);
    assert.ok(running.has('check:1'), 'the check run went out beside the first comment');
    await q.idle();
    assert.equal(most, 1);
  });

  it('retries a failed run with backoff, drops it when told, and forgets everything on halt', async () => {
    const errors: string[] = [];
    let calls = 0;
    const q = new KeyedQueue({ concurrency: 1, onError: (key, err) => (errors.push(`${key}: ${(err as Error).message}`), key === 'drop' ? 'drop' : 'retry') });
    q.want('drop', 1, async () => {
      throw new Error('not the leader');
    });
    q.want('flaky', 1, async () => {
      if (++calls === 1) throw new Error('502');
      return undefined;
    });
    await q.idle();
    assert.deepEqual(errors, ['drop: not the leader', 'flaky: 502']);
    await sleep(1100); // the first backoff is 1 s
    await q.idle();
    assert.equal(calls, 2);
    const never = gate();
    q.want('slow', 1, async () => (await never.wait, undefined));
    q.want('later', 1, async () => assert.fail('halted work must not run'));
    const halted = q.halt(50);
    never.open();
    await halted;
    q.want('after-halt', 1, async () => assert.fail('a halted queue takes nothing'));
    assert.equal(q.size(), 0);
  });
});
