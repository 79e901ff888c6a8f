// The reporter's channel plan, one case per row: what is written, what is recorded as history, what is left alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProwJobState } from '../../../src/jobs/types.ts';
import { planChannels, type Reported } from '../../../src/plan/report.ts';

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
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = planChannels({ state: c.state, reported: c.reported, statuses: c.statuses ?? false, finishedLongAgo: c.old ?? false });
      assert.deepEqual(got, { write: c.write, history: c.history ?? [] });
    });
  }
});
