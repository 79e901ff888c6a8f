// The bot's OpenAPI specs: the one a job captured among its artifacts is found (under katabot/ first), each
// distinct document is indexed once whether gzipped or not, and the cache keeps a bounded number of indexes.
// Uses the real Kubernetes spec (../shared; skipped with the reason when absent).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { OpenApiCache, openApiFallback, specArtifact } from '../../../src/behavior/openapi-load.ts';
import { BehaviorInputError } from '../../../src/behavior/read.ts';

const SPEC = new URL('../../../../shared/kubernetes/openapi-v2-swagger.json.gz', import.meta.url).pathname;
const skip = existsSync(SPEC) ? false : `no Kubernetes OpenAPI spec at ${SPEC}`;

describe('the spec among a job\'s artifacts', () => {
  const cases: Array<[string, string[], string | undefined]> = [
    ['katabot/ wins', ['logs/openapi-v2.json', 'katabot/openapi-v2.json.gz', 'katabot/trace.jsonl'], 'katabot/openapi-v2.json.gz'],
    ['the shortest path otherwise', ['logs/cluster/openapi.json', 'swagger.json'], 'swagger.json'],
    ['none', ['katabot/trace.jsonl', 'katabot/kube-apiserver-audit.log'], undefined],
    ['not a spec name', ['katabot/openapi-v3.json', 'openapi-v2.json.bak'], undefined],
  ];
  for (const [name, keys, want] of cases) it(name, () => assert.equal(specArtifact(keys), want));
});

describe('OpenApiCache', { skip }, () => {
  const gz = readFileSync(SPEC);
  const raw = gunzipSync(gz);
  const other = (() => {
    const doc = JSON.parse(raw.toString('utf8')) as { info: { version: string }; paths: Record<string, unknown> };
    doc.info.version = 'v1.99.0';
    doc.paths['/apis/example.io/v1/widgets'] = { get: { operationId: 'listExampleV1Widget', tags: ['example_v1'] } };
    return Buffer.from(JSON.stringify(doc));
  })();

  it('indexes a document once, gzipped or not', () => {
    const c = new OpenApiCache();
    const a = c.index(gz, 'a.json.gz');
    const b = c.index(raw, 'b.json');
    assert.equal(a, b);
    assert.equal(c.built, 1);
    assert.ok(a.operations.some((o) => o.operationId === 'readCoreV1Namespace'));
  });

  it('a different document (a cluster with a CRD) is a different index', () => {
    const c = new OpenApiCache();
    const a = c.index(gz, 'a');
    const b = c.index(other, 'b');
    assert.notEqual(a, b);
    assert.equal(b.version, 'v1.99.0');
    assert.ok(b.operations.some((o) => o.operationId === 'listExampleV1Widget'));
    assert.equal(c.built, 2);
  });

  it('keeps at most its bound, least recently used out first', () => {
    const c = new OpenApiCache(1);
    c.index(gz, 'a');
    c.index(other, 'b');
    assert.equal(c.size, 1);
    c.index(gz, 'a');
    assert.equal(c.built, 3, 'the first was evicted and indexed again');
  });

  it('a malformed document is one line naming it', () => {
    assert.throws(() => new OpenApiCache().index(Buffer.from('{"swagger":'), 'katabot/openapi-v2.json'), (e: unknown) => e instanceof BehaviorInputError && /^katabot\/openapi-v2\.json: not JSON: /.test(e.message));
    assert.throws(() => new OpenApiCache().index(gzipSync('{}'), 'x.json.gz'), /x\.json\.gz: not an OpenAPI v2 document/);
  });
});

describe('KATABOT_OPENAPI', () => {
  it('unset: no fallback', () => assert.equal(openApiFallback(undefined, () => assert.fail()), undefined));
  it('a missing file is reported once per attempt and gives no index', async () => {
    const errors: string[] = [];
    const f = openApiFallback('/nonexistent/spec.json', (e) => errors.push(e.message))!;
    assert.equal(await f(), undefined);
    assert.equal(await f(), undefined);
    assert.deepEqual(errors, ['/nonexistent/spec.json: no such file', '/nonexistent/spec.json: no such file']);
  });
  it('loads once', { skip }, async () => {
    const f = openApiFallback(SPEC, (e) => assert.fail(e.message))!;
    const [a, b] = await Promise.all([f(), f()]);
    assert.ok(a);
    assert.equal(a, b);
  });
});
