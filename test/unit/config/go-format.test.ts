// Go's number and duration text, checked against Go's own answers (test/fixtures/go/oracle.json, written by
// scripts/go-oracle with Go's strconv, encoding/json and time packages).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { formatGoDuration, goFormatFloat32, goJsonFloat, parseGoDuration } from '../../../src/config/go-format.ts';

const oracle = JSON.parse(readFileSync(new URL('../../fixtures/go/oracle.json', import.meta.url), 'utf8')) as {
  durations: Array<{ in: string; out?: string; err?: string }>;
  floats: Array<{ in: string; out?: string; err?: string }>;
};

describe('time.ParseDuration + Duration.String (Go oracle)', () => {
  for (const c of oracle.durations) {
    it(JSON.stringify(c.in), () => {
      if (c.out !== undefined) assert.equal(formatGoDuration(parseGoDuration(c.in)), c.out);
      else assert.throws(() => parseGoDuration(c.in), { message: c.err });
    });
  }
  it('integer nanoseconds, as prowapi.Duration accepts them', () => {
    assert.equal(formatGoDuration(3600n), '3.6µs');
    assert.equal(formatGoDuration(7_200_000_000_000n), '2h0m0s');
  });
});

describe('encoding/json float64 text (Go oracle)', () => {
  for (const c of oracle.floats) it(c.in, () => assert.equal(goJsonFloat(Number(c.in)), c.out));
  it('NaN and infinities are refused as Go refuses them', () => assert.throws(() => goJsonFloat(Infinity), /unsupported value: \+Inf/));
});

describe("strconv.FormatFloat(f, 'g', -1, 32)", () => {
  const cases: Array<[number, string]> = [
    [0.5, '0.5'], [1e6, '1e+06'], [3.14159265, '3.1415927'], [0.1, '0.1'], [1.1, '1.1'], [100000, '100000'], [123456789, '1.2345679e+08'],
    [1e-5, '1e-05'], [0.0001, '0.0001'], [16777217, '1.6777216e+07'], [-2.5, '-2.5'], [1 / 3, '0.33333334'], [-0, '-0'], [Infinity, '+Inf'], [NaN, 'NaN'],
  ];
  for (const [f, want] of cases) it(`${f} → ${want}`, () => assert.equal(goFormatFloat32(f), want));
});
