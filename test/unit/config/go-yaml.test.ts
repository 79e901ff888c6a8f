// YAML decoded as Prow decodes it (sigs.k8s.io/yaml over go-yaml v2, then encoding/json into Go types).
// Scalar resolution is checked against Go's own answers (test/fixtures/go/oracle.json, from scripts/go-oracle).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/errors.ts';
import { decodeGoYaml, positionOf, type Position } from '../../../src/config/go-yaml.ts';
import type { GoType } from '../../../src/config/go-types.ts';

const oracle = JSON.parse(readFileSync(new URL('../../fixtures/go/oracle.json', import.meta.url), 'utf8')) as {
  scalars: Array<{ in: string; s: string; a: unknown; key?: string }>;
};

const field = (text: string, t: GoType): unknown => (decodeGoYaml(`v: ${text}\n`, 'x.yaml', { map: t }).value as Record<string, unknown>)['v'];

describe('go-yaml v2 scalars through sigs.k8s.io/yaml (Go oracle)', () => {
  it(`${oracle.scalars.length} plain scalars: as a Go string, as interface{}, as a map key`, () => {
    assert.ok(oracle.scalars.length > 400);
    for (const c of oracle.scalars) {
      assert.equal(field(c.in, 'string') ?? '', c.s, `string ${JSON.stringify(c.in)}`);
      assert.deepEqual(field(c.in, 'any') ?? null, c.a, `interface{} ${JSON.stringify(c.in)}`);
      assert.equal(Object.keys(decodeGoYaml(`{${c.in}: v}\n`, 'x.yaml', { map: 'string' }).value as object)[0], c.key, `key ${JSON.stringify(c.in)}`);
    }
  });
  it('quoted and block scalars stay strings; !!str and !!float tags are honoured', () => {
    assert.equal(field('"3600"', 'any'), '3600');
    assert.equal(field("'true'", 'any'), 'true');
    assert.equal(field('!!str 12', 'any'), '12');
    assert.equal(field('!!float 3', 'string'), '3');
    assert.throws(() => field('!!int x', 'any'), { message: 'x.yaml: line 1, column 10: v: cannot decode !!str `x` as a !!int' });
  });
});

