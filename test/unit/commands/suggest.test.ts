import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closestNames, suggestTargets } from '../../../src/commands/suggest.ts';

const JOBS = ['e2e-kata-qemu', 'e2e-kata-clh', 'e2e-kata-qemu-tdx', 'unit', 'static-checks', 'build-kata-static'];

describe('closestNames', () => {
  const cases: Array<{ target: string; want: string[] }> = [
    { target: 'e2e-kata-qemo', want: ['e2e-kata-qemu'] },
    { target: 'E2E-KATA-CLH', want: ['e2e-kata-clh'] },
    { target: 'qemu', want: ['e2e-kata-qemu', 'e2e-kata-qemu-tdx'] },
    { target: 'unti', want: ['unit'] },
    { target: 'static', want: ['static-checks', 'build-kata-static'] }, // closer first
    { target: 'completely-different', want: [] },
    { target: '', want: [] },
    { target: 'x'.repeat(500), want: [] },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.target.slice(0, 20))} → ${JSON.stringify(c.want)}`, () => assert.deepEqual(closestNames(c.target, JOBS), c.want));
  }

  it('limits the number of names', () => {
    assert.equal(closestNames('kata', JOBS, 2).length, 2);
  });

  it('never suggests the target itself', () => {
    assert.deepEqual(closestNames('unit', JOBS), []);
  });
});

describe('suggestTargets', () => {
  it('maps every unknown target, including awkward keys', () => {
    const s = suggestTargets(['unti', '__proto__', 'constructor'], JOBS);
    assert.deepEqual(Object.keys(s), ['unti', '__proto__', 'constructor']);
    assert.deepEqual(s['unti'], ['unit']);
    assert.deepEqual(s['__proto__'], []);
  });
});
