// Deterministic ProwJob names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { v5 as uuidv5, version } from 'uuid';
import { isUuid, KATABOT_PROWJOB_NAMESPACE, prowJobName } from '../../../src/jobs/names.ts';

describe('prowJobName', () => {
  const delivery = '72d3162e-cc78-11e3-81ab-4c9367dc0958';
  const parts = [delivery, 'e2e-kata-qemu', '8f3b5c1d2e4a6b7c8d9e0f1a2b3c4d5e6f7a8b9c', 'test'];
  it('is an RFC 4122 version 5 UUID, valid as a Kubernetes name', () => {
    const n = prowJobName(parts);
    assert.ok(isUuid(n));
    assert.equal(version(n), 5);
    assert.match(n, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
  it('is stable: the same parts give the same name (a retried delivery recreates the same object)', () => {
    assert.equal(prowJobName(parts), prowJobName([...parts]));
  });
  it('is pinned to the katabot namespace (changing it would break idempotency across versions)', () => {
    assert.equal(KATABOT_PROWJOB_NAMESPACE, uuidv5('https://katabot.dev/prowjob', uuidv5.URL));
    assert.equal(prowJobName(['a']), uuidv5(JSON.stringify(['a']), KATABOT_PROWJOB_NAMESPACE));
  });
  const variants: Array<[string, string[]]> = [
    ['another delivery', ['0f0e0d0c-0000-1111-2222-333344445555', ...parts.slice(1)]],
    ['another job', [delivery, 'e2e-kata-clh', ...parts.slice(2)]],
    ['another head SHA', [...parts.slice(0, 2), 'ffffffffffffffffffffffffffffffffffffffff', 'test']],
    ['another purpose', [...parts.slice(0, 3), 'retest']],
    ['joined differently', [delivery + 'e2e-kata-qemu', ...parts.slice(2)]],
  ];
  for (const [name, other] of variants) it(`${name} gives another name`, () => assert.notEqual(prowJobName(other), prowJobName(parts)));
  it('needs at least one part', () => assert.throws(() => prowJobName([])));
});
