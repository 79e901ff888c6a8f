// The reporter's channel plan, one case per row: what is written, what is recorded as history, what is left alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProwJobState } from '../../../src/jobs/types.ts';
import { byUrgency, planChannels, writeRank, type Channel, type PendingWrite, type Reported } from '../../../src/plan/report.ts';

describe('planChannels', () => {
  const cases: Array<{ name: string; state: ProwJobState; reported: Reported; statuses?: boolean; old?: boolean; write: string[]; history?: string[] }> = [
    { name: 'a new job: its check run', state: 'triggered', reported: {}, write: ['check'] },
    { name: 'nothing changed: nothing', state: 'pending', reported: { check: 'pending' }, write: [] },
    { name: 'running → passed: check and the failure comment (it may turn green)', state: 'success', reported: { check: 'pending' }, write: ['check', 'comment'] },
    { name: 'statuses on: a status on every change', state: 'pending', reported: { check: 'triggered', status: 'triggered' }, statuses: true, write: ['check', 'status'] },
    { name: 'statuses off: never a status', state: 'failure', reported: { check: 'pending' }, statuses: false, write: ['check', 'comment'] },
    { name: 'the comment is written once per final state', state: 'failure', reported: { check: 'failure', comment: 'failure' }, write: [] },
    { name: 'finished long ago and never reported: history only', state: 'failure', reported: {}, statuses: true, old: true, write: [], history: ['check', 'status', 'comment'] },
    { name: 'finished long ago with a check run: brought up to date, the rest is history', state: 'failure', reported: { checkRunId: 7, check: 'pending' }, old: true, write: ['check'], history: ['comment'] },
    { name: 'finished long ago, reported before: written as usual', state: 'success', reported: { check: 'pending', comment: 'failure' }, old: true, write: ['check', 'comment'] },
    { name: 'failed and shown, annotation batches left: the check run again', state: 'failure', reported: { check: 'failure', comment: 'failure', annotations: { written: 1, total: 3 } }, write: ['check'] },
    { name: 'failed and shown, every batch sent: nothing', state: 'failure', reported: { check: 'failure', comment: 'failure', annotations: { written: 3, total: 3 } }, write: [] },
    { name: 'no annotations record (reported before JUnit was read): nothing more', state: 'failure', reported: { check: 'failure', comment: 'failure' }, write: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = planChannels({ state: c.state, reported: c.reported, statuses: c.statuses ?? false, finishedLongAgo: c.old ?? false });
      assert.deepEqual(got, { write: c.write, history: c.history ?? [] });
    });
  }
});

describe('writeRank and byUrgency: which pending write goes out first', () => {
  const cases: Array<{ name: string; channel: Channel; state: ProwJobState; reported?: Reported; rank: number }> = [
    { name: 'the failure comment: first, it notifies the author', channel: 'comment', state: 'failure', rank: 0 },
    { name: 'a check run turning final', channel: 'check', state: 'failure', rank: 1 },
    { name: 'a status turning final', channel: 'status', state: 'success', rank: 1 },
    { name: 'a check run showing a running job: as urgent (one write covers its later changes too)', channel: 'check', state: 'pending', rank: 1 },
    { name: 'a status showing a queued job', channel: 'status', state: 'triggered', rank: 1 },
    { name: 'more annotations for a run that shows its result already', channel: 'check', state: 'failure', reported: { check: 'failure', annotations: { written: 1, total: 2 } }, rank: 3 },
    { name: 'the final PATCH that carries the first batch', channel: 'check', state: 'failure', reported: { check: 'pending', annotations: { written: 0, total: 2 } }, rank: 1 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(writeRank(c.channel, c.state, c.reported), c.rank));

  it('orders by rank, then the oldest change first', () => {
    const pending: Array<PendingWrite & { id: string }> = [
      { id: 'pending-old', rank: 1, since: 1 },
      { id: 'final-new', rank: 1, since: 9 },
      { id: 'comment', rank: 0, since: 10 },
      { id: 'final-old', rank: 1, since: 5 },
      { id: 'annotations', rank: 3, since: 0 },
    ];
    assert.deepEqual([...pending].sort(byUrgency).map((p) => p.id), ['comment', 'pending-old', 'final-old', 'final-new', 'annotations']);
  });
});
