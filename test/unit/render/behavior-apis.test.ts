// The Kubernetes API operations section of the behavior comment: audit events mapped with the real Kubernetes spec
// (../shared; skipped with the reason when absent) into base and head profiles, then diffed. New and vanished
// operations by level, new beta/alpha called out, stable when the same log is traced twice, the spec named.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { apiChanges, apiSection } from '../../../src/render/behavior-apis.ts';
import { renderBehaviorComment } from '../../../src/render/behavior.ts';
import { AuditDeduper, SkipCounter, type AuditEvent } from '../../../src/trace/audit-parse.ts';
import { classifyRequest } from '../../../src/trace/audit.ts';
import { diffProfiles } from '../../../src/trace/diff.ts';
import { buildOpenApiIndex, type OpenApiIndex } from '../../../src/trace/openapi-index.ts';
import { ProfileBuilder, type BehaviorProfile } from '../../../src/trace/profile.ts';

const SPEC = new URL('../../../../shared/kubernetes/openapi-v2-swagger.json.gz', import.meta.url).pathname;
const skip = existsSync(SPEC) ? false : `no Kubernetes OpenAPI spec at ${SPEC}`;
const index: OpenApiIndex | undefined = skip ? undefined : buildOpenApiIndex(JSON.parse(gunzipSync(readFileSync(SPEC)).toString('utf8')));

let n = 0;
const KUBECTL = 'kubectl/v1.27.0 (linux/amd64) kubernetes/564f438';
const ev = (verb: string, requestURI: string, resource?: string, apiGroup?: string, apiVersion = 'v1'): AuditEvent => ({
  kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: `id${++n}`, stage: 'ResponseComplete', verb, requestURI, userAgent: KUBECTL,
  user: { username: 'system:serviceaccount:ci:runner' },
  ...(resource ? { objectRef: { resource, apiVersion, ...(apiGroup ? { apiGroup } : {}) } } : {}),
});

function profileOf(events: AuditEvent[], withSpec = true): BehaviorProfile {
  const b = new ProfileBuilder();
  const d = new AuditDeduper();
  for (const e of events) {
    if (!d.first(e)) continue;
    const r = classifyRequest(e, withSpec ? index : undefined);
    if (r) b.addApi(r.item, r.by);
  }
  const p = b.build();
  p.apiSpec = withSpec ? { source: 'job', name: 'katabot/openapi-v2.json.gz', version: 'v1.33.1' } : { source: 'none', name: '', version: '' };
  return p;
}

const BASE = () => [
  ev('get', '/api/v1/namespaces/ci/pods/runner-0', 'pods'),
  ev('list', '/api/v1/namespaces/ci/configmaps', 'configmaps'),
  ev('create', '/api/v1/namespaces/ci/secrets', 'secrets'),
  ev('get', '/apis', undefined),
];
const opts = { maxRows: 100, moreNote: 'see the full report' };

describe('API operations in the behavior comment', { skip }, () => {
  it('the same job traced twice: no operation changes, no section', () => {
    const d = diffProfiles([profileOf(BASE())], profileOf(BASE()));
    assert.deepEqual(apiChanges(d), { added: [], removed: [] });
    assert.equal(apiSection(d, opts), undefined);
    assert.doesNotMatch(renderBehaviorComment(d, { job: 'j' }), /Kubernetes API operations|IMPORTANT/);
  });

  it('new and vanished operations by level; a new beta operation is called out', () => {
    const head = [
      ev('get', '/api/v1/namespaces/ci/pods/runner-0', 'pods'),
      ev('list', '/api/v1/namespaces/ci/configmaps', 'configmaps'),
      ev('get', '/apis', undefined),
      ev('create', '/apis/apps/v1/namespaces/ci/deployments', 'deployments', 'apps'),
      ev('create', '/apis/apps/v1/namespaces/ci/deployments', 'deployments', 'apps'),
      ev('list', '/apis/admissionregistration.k8s.io/v1beta1/mutatingadmissionpolicies', 'mutatingadmissionpolicies', 'admissionregistration.k8s.io', 'v1beta1'),
    ];
    const d = diffProfiles([profileOf(BASE())], profileOf(head));
    const c = apiChanges(d);
    assert.deepEqual(c.added.map((o) => [o.level, o.operationId, o.count]), [
      ['stable', 'createAppsV1NamespacedDeployment', 2],
      ['beta', 'listAdmissionregistrationV1beta1MutatingAdmissionPolicy', 1],
    ]);
    assert.deepEqual(c.removed.map((o) => [o.level, o.operationId]), [['stable', 'createCoreV1NamespacedSecret']]);
    const md = renderBehaviorComment(d, { job: 'j' });
    assert.match(md, /<details><summary><b>Kubernetes API operations<\/b> · \+2 −1 \(new: 1 stable, 1 beta\) \(gone: 1 stable\)<\/summary>/);
    assert.match(md, /\| \+ \| stable \| <code>createAppsV1NamespacedDeployment<\/code> \| apps \| 2 \|/);
    assert.match(md, /\| − \| stable \| <code>createCoreV1NamespacedSecret<\/code> \| core \| 1 \|/);
    assert.match(md, /> \[!IMPORTANT\]\n> \*\*New beta Kubernetes API operation:\*\* <code>listAdmissionregistrationV1beta1MutatingAdmissionPolicy<\/code>\. Beta APIs may still change/);
    assert.match(md, /Operations named with the job's own `\/openapi\/v2` \(`katabot\/openapi-v2\.json\.gz`, v1\.33\.1\)/);
  });

  it('an operation head still calls another way is not new (a watch of what was listed)', () => {
    const head = [...BASE(), ev('watch', '/api/v1/namespaces/ci/configmaps?watch=true', 'configmaps')];
    const d = diffProfiles([profileOf(BASE())], profileOf(head));
    assert.equal(d.k8sApi.added.length, 1, 'the watch is a new call');
    assert.deepEqual(apiChanges(d), { added: [], removed: [] }, 'but listCoreV1NamespacedConfigMap was called before');
  });

  it('discovery operations are hidden unless asked for', () => {
    const d = diffProfiles([profileOf(BASE())], profileOf([...BASE(), ev('get', '/apis/apps/v1', undefined)]));
    assert.deepEqual(apiChanges(d).added, []);
    assert.deepEqual(apiChanges(d, true).added.map((o) => o.operationId), ['getAppsV1APIResources']);
  });

  it('without a spec the section says why calls have no operation names', () => {
    const d = diffProfiles([profileOf(BASE(), false)], profileOf([...BASE(), ev('delete', '/api/v1/namespaces/ci/pods/x', 'pods')], false));
    const s = apiSection(d, opts)!;
    assert.match(s, /Kubernetes API operations<\/b> · \+0 −0/);
    assert.match(s, /No OpenAPI spec for this run: calls are keyed by verb and resource\. Capture the cluster's `\/openapi\/v2`/);
  });

  it("skipped audit events of head's log are counted under the heading", () => {
    const head = profileOf(BASE());
    const s = new SkipCounter();
    s.add('bad JSON', 'kube-apiserver-audit.log:17');
    head.auditSkipped = s.summary();
    const md = renderBehaviorComment(diffProfiles([profileOf(BASE())], head), { job: 'j' });
    assert.match(md, /<sub>Head's audit log: 1 malformed audit event skipped: bad JSON 1 \(kube-apiserver-audit\.log:17\)\.<\/sub>/);
  });
});