describe('decoding into Go types', () => {
  const cases: Array<{ name: string; yaml: string; type: GoType; want: unknown }> = [
    { name: 'env value from a number', yaml: '{name: A, value: 3600}', type: { struct: 'V1EnvVar' }, want: { name: 'A', value: '3600' } },
    { name: 'env value from a boolean', yaml: '{name: A, value: true}', type: { struct: 'V1EnvVar' }, want: { name: 'A', value: 'true' } },
    { name: 'a null env value is unset', yaml: '{name: A, value: null}', type: { struct: 'V1EnvVar' }, want: { name: 'A' } },
    { name: 'args: [.]', yaml: '{args: [., 1e6, 0x1F, null]}', type: { struct: 'V1Container' }, want: { args: ['.', '1e+06', '31', ''] } },
    { name: 'cpu: 0.5 is the quantity 500m', yaml: '{limits: {cpu: 0.5, memory: 1.2Gi}, requests: {cpu: 2, memory: 1024Mi}}', type: { struct: 'V1ResourceRequirements' }, want: { limits: { cpu: '500m', memory: '1288490188800m' }, requests: { cpu: '2', memory: '1Gi' } } },
    { name: 'int-or-string ports stay as written', yaml: '{httpGet: {port: 8080}, tcpSocket: {port: http}}', type: { struct: 'V1Probe' }, want: { httpGet: { port: 8080 }, tcpSocket: { port: 'http' } } },
    { name: 'durations as Go writes them; an integer is nanoseconds', yaml: '{timeout: 270m, grace_period: 3600}', type: { struct: 'DecorationConfig' }, want: { timeout: '4h30m0s', grace_period: '3.6µs' } },
    { name: 'fields the Go type lacks are dropped', yaml: '{image: x, bogus: 1}', type: { struct: 'V1Container' }, want: { image: 'x' } },
    { name: 'keys match case-insensitively, as encoding/json', yaml: '{Name: a, ALWAYS_RUN: yes}', type: { struct: 'Presubmit' }, want: { name: 'a', always_run: true } },
    { name: 'integers in integral floats', yaml: '{max_concurrency: 2.0}', type: { struct: 'Presubmit' }, want: { max_concurrency: 2 } },
    { name: 'labels become strings', yaml: '{labels: {a: 1, b: yes, c: 1.50}}', type: { struct: 'Presubmit' }, want: { labels: { a: '1', b: 'true', c: '1.5' } } },
    { name: 'a null map value is the zero value', yaml: '{labels: {a: ~}}', type: { struct: 'Presubmit' }, want: { labels: { a: '' } } },
    { name: 'config.yaml keeps keys katabot does not type', yaml: '{tide: {sync_period: 1m, count: 3}}', type: { struct: 'ProwConfig' }, want: { tide: { sync_period: '1m', count: 3 } } },
    { name: 'keys resolve as YAML 1.1 scalars first: y and n are booleans', yaml: '{y: a, n: b, 1.50: c}', type: { map: 'string' }, want: { true: 'a', false: 'b', '1.5': 'c' } },
    { name: 'merge keys: later keys win, earlier maps in a list win', yaml: '{a: &a {name: a, cluster: c1}, b: &b {cluster: c2, agent: k}, j: {<<: [*a, *b], agent: x}}', type: { map: { struct: 'Presubmit' } }, want: { a: { name: 'a', cluster: 'c1' }, b: { cluster: 'c2', agent: 'k' }, j: { name: 'a', cluster: 'c1', agent: 'x' } } },
    { name: 'duplicate keys: the last wins', yaml: '{name: a, name: b}', type: { struct: 'Presubmit' }, want: { name: 'b' } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(decodeGoYaml(c.yaml, 'x.yaml', c.type).value, c.want));

  const errors: Array<{ name: string; yaml: string; type: GoType; message: string }> = [
    { name: 'a string for an integer', yaml: 'ports:\n- containerPort: http\n', type: { struct: 'V1Container' }, message: 'c.yaml: line 2, column 18: ports[0].containerPort: must be an integer, got a string' },
    { name: 'a fraction for an integer', yaml: 'max_concurrency: 1.5\n', type: { struct: 'Presubmit' }, message: 'c.yaml: line 1, column 18: max_concurrency: must be an integer, got a number' },
    { name: 'a string for a boolean', yaml: 'always_run: "yes"\n', type: { struct: 'Presubmit' }, message: 'c.yaml: line 1, column 13: always_run: must be true or false, got a string' },
    { name: 'a list for a string', yaml: 'name: [a]\n', type: { struct: 'Presubmit' }, message: 'c.yaml: line 1, column 7: name: must be a string, got a list' },
    { name: 'a bad quantity', yaml: 'limits: {cpu: 1.2.3}\n', type: { struct: 'V1ResourceRequirements' }, message: `c.yaml: line 1, column 15: limits.cpu: "1.2.3": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'` },
    { name: 'a bad duration', yaml: 'timeout: 2x\n', type: { struct: 'DecorationConfig' }, message: 'c.yaml: line 1, column 10: timeout: time: unknown unit "x" in duration "2x"' },
    { name: 'a number for a metav1.Duration', yaml: 'pod_pending_timeout: 60\n', type: { struct: 'DecorationConfig' }, message: 'c.yaml: line 1, column 22: pod_pending_timeout: must be a duration (e.g. 2h, 90m), got an integer' },
    { name: 'a null map key', yaml: '{~: a}\n', type: { map: 'string' }, message: 'c.yaml: line 1, column 2: unsupported map key of type <nil>' },
    { name: 'an alias to its own ancestor', yaml: 'a: &x\n  b: *x\n', type: 'any', message: 'c.yaml: line 2, column 6: a.b.b: anchor "x" value contains itself' },
    { name: 'syntax', yaml: 'a: [1\n', type: 'any', message: 'c.yaml: line 2, column 1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]' },
  ];
  for (const c of errors) {
    it(`error: ${c.name}`, () => {
      assert.throws(() => decodeGoYaml(c.yaml, 'c.yaml', c.type), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.message, c.message);
        return true;
      });
    });
  }

  it('a billion laughs is refused, not expanded', () => {
    const lol = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) lol.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    assert.throws(() => decodeGoYaml(lol.join('\n'), 'lol.yaml', 'any'), /excessive aliasing/);
  });
  it('only the first document is read, as go-yaml v2 Unmarshal does', () => {
    assert.deepEqual(decodeGoYaml('a: 1\n---\nb: 2\n', 'x.yaml', 'any').value, { a: 1 });
  });
  it('records positions on request', () => {
    const positions = new WeakMap<object, Map<string | number, Position>>();
    const v = decodeGoYaml('a:\n  b:\n  - 1\n  - x: 2\n', 'x.yaml', 'any', { positions }).value;
    assert.deepEqual(positionOf(positions, v, ['a', 'b', 1, 'x']), { line: 4, column: 8 });
  });
});
