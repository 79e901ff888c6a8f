import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ParsedCommand } from '../../../src/commands/types.ts';
import { decideCommand, type CommandDecision } from '../../../src/policy/commands.ts';
import { policy } from './fixtures.ts';

interface Case {
  name: string;
  cmd: ParsedCommand;
  commenter?: string;
  commenterTrusted: boolean;
  prTrusted: boolean;
  labels?: string[];
  ignoreOkToTest?: boolean;
  want: CommandDecision;
}

const run = (addLabels: string[] = [], removeLabels: string[] = []): CommandDecision => ({ run: true, addLabels, removeLabels });
const deny = (reply: CommandDecision['reply']): CommandDecision => ({ run: false, addLabels: [], removeLabels: [], reply });

const test: ParsedCommand = { name: 'test', targets: ['e2e'] };
const testAll: ParsedCommand = { name: 'test-all' };

const cases: Case[] = [
  // Prow's generic-comment cases, as decisions.
  { name: 'trusted member /test all', cmd: testAll, commenterTrusted: true, prTrusted: true, want: run() },
  { name: 'accept /test from an untrusted user if the PR author is trusted', cmd: testAll, commenterTrusted: false, prTrusted: true, want: run() },
  { name: 'reject /test from an untrusted user when the PR is untrusted', cmd: testAll, commenterTrusted: false, prTrusted: false, want: deny('untrusted') },
  { name: 'untrusted user after /ok-to-test', cmd: testAll, commenterTrusted: false, prTrusted: true, labels: ['ok-to-test'], want: run() },
  {
    name: 'untrusted user after /ok-to-test, stale needs-ok-to-test is removed',
    cmd: testAll,
    commenterTrusted: false,
    prTrusted: true,
    labels: ['needs-ok-to-test', 'ok-to-test'],
    want: run([], ['needs-ok-to-test']),
  },
  { name: 'untrusted /retest on an untrusted PR with lgtm', cmd: { name: 'retest' }, commenterTrusted: false, prTrusted: false, labels: ['lgtm', 'approved'], want: deny('untrusted') },
  { name: 'trusted user on an untrusted PR may /test', cmd: test, commenterTrusted: true, prTrusted: false, labels: ['needs-ok-to-test'], want: run() },
  { name: '/retest on a trusted PR', cmd: { name: 'retest' }, commenterTrusted: false, prTrusted: true, want: run() },
  { name: '/retest-required on a trusted PR', cmd: { name: 'retest-required' }, commenterTrusted: true, prTrusted: true, want: run() },
  { name: '/test ? on a trusted PR is answered', cmd: { name: 'test-help', reason: 'question' }, commenterTrusted: false, prTrusted: true, want: run() },
  { name: '/test ? on an untrusted PR by an untrusted user', cmd: { name: 'test-help', reason: 'question' }, commenterTrusted: false, prTrusted: false, want: deny('untrusted') },
  { name: '/retest foo is answered with help', cmd: { name: 'retest-with-target', target: 'foo' }, commenterTrusted: true, prTrusted: true, want: run() },
  { name: 'bare /test is answered with help', cmd: { name: 'test-help', reason: 'empty' }, commenterTrusted: true, prTrusted: false, want: run() },
  // /ok-to-test.
  { name: 'trusted member ok to test', cmd: { name: 'ok-to-test' }, commenterTrusted: true, prTrusted: false, want: run(['ok-to-test']) },
  {
    name: 'ok to test removes needs-ok-to-test',
    cmd: { name: 'ok-to-test' },
    commenterTrusted: true,
    prTrusted: false,
    labels: ['needs-ok-to-test'],
    want: run(['ok-to-test'], ['needs-ok-to-test']),
  },
  { name: 'ok to test when already ok-to-test', cmd: { name: 'ok-to-test' }, commenterTrusted: true, prTrusted: true, labels: ['ok-to-test'], want: run() },
  { name: 'untrusted user ok to test on an untrusted PR', cmd: { name: 'ok-to-test' }, commenterTrusted: false, prTrusted: false, want: deny('untrusted') },
  { name: 'untrusted user ok to test on a trusted PR runs but does not label', cmd: { name: 'ok-to-test' }, commenterTrusted: false, prTrusted: true, want: run() },
  { name: 'trusted member ok to test, ignore_ok_to_test', cmd: { name: 'ok-to-test' }, commenterTrusted: true, prTrusted: false, ignoreOkToTest: true, want: deny('ok-to-test-ignored') },
  // /ok-to-test cancel.
  {
    name: 'cancel by a trusted user',
    cmd: { name: 'ok-to-test-cancel' },
    commenterTrusted: true,
    prTrusted: true,
    labels: ['ok-to-test'],
    want: { run: false, addLabels: ['needs-ok-to-test'], removeLabels: ['ok-to-test'] },
  },
  {
    name: 'cancel also withdraws a TDX approval',
    cmd: { name: 'ok-to-test-cancel' },
    commenterTrusted: true,
    prTrusted: true,
    labels: ['ok-to-test', 'ok-to-test-tdx'],
    want: { run: false, addLabels: ['needs-ok-to-test'], removeLabels: ['ok-to-test', 'ok-to-test-tdx'] },
  },
  {
    name: 'cancel with labels already in place',
    cmd: { name: 'ok-to-test-cancel' },
    commenterTrusted: true,
    prTrusted: false,
    labels: ['needs-ok-to-test'],
    want: { run: false, addLabels: [], removeLabels: [] },
  },
  { name: 'cancel by an untrusted user', cmd: { name: 'ok-to-test-cancel' }, commenterTrusted: false, prTrusted: true, labels: ['ok-to-test'], want: deny('cancel-untrusted') },
  { name: 'cancel by an untrusted user on an untrusted PR', cmd: { name: 'ok-to-test-cancel' }, commenterTrusted: false, prTrusted: false, want: deny('cancel-untrusted') },
  { name: 'cancel with ignore_ok_to_test', cmd: { name: 'ok-to-test-cancel' }, commenterTrusted: true, prTrusted: true, ignoreOkToTest: true, want: deny('ok-to-test-ignored') },
  // /ok-to-test-tdx.
  { name: 'tdx by an approver on a trusted PR', cmd: { name: 'ok-to-test-tdx' }, commenter: 'alice', commenterTrusted: true, prTrusted: true, want: run(['ok-to-test-tdx']) },
  { name: 'tdx approver names ignore case', cmd: { name: 'ok-to-test-tdx' }, commenter: 'BOB', commenterTrusted: true, prTrusted: true, want: run(['ok-to-test-tdx']) },
  { name: 'tdx again when already labelled re-runs', cmd: { name: 'ok-to-test-tdx' }, commenter: 'alice', commenterTrusted: true, prTrusted: true, labels: ['ok-to-test-tdx'], want: run() },
  { name: 'tdx by a trusted non-approver', cmd: { name: 'ok-to-test-tdx' }, commenter: 'carol', commenterTrusted: true, prTrusted: true, want: deny('tdx-not-approver') },
  { name: 'tdx by an untrusted non-approver', cmd: { name: 'ok-to-test-tdx' }, commenter: 'mallory', commenterTrusted: false, prTrusted: false, want: deny('tdx-not-approver') },
  { name: 'tdx by an App named like an approver', cmd: { name: 'ok-to-test-tdx' }, commenter: 'alice[bot]', commenterTrusted: true, prTrusted: true, want: deny('tdx-not-approver') },
  {
    name: 'tdx by an approver on an untrusted PR also counts as ok-to-test',
    cmd: { name: 'ok-to-test-tdx' },
    commenter: 'alice',
    commenterTrusted: true,
    prTrusted: false,
    labels: ['needs-ok-to-test'],
    want: { run: true, addLabels: ['ok-to-test', 'ok-to-test-tdx'], removeLabels: ['needs-ok-to-test'], impliesOkToTest: true },
  },
  { name: 'tdx by an approver on an untrusted PR with ignore_ok_to_test', cmd: { name: 'ok-to-test-tdx' }, commenter: 'alice', commenterTrusted: true, prTrusted: false, ignoreOkToTest: true, want: deny('tdx-untrusted-pr') },
  { name: 'tdx by an approver on a trusted PR with ignore_ok_to_test', cmd: { name: 'ok-to-test-tdx' }, commenter: 'alice', commenterTrusted: true, prTrusted: true, ignoreOkToTest: true, want: run(['ok-to-test-tdx']) },
  // /trace.
  { name: 'trace by a trusted user on a trusted PR', cmd: { name: 'trace', targets: [] }, commenterTrusted: true, prTrusted: true, want: run() },
  { name: 'trace by an untrusted user on a trusted PR', cmd: { name: 'trace', targets: ['e2e'] }, commenterTrusted: false, prTrusted: true, want: deny('trace-untrusted') },
  { name: 'trace by a trusted user on an untrusted PR', cmd: { name: 'trace', targets: [] }, commenterTrusted: true, prTrusted: false, want: deny('trace-untrusted') },
  { name: 'trace by an untrusted user on an untrusted PR', cmd: { name: 'trace', targets: [] }, commenterTrusted: false, prTrusted: false, want: deny('trace-untrusted') },
  // /help.
  { name: 'help is always answered', cmd: { name: 'help' }, commenterTrusted: false, prTrusted: false, want: run() },
  { name: 'help by a trusted user', cmd: { name: 'help' }, commenterTrusted: true, prTrusted: true, want: run() },
];

describe('decideCommand', () => {
  for (const c of cases) {
    it(c.name, () => {
      const got = decideCommand(c.cmd, {
        policy: policy({ ignore_ok_to_test: c.ignoreOkToTest ?? false }),
        commenter: c.commenter ?? 'someone',
        commenterTrusted: c.commenterTrusted,
        prTrusted: c.prTrusted,
        labels: c.labels ?? [],
      });
      assert.deepEqual(got, c.want);
    });
  }

  it('uses the configured TDX label', () => {
    const got = decideCommand(
      { name: 'ok-to-test-tdx' },
      { policy: policy({}, { label: 'tdx-approved' }), commenter: 'alice', commenterTrusted: true, prTrusted: true, labels: [] },
    );
    assert.deepEqual(got.addLabels, ['tdx-approved']);
  });
});
