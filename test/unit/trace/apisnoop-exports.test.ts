// APISnoop's CSV exports: the header of each is APISnoop's own (copied below from kubernetes-sigs/apisnoop
// attic/audit/lib/exports.py @ 3f6ae5682aca805ec40acecad9d0052315376d02 and the endpoint_coverage view,
// apps/snoopdb/postgres/initdb/200_view_endpoint_coverage.sql @ 57cc8c0644a494d08f7d2f602bbc8f11f54ba7aa), and the
// rows follow its rules, on requests of real user agents against the real Kubernetes spec (../shared).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ineligibleEndpoints } from '../../../src/behavior/conformance-data.ts';
import { ApiUsageBuilder, type ApiUsageRecord } from '../../../src/trace/api-usage.ts';
import { exportCsv, type ExportInput, type ExportName } from '../../../src/trace/apisnoop-exports.ts';
import type { AuditEvent } from '../../../src/trace/audit-parse.ts';
import type { IneligibleEndpoint } from '../../../src/trace/conformance.ts';
import { buildOpenApiIndex, type OpenApiIndex } from '../../../src/trace/openapi-index.ts';
import { REAL_USER_AGENTS } from '../../fixtures/k8s/user-agents.ts';

const SPEC = new URL('../../../../shared/kubernetes/openapi-v2-swagger.json.gz', import.meta.url).pathname;
const skip = existsSync(SPEC) ? false : `no Kubernetes OpenAPI spec at ${SPEC}`;

/** APISnoop's headers, as its exporters write them. */
const APISNOOP_HEADERS: Record<ExportName, string> = {
  'app-usage-categories': 'app,level,category,count', // headers = ["app", "level", "category", "count"]
  'app-usage-summary': 'app,stable,beta,alpha,total,conformance', // headers = ["app", "stable", "beta", "alpha", "total", "conformance"]
  'app-usage-endpoints': 'level,category,method + url,count', // headers = ['level', 'category', 'method + url', 'count']
  // headers = ['level', 'category', 'method', 'url', 'conforms', 'apps using it'] + [app.name …] + ['questions']
  'coverage-spreadsheet': 'level,category,method,url,conforms,apps using it,e2e.test,kube-controller-manager,kubectl,questions',
  // select release, endpoint, level, category, path, description, kind, version, group, action, tested, conf_tested, tests
  'endpoint-coverage': 'release,endpoint,level,category,path,description,kind,version,group,action,tested,conf_tested,tests',
};

const ua = (pred: (c: (typeof REAL_USER_AGENTS)[number]) => boolean) => REAL_USER_AGENTS.find(pred)!.ua;
const CONFORMANCE = ua((c) => c.want.conformance);
const E2E = ua((c) => c.want.e2e && !c.want.conformance);
const KUBECTL = ua((c) => c.want.program === 'kubectl');
const KCM = ua((c) => c.want.program === 'kube-controller-manager');

let n = 0;
const ev = (verb: string, requestURI: string, userAgent: string): AuditEvent => ({
  kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: `a${++n}`, stage: 'ResponseComplete', verb, requestURI, userAgent,
});

