import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProwJob, ProwJobState } from '../../../src/jobs/types.ts';
import { parseCommands } from '../../../src/commands/registry.ts';
import {
  FAILURE_COMMENT_MARKER,
  TABLE_HEADER,
  mergeRows,
  planFailureComment,
  renderAllGreen,
  renderFailureComment,
  renderRow,
  rowFor,
  type FailureRow,
  type RowsState,
} from '../../../src/render/failure-comment.ts';
import { summarizeAttempts } from '../../../src/render/results.ts';

const SHA = 'a'.repeat(40);

function row(context: string, extra: Partial<FailureRow> = {}): FailureRow {
  return { context, sha: SHA, url: `https://deck/${context}`, required: 'true', rerun: `/test ${context}`, state: 'failure', attempts: 1, passed: 0, prowjob: `pj-${context}`, ...extra };
}

function pj(state: ProwJobState, labels: Record<string, string> = {}, type: ProwJob['spec']['type'] = 'presubmit'): ProwJob {
  return {
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: { name: 'pj-1', labels },
    spec: { type, job: 'job-a', context: 'ctx-a', rerun_command: '/test job-a', refs: { org: 'o', repo: 'r', pulls: [{ number: 1, author: 'alice', sha: SHA }] } },
    status: { state, url: 'https://deck/view/1' },
  };
}

describe('rowFor (crier createEntry + attempts)', () => {
  const cases: Array<{ name: string; job: ProwJob; required: string }> = [
    { name: 'required presubmit', job: pj('failure', { 'prow.k8s.io/is-optional': 'false' }), required: 'true' },
    { name: 'optional presubmit', job: pj('failure', { 'prow.k8s.io/is-optional': 'true' }), required: 'false' },
    { name: 'no label', job: pj('failure'), required: 'unknown' },
    { name: 'postsubmit', job: pj('failure', { 'prow.k8s.io/is-optional': 'false' }, 'postsubmit'), required: 'unknown' },
  ];
  for (const c of cases) {
    it(`${c.name}: Required ${c.required}`, () => {
      const r = rowFor(c.job, undefined, { attempts: 2, passed: 1, failed: 1, flaky: true });
      assert.equal(r.required, c.required);
      assert.equal(r.context, 'ctx-a');
      assert.equal(r.url, 'https://deck/view/1');
      assert.equal(r.rerun, '/test job-a');
      assert.equal(r.attempts, 2);
      assert.equal(r.passed, 1);
    });
  }
});

describe('renderRow', () => {
  const cases: Array<[string, FailureRow, string]> = [
    ['first failure', row('ctx'), `ctx | ${SHA} | [link](https://deck/ctx) | true | \`/test ctx\` | 1`],
    ['flaky', row('ctx', { attempts: 3, passed: 1 }), `ctx | ${SHA} | [link](https://deck/ctx) | true | \`/test ctx\` | 3 (flaky: passed 1 of 3)`],
    ['error, no link', row('ctx', { state: 'error', url: '' }), `ctx | ${SHA} | (error) | true | \`/test ctx\` | 1`],
    ['pipes escaped', row('a|b'), `a\\|b | ${SHA} | [link](https://deck/a|b) | true | \`/test a\\|b\` | 1`],
  ];
  for (const [name, r, want] of cases) it(name, () => assert.equal(renderRow(r), want));
});

describe('mergeRows (newest result per context wins)', () => {
  const t = (m: number) => `2026-01-01T00:${String(m).padStart(2, '0')}:00Z`;
  const cases: Array<{ name: string; before: RowsState; update: Parameters<typeof mergeRows>[1]; rows: string[] }> = [
    { name: 'failure adds a row', before: { rows: [] }, update: { context: 'a', state: 'failure', start: t(1), row: row('a') }, rows: ['a'] },
    { name: 'failure replaces its context’s row, appended last', before: { rows: [row('a'), row('b')] }, update: { context: 'a', state: 'failure', start: t(2), row: row('a', { attempts: 2 }) }, rows: ['b', 'a'] },
    { name: 'error counts as a failure', before: { rows: [] }, update: { context: 'a', state: 'error', row: row('a', { state: 'error' }) }, rows: ['a'] },
    { name: 'success removes the row', before: { rows: [row('a'), row('b')] }, update: { context: 'a', state: 'success', start: t(3) }, rows: ['b'] },
    { name: 'aborted leaves the rows alone', before: { rows: [row('a')] }, update: { context: 'a', state: 'aborted' }, rows: ['a'] },
    { name: 'pending changes nothing', before: { rows: [row('a')] }, update: { context: 'a', state: 'pending' }, rows: ['a'] },
    {
      name: 'an older attempt finishing late does not undo a newer result',
      before: { rows: [], seen: { a: t(5) } },
      update: { context: 'a', state: 'failure', start: t(1), row: row('a') },
      rows: [],
    },
    { name: 'other contexts are untouched', before: { rows: [row('b')] }, update: { context: 'a', state: 'success' }, rows: ['b'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = mergeRows(c.before, c.update);
      assert.deepEqual(got.rows.map((r) => r.context), c.rows);
    });
  }
  it('a failure without its row is a programming error', () => {
    assert.throws(() => mergeRows({ rows: [] }, { context: 'a', state: 'failure' }), /needs its row/);
  });
});

