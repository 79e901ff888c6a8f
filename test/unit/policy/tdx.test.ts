import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GoRegExpError } from '../../../src/config/go-regexp.ts';
import { isApprover, isTdxApprover, isTdxJob, isTdxLabel, partitionTdxJobs, tdxApproved, tdxLabelsOnPush } from '../../../src/policy/tdx.ts';
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
      assert.equal(isApprover(policy(), login), want);
    });
  }

  it('partitionTdxJobs blocks TDX jobs without the label', () => {
    const jobs = ['unit', 'e2e-kata-qemu-tdx', 'e2e-kata-clh'];
    assert.deepEqual(partitionTdxJobs(policy(), [], jobs), { allowed: ['unit', 'e2e-kata-clh'], blocked: ['e2e-kata-qemu-tdx'] });
    assert.deepEqual(partitionTdxJobs(policy(), ['ok-to-test-tdx'], jobs), { allowed: jobs, blocked: [] });
  });
});