describe('APISnoop exports', { skip }, () => {
  let index: OpenApiIndex;
  let usage: ApiUsageRecord;
  let ineligible: Map<string, IneligibleEndpoint>;
  const rows = (name: ExportName, extra: Partial<ExportInput> = {}) =>
    exportCsv(name, { usage, operations: index.operations, ineligible, ...extra }).trimEnd().split('\n');

  before(async () => {
    index = buildOpenApiIndex(JSON.parse(gunzipSync(readFileSync(SPEC)).toString('utf8')));
    ineligible = await ineligibleEndpoints();
    const b = new ApiUsageBuilder(index);
    for (const e of [
      ev('get', '/api/v1/namespaces/default', CONFORMANCE), // readCoreV1Namespace
      ev('get', '/api/v1/namespaces/default', E2E),
      ev('list', '/api/v1/namespaces/e2e-1/pods', E2E), // listCoreV1NamespacedPod
      ev('create', '/api/v1/namespaces/x/secrets', KUBECTL), // createCoreV1NamespacedSecret
      ev('get', '/api/v1/nodes/n1/proxy', KUBECTL), // connectCoreV1GetNodeProxy: stable, on the ineligible list
      ev('list', '/apis/admissionregistration.k8s.io/v1beta1/mutatingadmissionpolicies', KCM), // beta
      ev('list', '/apis/admissionregistration.k8s.io/v1alpha1/mutatingadmissionpolicies', KUBECTL), // alpha
      ev('list', '/api/v1/namespaces/e2e-1/pods', KCM),
    ]) b.add(e);
    usage = b.record();
  });

  for (const name of Object.keys(APISNOOP_HEADERS) as ExportName[]) {
    it(`${name}: APISnoop's columns`, () => assert.equal(rows(name)[0], APISNOOP_HEADERS[name]));
  }

  it('app-usage-summary: endpoints per level for each app, and the least stable level it needs', () => {
    assert.deepEqual(rows('app-usage-summary').slice(1), [
      'e2e.test,2,0,0,2,stable',
      'kube-controller-manager,1,1,0,2,beta',
      'kubectl,2,0,1,3,alpha',
    ]);
  });

  it('app-usage-categories: endpoints per level and category, busiest first within an app', () => {
    assert.deepEqual(rows('app-usage-categories').slice(1), [
      'e2e.test,stable,core,2',
      'kube-controller-manager,beta,admissionregistration,1',
      'kube-controller-manager,stable,core,1',
      'kubectl,stable,core,2',
      'kubectl,alpha,admissionregistration,1',
    ]);
  });

  it('app-usage-endpoints: the endpoints used (how many apps), then the unused ones per level and category', () => {
    const r = rows('app-usage-endpoints').slice(1);
    assert.equal(r[0], 'stable,core,get /api/v1/namespaces/{namespace}/pods,2', 'most used first');
    assert.ok(r.includes('alpha,admissionregistration,get /apis/admissionregistration.k8s.io/v1alpha1/mutatingadmissionpolicies,1'));
    const used = r.filter((l) => !l.includes(',unused,'));
    assert.equal(used.length, 6);
    const unused = r.filter((l) => l.includes(',unused,')).map((l) => Number(l.split(',')[3]));
    const live = index.operations.filter((o) => !o.deprecated).length;
    assert.equal(unused.reduce((a, b) => a + b, 0) + used.length, live, 'every non-deprecated endpoint is used or counted unused');
    assert.ok(r.includes(`stable,core,unused,${index.operations.filter((o) => !o.deprecated && o.level === 'stable' && o.category === 'core').length - 4}`));
  });

  it("coverage-spreadsheet: every endpoint, katabot's attribution in conforms, ineligibility in questions", () => {
    const r = rows('coverage-spreadsheet');
    assert.equal(r.length - 1, index.operations.filter((o) => !o.deprecated).length);
    assert.equal(r[1], 'stable,core,get,/api/v1/namespaces/{namespace}/pods,e2e,2,1,1,0,', 'most apps first; hit by an e2e test only');
    const row = (path: string, method: string) => r.find((l) => l.split(',')[3] === path && l.split(',')[2] === method)!;
    assert.equal(row('/api/v1/namespaces/{name}', 'get'), 'stable,core,get,/api/v1/namespaces/{name},yes,1,2,0,0,');
    assert.equal(row('/api/v1/namespaces/{namespace}/secrets', 'post'), 'stable,core,post,/api/v1/namespaces/{namespace}/secrets,no,1,0,0,1,');
    assert.equal(row('/api/v1/nodes/{name}/proxy', 'get'),
      'stable,core,get,/api/v1/nodes/{name}/proxy,no,1,0,0,1,"not eligible for conformance: Unable to be tested, and likely soon deprecated (https://github.com/kubernetes/kubernetes/issues/95930)"');
    assert.match(row('/apis/admissionregistration.k8s.io/v1beta1/mutatingadmissionpolicies', 'get'), /,no,1,0,1,0,not eligible for conformance: beta API$/);
  });

  it('endpoint-coverage: tested by any e2e test, conf_tested by a conformance test, the tests', () => {
    const r = rows('endpoint-coverage');
    const ns = r.find((l) => l.includes(',readCoreV1Namespace,'))!;
    assert.match(ns, /^unversioned,readCoreV1Namespace,stable,core,\/api\/v1\/namespaces\/\{name\},/);
    // the tests cell holds commas, so it is quoted as csv.writer quotes it
    assert.ok(ns.endsWith(`,Namespace,v1,core,get,true,true,"[sig-api-machinery] Events should ensure that an event can be fetched, patched, deleted, and listed [Conformance];${E2E.split(' -- ')[1]}"`), ns);
    assert.match(r.find((l) => l.includes(',createCoreV1NamespacedSecret,'))!, /,false,false,$/);
    assert.equal(r[1]!.split(',')[2], 'stable', 'stable first, as the view orders by level desc');
  });

  it('an app filter keeps only that app, as APISnoop\'s export-data APP', () => {
    assert.deepEqual(rows('app-usage-summary', { app: 'kubectl' }).slice(1), ['kubectl,2,0,1,3,alpha']);
    assert.equal(rows('coverage-spreadsheet', { app: 'kubectl' })[0], 'level,category,method,url,conforms,apps using it,kubectl,questions');
  });
});
