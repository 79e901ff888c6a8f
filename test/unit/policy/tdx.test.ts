import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GoRegExpError } from '../../../src/config/go-regexp.ts';
import { isTdxApprover, isTdxJob, isTdxLabel, tdxAllows, tdxApproved, tdxGate, tdxLabelsOnPush } from '../../../src/policy/tdx.ts';
import { policy } from './fixtures.ts';

describe('isTdxJob', () => {
  const cases: Array<{ jobs: string; job: string; want: boolean }> = [
    { jobs: '.*-tdx.*', job: 'e2e-kata-qemu-tdx', want: true },
    { jobs: '.*-tdx.*', job: 'e2e-tdx-k8s', want: true },
    { jobs: '.*-tdx.*', job: 'e2e-kata-qemu', want: false },
    { jobs: '.*-tdx.*', job: 'tdx-first', want: false },
    // Unanchored search, like Go's MatchString.
    { jobs: '-tdx', job: 'e2e-kata-qemu-tdx', want: true },
    { jobs: 'tdx', job: 'e2e-TDX', want: false },
    { jobs: '(?i)tdx', job: 'e2e-TDX', want: true },
    { jobs: '^tdx-', job: 'tdx-e2e', want: true },
    { jobs: '^tdx-', job: 'e2e-tdx-e2e', want: false },
    { jobs: '^(e2e-tdx|e2e-snp)$', job: 'e2e-snp', want: true },
    { jobs: '', job: 'e2e-kata-qemu-tdx', want: false },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.jobs)} vs ${c.job} → ${c.want}`, () => assert.equal(isTdxJob(policy({}, { jobs: c.jobs }), c.job), c.want));
  }

  it('an invalid pattern throws', () => {
    assert.throws(() => isTdxJob(policy({}, { jobs: '(?=x)' }), 'x'), GoRegExpError);
  });
});

describe('TDX labels and approvers', () => {
  it('tdxApproved looks for the configured label, any case', () => {
    const p = policy({}, { label: 'ok-to-test-tdx' });
    assert.equal(tdxApproved(p, ['lgtm', 'OK-to-test-TDX']), true);
    assert.equal(tdxApproved(p, ['ok-to-test']), false);
    assert.equal(isTdxLabel(p, 'Ok-To-Test-Tdx'), true);
  });

  const push: Array<[boolean, string[]]> = [
    [false, ['ok-to-test-tdx']],
    [true, []],
  ];
  for (const [sticky, want] of push) {
    it(`tdxLabelsOnPush, sticky=${sticky}`, () => assert.deepEqual(tdxLabelsOnPush(policy({}, { sticky })), want));
  }

  const approvers: Array<[string, boolean]> = [
    ['alice', true],
    ['ALICE', true],
    ['bob', true],
    ['carol', false],
    ['alice[bot]', false],
    ['', false],
  ];
  for (const [login, want] of approvers) {
    it(`isTdxApprover(${JSON.stringify(login)}) = ${want}`, () => {
      assert.equal(isTdxApprover(policy(), login), want);
    });
  }

});

describe('tdxGate: the TDX label counts for the head an approver gave it on', () => {
  const head = 'a'.repeat(40);
  const older = 'b'.repeat(40);
  const jobs = ['unit', 'e2e-kata-qemu-tdx', 'e2e-kata-clh'];
  const cases: Array<{ name: string; labels: string[]; approved: string | null; sticky?: boolean; jobs?: string[]; want: { approved: boolean; stale: boolean }; asks: boolean; allowed: string[] }> = [
    { name: 'no label: TDX jobs blocked, no lookup', labels: [], approved: head, want: { approved: false, stale: false }, asks: false, allowed: ['unit', 'e2e-kata-clh'] },
    { name: 'label given on this head', labels: ['ok-to-test-tdx'], approved: head, want: { approved: true, stale: false }, asks: true, allowed: jobs },
    { name: 'label given on an older head is stale', labels: ['ok-to-test-tdx'], approved: older, want: { approved: false, stale: true }, asks: true, allowed: ['unit', 'e2e-kata-clh'] },
    { name: 'label without a recorded approval (added by hand before katabot saw it)', labels: ['OK-To-Test-TDX'], approved: null, want: { approved: false, stale: true }, asks: true, allowed: ['unit', 'e2e-kata-clh'] },
    { name: 'sticky label needs no recorded approval', labels: ['ok-to-test-tdx'], approved: null, sticky: true, want: { approved: true, stale: false }, asks: false, allowed: jobs },
    { name: 'no TDX job asked for: no lookup', labels: ['ok-to-test-tdx'], approved: older, jobs: ['unit'], want: { approved: false, stale: false }, asks: false, allowed: ['unit'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      let asked = false;
      const p = policy({}, c.sticky ? { sticky: true } : {});
      const gate = tdxGate(p, c.labels, c.jobs ?? jobs, head, () => {
        asked = true;
        return c.approved;
      });
      assert.deepEqual(gate, c.want);
      assert.equal(asked, c.asks, 'the recorded approval is read only when it decides');
      assert.deepEqual((c.jobs ?? jobs).filter((j) => tdxAllows(p, gate, j)), c.allowed);
    });
  }
});
