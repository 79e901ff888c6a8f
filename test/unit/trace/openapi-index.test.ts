// Audit event → OpenAPI operationId as APISnoop maps it, on hand-made audit.k8s.io/v1 events against the real
// Kubernetes OpenAPI v2 spec (../shared/kubernetes/openapi-v2-swagger.json.gz; skipped with the reason when absent).
// Also: attribution, one count per request and the usage by level.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ApiUsageBuilder, usageReport } from '../../../src/trace/api-usage.ts';
import { auditEventsOf, type AuditEvent } from '../../../src/trace/audit-parse.ts';
import { auditEventRow, classifyRequest, principalOf, userAgentName } from '../../../src/trace/audit.ts';
import { buildOpenApiIndex, findOperation, methodForVerb, uriParts, type OpenApiIndex } from '../../../src/trace/openapi-index.ts';

const SPEC = new URL('../../../../shared/kubernetes/openapi-v2-swagger.json.gz', import.meta.url).pathname;
const skip = existsSync(SPEC) ? false : `no Kubernetes OpenAPI spec at ${SPEC}`;
if (skip) console.log(`# skipping spec-based tests: ${skip}`);
const index: OpenApiIndex | undefined = skip ? undefined : buildOpenApiIndex(JSON.parse(gunzipSync(readFileSync(SPEC)).toString('utf8')));

let n = 0;
const event = (verb: string, requestURI: string, extra: Partial<AuditEvent> = {}): AuditEvent => ({
  kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: `id-${++n}`, stage: 'ResponseComplete', verb, requestURI,
  user: { username: 'system:serviceaccount:e2e-tests-x2x7q:default' }, userAgent: 'kubectl/v1.33.0 (linux/amd64) kubernetes/abc1234', ...extra,
});

