// resource.Quantity as Go parses and marshals it. Cases from kubernetes/apimachinery
// pkg/api/resource/quantity_test.go at eed236ceee2c19c2753a3d93ac0631dc20750454 (TestQuantityString: canonical
// forms and alternates; TestQuantityParseEmit; the invalid inputs of TestQuantityParse), plus the job-config
// values issue 13 names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalQuantity } from '../../../src/config/quantity.ts';

describe('canonicalQuantity', () => {
  // [canonical, alternate]: the canonical text parses to itself; the alternate marshals as the canonical text.
  const stringCases: Array<[string, string]> = [
    ['1Gi', '1024Mi'], ['300Mi', '307200Ki'], ['6Ki', ''], ['1001Gi', '1025024Mi'], ['1Ti', '1024Gi'], ['5', '5000m'], ['500m', '0.5'],
    ['1G', '1000M'], ['1G', '0.001T'], ['1m', '1000u'], ['80m', ''], ['1080m', '1.08'], ['1080m', '1080000000n'], ['300M', ''], ['1T', ''],
    ['1234567M', ''], ['1234567m', ''], ['3k', ''], ['1025', ''], ['0', ''], ['1e9', '.001e12'], ['1e-3', '0.001e0'], ['1e-9', '1000e-12'],
    ['80e-3', ''], ['300e6', ''], ['1e12', ''], ['1e3', ''], ['3e3', ''], ['0', '00'], ['1n', ''], ['80n', ''], ['1080n', ''], ['1u', ''],
    ['80u', ''], ['1080u', ''],
  ];
  for (const [canonical, alternate] of stringCases) {
    it(`${canonical}${alternate ? ` ← ${alternate}` : ''}`, () => {
      assert.equal(canonicalQuantity(canonical), canonical);
      if (alternate) assert.equal(canonicalQuantity(alternate), canonical);
      if (canonical !== '0') assert.equal(canonicalQuantity(`-${alternate || canonical}`), `-${canonical}`);
    });
  }
  const emit: Array<[string, string]> = [
    ['1Ki', '1Ki'], ['1Mi', '1Mi'], ['1Gi', '1Gi'], ['1024Mi', '1Gi'], ['1000M', '1G'], ['.001Ki', '1024m'], ['.000001Ki', '1024u'],
    ['.000000001Ki', '1024n'], ['.000000000001Ki', '2n'],
  ];
  for (const [input, want] of emit) it(`${input} → ${want}`, () => assert.equal(canonicalQuantity(input), want));
  it('job-config values from issue 13 and kubernetes/test-infra', () => {
    assert.equal(canonicalQuantity('0.5'), '500m');
    assert.equal(canonicalQuantity('2'), '2');
    assert.equal(canonicalQuantity('1.2Gi'), '1288490188800m');
    assert.equal(canonicalQuantity('16Gi'), '16Gi');
  });
  it('values past int64 saturate in binary form; tiny values round up to 1n', () => {
    assert.equal(canonicalQuantity('9Ei'), '9223372036854775807');
    assert.equal(canonicalQuantity('0.0000000001'), '1n');
    assert.equal(canonicalQuantity('3.001n'), '4n');
  });
  it('keeps text ParseQuantity already finds canonical, as Go marshals it back unchanged', () => {
    assert.equal(canonicalQuantity('+1'), '+1');
    assert.equal(canonicalQuantity('01'), '01');
  });
  for (const bad of ['1.1.M', '1+1.0M', '0.1mi', '0.1am', 'aoeu', '.5i', '1i', '-3.01i', '-3.01e-', ' 1', '1 ', '']) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => canonicalQuantity(bad), { name: 'QuantityError' }));
  }
});
