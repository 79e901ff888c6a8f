// Label repair as Prow does it (LabelsAndAnnotationsForSpec + k8s validation).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filepathBase, isValidLabelKey, isValidLabelValue, sanitizeLabels, truncateLabelValue, validLabelValue } from '../../../src/config/k8s-labels.ts';

describe('isValidLabelValue', () => {
  const cases: Array<[string, boolean]> = [
    ['', true], ['a', true], ['e2e-kata-qemu', true], ['v1.2_3', true], ['x'.repeat(63), true],
    ['x'.repeat(64), false], ['-a', false], ['a-', false], ['a b', false], ['a/b', false], ['.a', false], ['ä', false],
  ];
  for (const [v, want] of cases) it(JSON.stringify(v.length > 20 ? `${v.slice(0, 8)}…(${v.length})` : v), () => assert.equal(isValidLabelValue(v), want));
});

describe('isValidLabelKey', () => {
  const cases: Array<[string, boolean]> = [
    ['app', true], ['prow.k8s.io/job', true], ['event-GUID', true], ['katabot.dev/trace', true], ['a/b/c', false],
    ['/name', false], ['Prow.K8s.io/job', false], ['x'.repeat(64), false], ['prefix/', false], ['-bad', false],
  ];
  for (const [k, want] of cases) it(k, () => assert.equal(isValidLabelKey(k), want));
});

describe('filepathBase (Go filepath.Base)', () => {
  const cases: Array<[string, string]> = [['', '.'], ['/', '/'], ['///', '/'], ['a', 'a'], ['a/b', 'b'], ['a/b/', 'b'], ['release/3.2', '3.2'], ['a//b//', 'b']];
  for (const [p, want] of cases) it(JSON.stringify(p), () => assert.equal(filepathBase(p), want));
});

describe('truncateLabelValue', () => {
  const cases: Array<{ name: string; v: string; want: string }> = [
    { name: 'short stays', v: 'e2e-kata-qemu', want: 'e2e-kata-qemu' },
    { name: '63 exactly stays (even with trailing -)', v: `${'a'.repeat(62)}-`, want: `${'a'.repeat(62)}-` },
    { name: 'cut to 63', v: 'b'.repeat(70), want: 'b'.repeat(63) },
    { name: 'trailing ._- trimmed after the cut', v: `${'c'.repeat(60)}-._-xyz`, want: 'c'.repeat(60) },
  ];
  for (const c of cases) it(c.name, () => assert.equal(truncateLabelValue(c.v), c.want));
});

describe('validLabelValue', () => {
  const cases: Array<{ v: string; want: string | undefined }> = [
    { v: 'main', want: 'main' },
    { v: 'feature/tdx', want: 'tdx' },
    { v: 'Kata CI / build', want: undefined },
    { v: 'x'.repeat(64), want: undefined },
    { v: `${'d'.repeat(70)}/short`, want: 'short' },
    { v: 'a/', want: 'a' },
    { v: '/', want: undefined },
  ];
  for (const c of cases) it(JSON.stringify(c.v), () => assert.equal(validLabelValue(c.v), c.want));
  it('sanitizeLabels drops what cannot be repaired', () => {
    assert.deepEqual(sanitizeLabels({ a: 'ok', b: 'x/y', c: 'not ok' }), { labels: { a: 'ok', b: 'y' }, dropped: ['c'] });
  });
});