describe('audit → operationId (APISnoop)', { skip }, () => {
  const cases: Array<[string, string, string, string | null, string?]> = [
    // [name, verb, requestURI, operationId, level]
    ['core get', 'get', '/api/v1/namespaces/default/pods/web-0', 'readCoreV1NamespacedPod', 'stable'],
    ['core list', 'list', '/api/v1/namespaces/default/pods?limit=500', 'listCoreV1NamespacedPod'],
    ['core list, all namespaces', 'list', '/api/v1/pods', 'listCoreV1PodForAllNamespaces'],
    ['watch with ?watch=true maps to the list operation', 'watch', '/api/v1/namespaces/default/pods?watch=true&resourceVersion=1', 'listCoreV1NamespacedPod'],
    ['watch on the /watch/ path', 'watch', '/api/v1/watch/namespaces/default/pods', 'watchCoreV1NamespacedPodList'],
    ['core create', 'create', '/api/v1/namespaces/e2e-x/secrets', 'createCoreV1NamespacedSecret'],
    ['deletecollection', 'deletecollection', '/api/v1/namespaces/e2e-x/pods', 'deleteCoreV1CollectionNamespacedPod'],
    ['named group get', 'get', '/apis/apps/v1/namespaces/shop/deployments/web', 'readAppsV1NamespacedDeployment'],
    ['named group patch', 'patch', '/apis/apps/v1/namespaces/shop/deployments/web', 'patchAppsV1NamespacedDeployment'],
    ['dotted group', 'create', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', 'createRbacAuthorizationV1ClusterRoleBinding'],
    ['subresource status', 'update', '/apis/apps/v1/namespaces/shop/deployments/web/status', 'replaceAppsV1NamespacedDeploymentStatus'],
    ['subresource log', 'get', '/api/v1/namespaces/shop/pods/web-0/log?container=app', 'readCoreV1NamespacedPodLog'],
    ['subresource exec (POST)', 'create', '/api/v1/namespaces/shop/pods/web-0/exec?command=ls&stdout=true', 'connectCoreV1PostNamespacedPodExec'],
    ['subresource exec (websocket GET)', 'get', '/api/v1/namespaces/shop/pods/web-0/exec?command=ls', 'connectCoreV1GetNamespacedPodExec'],
    ['namespace status (APISnoop special case)', 'get', '/api/v1/namespaces/e2e-x/status', 'readCoreV1NamespaceStatus'],
    ['namespace finalize', 'update', '/api/v1/namespaces/e2e-x/finalize', 'replaceCoreV1NamespaceFinalize'],
    ['proxy with a path: the tail is one segment', 'get', '/api/v1/namespaces/shop/services/https:web:443/proxy/api/v2/healthz', 'connectCoreV1GetNamespacedServiceProxyWithPath'],
    ['proxy without a path', 'get', '/api/v1/nodes/node-1/proxy', 'connectCoreV1GetNodeProxy'],
    ['pod proxy POST', 'create', '/api/v1/namespaces/shop/pods/web-0/proxy/x', 'connectCoreV1PostNamespacedPodProxyWithPath'],
    ['beta level', 'list', '/apis/admissionregistration.k8s.io/v1beta1/mutatingadmissionpolicies', 'listAdmissionregistrationV1beta1MutatingAdmissionPolicy', 'beta'],
    ['alpha level', 'list', '/apis/admissionregistration.k8s.io/v1alpha1/mutatingadmissionpolicies', 'listAdmissionregistrationV1alpha1MutatingAdmissionPolicy', 'alpha'],
    ['discovery /api', 'get', '/api', 'getCoreAPIVersions'],
    ['discovery /apis', 'get', '/apis', 'getAPIVersions'],
    ['discovery /version', 'get', '/version?timeout=32s', 'getCodeVersion'],
    ['discovery group', 'get', '/apis/apps', 'getAppsAPIGroup'],
    ['discovery resources', 'get', '/apis/apps/v1', 'getAppsV1APIResources'],
    ['an aggregated API the spec lacks', 'list', '/apis/example.io/v1/foos', null],
  ];
  for (const [name, verb, uri, want, level] of cases) {
    it(name, () => {
      const row = auditEventRow(event(verb, uri), index!);
      assert.equal(row.operationId, want);
      if (level) assert.equal(row.level, level);
      if (want === null) assert.equal(row.level, null);
    });
  }

  const ignored: Array<[string, string]> = [['healthz', '/healthz'], ['readyz', '/readyz?verbose'], ['livez', '/livez'], ['metrics', '/metrics'],
    ['openapi v2', '/openapi/v2'], ['metrics.k8s.io', '/apis/metrics.k8s.io/v1beta1/nodes']];
  for (const [name, uri] of ignored) {
    it(`skips ${name} as APISnoop does`, () => {
      assert.equal(findOperation(index!, 'get', uri).kind, 'ignored');
      assert.equal(classifyRequest(event('get', uri), index), undefined);
    });
  }

  it('keys a request by verb, version, resource and operation, attributed to user agent and service account', () => {
    const r = classifyRequest(event('create', '/api/v1/namespaces/e2e-x/secrets', { objectRef: { resource: 'secrets', namespace: 'e2e-x', apiVersion: 'v1' } }), index)!;
    assert.equal(r.item.key, 'create v1 secrets (createCoreV1NamespacedSecret)');
    assert.equal(r.by, 'kubectl (sa:e2e-tests-<rand>/default)');
    assert.deepEqual([r.item.level, r.item.group, r.item.category, r.item.discovery], ['stable', 'core', 'core', false]);
    const sub = classifyRequest(event('create', '/api/v1/namespaces/x/pods/p/exec', { objectRef: { resource: 'pods', subresource: 'exec', apiVersion: 'v1' } }), index)!;
    assert.equal(sub.item.key, 'create v1 pods/exec (connectCoreV1PostNamespacedPodExec)');
    const disc = classifyRequest(event('get', '/apis'), index)!;
    assert.deepEqual([disc.item.key, disc.item.discovery], ['get /apis (getAPIVersions)', true]);
  });

  it('usage: one count per request across stages, by level, categories and eligible coverage', () => {
    const u = new ApiUsageBuilder(index!);
    const id = 'same-request';
    u.add(event('create', '/api/v1/namespaces/x/secrets', { auditID: id, stage: 'RequestReceived' }));
    u.add(event('create', '/api/v1/namespaces/x/secrets', { auditID: id, stage: 'ResponseComplete' }));
    u.add(event('get', '/api/v1/namespaces/x/secrets/s'));
    u.add(event('get', '/healthz'));
    u.add(event('list', '/apis/example.io/v1/foos'));
    const r = usageReport(u.record(), index!.operations);
    assert.deepEqual([r.events, r.requests, r.matched, r.ignored, r.unmatched], [5, 4, 2, 1, 1]);
    assert.deepEqual(r.endpoints.map((e) => [e.endpoint, e.hits]), [['createCoreV1NamespacedSecret', 1], ['readCoreV1NamespacedSecret', 1]]);
    assert.deepEqual(r.endpoints[0]!.serviceAccounts, [{ name: 'e2e-tests-<rand>/default', hits: 1 }]);
    assert.deepEqual(r.endpoints[0]!.apps, [{ name: 'kubectl', hits: 1 }]);
    const stable = r.summary.find((s) => s.level === 'stable')!;
    assert.equal(stable.hit, 2);
    assert.equal(r.coverage.hit, 2);
    assert.ok(r.coverage.eligible > 400 && r.coverage.eligible === stable.endpoints, 'without the ineligible list, eligible = stable and not deprecated');
    assert.ok(r.categories.some((c) => c.category === 'core' && c.level === 'stable' && c.hit === 2));
    assert.deepEqual(r.skipped, { total: 0, reasons: [] });
  });
});

describe('audit parsing and attribution (no spec needed)', () => {
  it('verbs map to methods as APISnoop assigns them', () => {
    const table: Array<[string, string | null]> = [['get', 'get'], ['list', 'get'], ['watch', 'get'], ['create', 'post'], ['update', 'put'], ['patch', 'patch'],
      ['delete', 'delete'], ['deletecollection', 'delete'], ['proxy', 'proxy'], ['', 'options'], ['bogus', null]];
    for (const [verb, method] of table) assert.equal(methodForVerb(verb, '/x'), method, verb);
  });
  it('proxy tails become one part', () => {
    assert.deepEqual(uriParts('/api/v1/nodes/n/proxy/a/b/c'), ['api', 'v1', 'nodes', 'n', 'proxy', 'a/b/c']);
    assert.deepEqual(uriParts('/api/'), ['api']);
  });
  it('reads Events and EventLists and names a bad line', () => {
    assert.equal(auditEventsOf({ kind: 'EventList', items: [event('get', '/api'), event('get', '/apis')] }, 1).length, 2);
    assert.throws(() => auditEventsOf({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', verb: 'get' }, 7), /^AuditParseError: line 7: no requestURI/);
  });
  it('user agents and principals', () => {
    assert.equal(userAgentName('e2e.test/v1.33.0 (linux/amd64) kubernetes/abc -- [sig-apps] Deployment should run [Conformance]'), 'e2e.test -- [sig-apps] Deployment should run [Conformance]');
    assert.equal(userAgentName(undefined), '?');
    assert.equal(principalOf('system:node:kind-worker'), 'system:node:<node>');
    assert.equal(principalOf('kubernetes-admin'), 'kubernetes-admin');
  });
  it('without a spec, requests are keyed by verb and resource', () => {
    const r = classifyRequest(event('create', '/api/v1/namespaces/x/secrets', { objectRef: { resource: 'secrets', apiVersion: 'v1' } }))!;
    assert.deepEqual([r.item.key, r.item.operationId, r.item.level], ['create v1 secrets', null, null]);
  });
});