describe('planFailureComment', () => {
  const cases: Array<{ name: string; prev: Parameters<typeof planFailureComment>[1]; next: FailureRow[]; action: string }> = [
    { name: 'first failure: write', prev: { rows: [], written: false }, next: [row('a')], action: 'write' },
    { name: 'same rows, already written: nothing', prev: { rows: [row('a')], written: true }, next: [row('a')], action: 'none' },
    { name: 'rows changed: write (edit)', prev: { rows: [row('a')], written: true }, next: [row('a', { attempts: 2 })], action: 'write' },
    { name: 'last failure recovered: all green', prev: { rows: [row('a')], written: true }, next: [], action: 'all-green' },
    { name: 'nothing ever failed: nothing (no "all passed" spam)', prev: { rows: [], written: false }, next: [], action: 'none' },
    { name: 'already all green: nothing', prev: { rows: [], written: true, allGreen: true }, next: [], action: 'none' },
    { name: 'fails again after all green: write', prev: { rows: [], written: true, allGreen: true }, next: [row('a')], action: 'write' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(planFailureComment('alice', c.prev, c.next).action, c.action));
});

describe('the comment', () => {
  it('has crier’s shape plus the Attempts column, the marker, and no commands', () => {
    const body = renderFailureComment('alice', [row('a'), row('b', { attempts: 2, passed: 1 })]);
    const lines = body.split('\n');
    assert.equal(lines[0], '@alice: The following tests **failed**, say `/retest` to rerun all failed tests or `/retest-required` to rerun all mandatory failed tests:');
    assert.equal(lines[2], TABLE_HEADER);
    assert.equal(TABLE_HEADER, 'Test name | Commit | Details | Required | Rerun command | Attempts');
    assert.equal(lines[3], '--- | --- | --- | --- | --- | ---');
    assert.ok(body.endsWith(FAILURE_COMMENT_MARKER));
    assert.match(body, /likely flaky/);
    assert.deepEqual(parseCommands(body), [], 'the comment never reads as commands');
  });

  it('singular for one failure; crier-compatible rows (first column is the context)', () => {
    const body = renderFailureComment('bob', [row('ctx-x')]);
    assert.match(body, /The following test \*\*failed\*\*/);
    const tableRows = body.split('\n').filter((l) => l.includes(' | ') && !l.startsWith('Test name') && !l.startsWith('---'));
    assert.deepEqual(tableRows.map((l) => l.split(' | ')[0]), ['ctx-x']);
  });

  it('all green names what recovered', () => {
    const body = renderAllGreen('alice', [row('a'), row('b')]);
    assert.match(body, /^@alice: all tests \*\*passed!\*\*/);
    assert.match(body, /`a`, `b`/);
    assert.ok(body.endsWith(FAILURE_COMMENT_MARKER));
  });
});

describe('summarizeAttempts', () => {
  const cases: Array<[ProwJobState[], { attempts: number; passed: number; failed: number; flaky: boolean }]> = [
    [['failure'], { attempts: 1, passed: 0, failed: 1, flaky: false }],
    [['failure', 'success'], { attempts: 2, passed: 1, failed: 1, flaky: true }],
    [['error', 'aborted', 'pending'], { attempts: 3, passed: 0, failed: 1, flaky: false }],
    [['success', 'success'], { attempts: 2, passed: 2, failed: 0, flaky: false }],
  ];
  for (const [states, want] of cases) it(states.join(', '), () => assert.deepEqual(summarizeAttempts(states.map((state) => ({ state }))), want));
});
