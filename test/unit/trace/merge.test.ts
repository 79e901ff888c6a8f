// MergeQueue (src/trace/merge.ts): events of several sources come out in time order once every live source has
// passed them; a stalled source stops holding the others back; late events are written at once and counted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TraceEvent } from '../../../src/trace/format.ts';
import { MergeQueue } from '../../../src/trace/merge.ts';

const ev = (ts: number, comm: string): TraceEvent => ({ type: 'event', ts, kind: 'exec', pid: 1, comm });

type Step =
  | { add: string; at: number }
  | { remove: string }
  | { push: string; ts: number; comm: string; at: number }
  | { advance: string; to: number; at: number }
  | { drain: number }
  | { finish: true };

function run(steps: Step[], stallNs = 5000): { out: string[]; late: number } {
  const out: string[] = [];
  const q = new MergeQueue({ emit: (e) => out.push(`${e.comm}@${e.ts}`), stallNs });
  for (const s of steps) {
    if ('add' in s) q.addSource(s.add, s.at);
    else if ('remove' in s) q.removeSource(s.remove);
    else if ('push' in s) q.push(s.push, ev(s.ts, s.comm), s.at);
    else if ('advance' in s) q.advance(s.advance, s.to, s.at);
    else if ('drain' in s) q.drain(s.drain);
    else q.finish();
  }
  return { out, late: q.late };
}

const cases: Array<{ name: string; steps: Step[]; want: string[]; late?: number }> = [
  {
    name: 'events wait until every source has passed them',
    steps: [
      { add: 'host', at: 0 }, { add: 'guest', at: 0 },
      { push: 'host', ts: 10, comm: 'h1', at: 1 }, { push: 'host', ts: 30, comm: 'h2', at: 1 },
      { advance: 'host', to: 40, at: 2 }, { drain: 2 },
    ],
    want: [],
  },
  {
    name: 'a slower source is interleaved in time order once it catches up',
    steps: [
      { add: 'host', at: 0 }, { add: 'guest', at: 0 },
      { push: 'host', ts: 10, comm: 'h1', at: 1 }, { push: 'host', ts: 30, comm: 'h2', at: 1 }, { advance: 'host', to: 40, at: 2 },
      { push: 'guest', ts: 20, comm: 'g1', at: 3 }, { advance: 'guest', to: 25, at: 3 }, { drain: 3 },
    ],
    want: ['h1@10', 'g1@20'],
  },
  {
    name: 'finish writes what is held, in order',
    steps: [
      { add: 'a', at: 0 }, { push: 'a', ts: 5, comm: 'x', at: 0 }, { push: 'a', ts: 2, comm: 'y', at: 0 }, { finish: true },
    ],
    want: ['y@2', 'x@5'],
  },
  {
    name: 'a stalled source stops holding the merge back',
    steps: [
      { add: 'host', at: 0 }, { add: 'guest', at: 0 },
      { push: 'host', ts: 10, comm: 'h1', at: 1 }, { advance: 'host', to: 6000, at: 6000 }, { drain: 6000 },
    ],
    want: ['h1@10'],
  },
  {
    name: 'what a stalled source sends later goes out at once, counted as late',
    steps: [
      { add: 'host', at: 0 }, { add: 'guest', at: 0 },
      { push: 'host', ts: 10, comm: 'h1', at: 1 }, { advance: 'host', to: 6000, at: 6000 }, { drain: 6000 },
      { push: 'guest', ts: 5, comm: 'g-late', at: 6001 },
    ],
    want: ['h1@10', 'g-late@5'],
    late: 1,
  },
  {
    name: 'a removed source holds nothing back',
    steps: [
      { add: 'host', at: 0 }, { add: 'guest', at: 0 },
      { push: 'host', ts: 10, comm: 'h1', at: 1 }, { advance: 'host', to: 20, at: 1 }, { remove: 'guest' }, { drain: 2 },
    ],
    want: ['h1@10'],
  },
  {
    name: 'a watermark never moves back',
    steps: [
      { add: 'a', at: 0 }, { push: 'a', ts: 10, comm: 'x', at: 0 }, { advance: 'a', to: 50, at: 0 }, { advance: 'a', to: 5, at: 0 }, { drain: 0 },
    ],
    want: ['x@10'],
  },
  {
    name: 'equal timestamps keep arrival order',
    steps: [
      { add: 'a', at: 0 }, { add: 'b', at: 0 },
      { push: 'a', ts: 7, comm: 'first', at: 0 }, { push: 'b', ts: 7, comm: 'second', at: 0 },
      { advance: 'a', to: 7, at: 0 }, { advance: 'b', to: 7, at: 0 }, { drain: 0 },
    ],
    want: ['first@7', 'second@7'],
  },
];

describe('MergeQueue', () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = run(c.steps);
      assert.deepEqual(r.out, c.want);
      assert.equal(r.late, c.late ?? 0);
    });
  }
});
