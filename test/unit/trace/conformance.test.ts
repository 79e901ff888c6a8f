// Conformance attribution on user agents of real e2e runs (test/fixtures/k8s/user-agents.ts names the APISnoop file
// of each): conformance tests, other e2e tests, kubectl, controllers. Eligibility: stable and not deprecated, minus
// Kubernetes' ineligible_endpoints.yaml (data/kubernetes), whose entries must all be operations of the real spec.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { ineligibleEndpoints, INELIGIBLE_ENDPOINTS_FILE } from '../../../src/behavior/conformance-data.ts';
import { conformanceEligibility, hitKindOf, parseIneligibleEndpoints, parseUserAgent } from '../../../src/trace/conformance.ts';
import { buildOpenApiIndex } from '../../../src/trace/openapi-index.ts';
import { REAL_USER_AGENTS } from '../../fixtures/k8s/user-agents.ts';

const SPEC = new URL('../../../../shared/kubernetes/openapi-v2-swagger.json.gz', import.meta.url).pathname;
const noSpec = existsSync(SPEC) ? false : `no Kubernetes OpenAPI spec at ${SPEC}`;

describe('user agents of real e2e runs', () => {
  for (const c of REAL_USER_AGENTS) {
    it(`${c.want.conformance ? 'conformance' : c.want.e2e ? 'e2e' : c.want.program}: ${c.ua.slice(0, 90)}`, () => {
      const got = parseUserAgent(c.ua);
      assert.deepEqual(got, c.want, `from apisnoop ${c.source}`);
      assert.equal(hitKindOf(got), c.want.conformance ? 'conformance' : c.want.e2e ? 'e2e' : 'other');
    });
  }
  it('covers conformance, non-conformance e2e, kubectl and controllers', () => {
    const kinds = new Set(REAL_USER_AGENTS.map((c) => (c.want.conformance ? 'conformance' : c.want.e2e ? 'e2e' : c.want.program)));
    for (const k of ['conformance', 'e2e', 'kubectl', 'kube-controller-manager', 'kube-scheduler']) assert.ok(kinds.has(k), k);
  });
  it('no user agent is nobody', () => {
    assert.deepEqual(parseUserAgent(undefined), { program: '?', e2e: false, conformance: false });
    assert.deepEqual(parseUserAgent(''), { program: '?', e2e: false, conformance: false });
  });
  it('a test name that holds "--" is kept whole (APISnoop would cut it)', () => {
    const ua = 'e2e.test/v1.33.0 (linux/amd64) kubernetes/abc1234 -- [sig-cli] Kubectl client Simple pod should support exec through kubectl proxy --unix-socket';
    assert.equal(parseUserAgent(ua).test, '[sig-cli] Kubectl client Simple pod should support exec through kubectl proxy --unix-socket');
  });
});

describe('conformance eligibility', () => {
  const list = parseIneligibleEndpoints([{ endpoint: 'createCoreV1Node', reason: 'uses kubelet api', link: 'https://example.org/x' }], 'test');
  const cases: Array<[string, { operationId: string; level: 'stable' | 'beta' | 'alpha'; deprecated: boolean }, ReturnType<typeof conformanceEligibility>]> = [
    ['stable, not deprecated', { operationId: 'readCoreV1Namespace', level: 'stable', deprecated: false }, { eligible: true }],
    ['beta', { operationId: 'x', level: 'beta', deprecated: false }, { eligible: false, reason: 'beta API' }],
    ['alpha', { operationId: 'x', level: 'alpha', deprecated: false }, { eligible: false, reason: 'alpha API' }],
    ['deprecated', { operationId: 'x', level: 'stable', deprecated: true }, { eligible: false, reason: 'deprecated' }],
    ['on the ineligible list', { operationId: 'createCoreV1Node', level: 'stable', deprecated: false }, { eligible: false, reason: 'uses kubelet api', link: 'https://example.org/x' }],
  ];
  for (const [name, op, want] of cases) it(name, () => assert.deepEqual(conformanceEligibility(op, list), want));

  it('a malformed list is one line naming the file and entry', () => {
    assert.throws(() => parseIneligibleEndpoints({ endpoint: 'x' }, 'f.yaml'), /^Error: f\.yaml: expected a list/);
    assert.throws(() => parseIneligibleEndpoints([{ endpoint: 'a' }, { reason: 'b' }], 'f.yaml'), /^Error: f\.yaml: entry 2: no endpoint$/);
  });
});

describe("Kubernetes' ineligible_endpoints.yaml (data/kubernetes)", () => {
  it('is read as data: 99 entries with reasons and links', async () => {
    const m = await ineligibleEndpoints();
    assert.equal(m.size, 99);
    assert.deepEqual(m.get('connectCoreV1GetNodeProxy'), { endpoint: 'connectCoreV1GetNodeProxy', reason: 'Unable to be tested, and likely soon deprecated', link: 'https://github.com/kubernetes/kubernetes/issues/95930' });
    assert.equal(m.get('createNetworkingV1ServiceCIDR')?.reason, 'Kubernetes distribution would reasonably not allow this action via the API');
  });
  it('names only operations of the Kubernetes spec', { skip: noSpec }, () => {
    const index = buildOpenApiIndex(JSON.parse(gunzipSync(readFileSync(SPEC)).toString('utf8')));
    const ids = new Set(index.operations.map((o) => o.operationId));
    const listed = (parse(readFileSync(INELIGIBLE_ENDPOINTS_FILE, 'utf8')) as Array<{ endpoint: string }>).map((e) => e.endpoint);
    assert.deepEqual(listed.filter((e) => !ids.has(e)), []);
    // stable operations the list takes out of the eligible set
    const stable = index.operations.filter((o) => o.level === 'stable' && !o.deprecated && listed.includes(o.operationId));
    assert.ok(stable.length > 80, `${stable.length} stable listed operations`);
  });
});
