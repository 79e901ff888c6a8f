// Least-privilege policies learned from profiles: the rules of each workload, the four formats validated against
// their upstream schemas, stable output for reruns, and the policy changes a PR brings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { policyChanges } from '../../../src/trace/policy/changes.ts';
import { ciliumPolicies } from '../../../src/trace/policy/cilium.ts';
import { kubeArmorPolicies } from '../../../src/trace/policy/kubearmor.ts';
import { fileRuleOf, learnPolicies, selectorLabels } from '../../../src/trace/policy/model.ts';
import { networkPolicies } from '../../../src/trace/policy/networkpolicy.ts';
import { renderSeccomp, seccompProfiles } from '../../../src/trace/policy/seccomp.ts';
import { x86_64SyscallName } from '../../../src/trace/policy/syscalls-x86_64.ts';
import { renderYaml, renderYamlStream } from '../../../src/trace/policy/yaml.ts';
import {
  ciliumValidator, kubeArmorValidator, networkPolicyValidator, openApiSkipReason, seccompValidator, type Validate,
} from '../../fixtures/policy/schemas.ts';
import { shopProfile } from '../../fixtures/policy/shop.ts';

const base = learnPolicies([shopProfile(0)]);
const rerun = learnPolicies([shopProfile(1)]);
const variant = learnPolicies([shopProfile(2, { variant: true })]);
const w = (id: string) => base.workloads.find((x) => x.id === id)!;

describe('policy rules learned from a profile', () => {
  it('one workload per namespace/workload, containers kept apart', () => {
    assert.deepEqual(base.workloads.map((x) => [x.id, x.containers]), [['shop/backend', ['api']], ['shop/db', ['postgres']], ['shop/frontend', ['web']]]);
  });
  it('egress names the traced workload at the other end (by address) and hosts by the name looked up', () => {
    assert.deepEqual(w('shop/frontend').egress.map((r) => [r.peer.kind, r.peer.id, r.ports.map((p) => `${p.proto}/${p.port}`)]), [
      ['fqdn', 'api.github.com', ['TCP/443']],
      ['workload', 'shop/backend', ['TCP/8080']],
    ]);
  });
  it('ingress comes from the clients seen', () => {
    assert.deepEqual(w('shop/db').ingress.map((r) => `${r.peer.id} ${r.ports[0]!.port}`), ['shop/backend 5432']);
  });
  it('selects pods by their identity labels, never by pod-template-hash', () => {
    assert.deepEqual(w('shop/frontend').labels, { 'app.kubernetes.io/name': 'frontend' });
    assert.equal(w('shop/frontend').selectorGuessed, false);
  });
  it('names syscalls from the probe\'s x86_64 numbers', () => {
    assert.deepEqual(w('shop/frontend').syscalls, ['close', 'connect', 'mmap', 'openat', 'read', 'write']);
  });
  it('widens normalised paths to their directory and keeps reads read-only', () => {
    assert.deepEqual(w('shop/frontend').files, [{ path: '/etc/resolv.conf', dir: false, readOnly: true }, { path: '/tmp/', dir: true, readOnly: false }]);
  });
  it('a --base profile widens the rules: the union holds for every run', () => {
    const both = learnPolicies([shopProfile(0), shopProfile(2, { variant: true })]);
    const fe = both.workloads.find((x) => x.id === 'shop/frontend')!;
    assert.deepEqual(fe.egress.map((r) => r.peer.id), ['api.github.com', 'shop/backend', 'shop/db']);
    assert.equal(both.runs.length, 2);
  });
});

describe('fileRuleOf', () => {
  const cases: Array<[string, ReturnType<typeof fileRuleOf>]> = [
    ['/etc/hosts', { path: '/etc/hosts', dir: false }],
    ['/usr/lib/python3/**', { path: '/usr/lib/python3/', dir: true }],
    ['/proc/<pid>/stat', { path: '/proc/', dir: true }],
    ['/tmp/tmp.<tmp>/out.log', { path: '/tmp/', dir: true }],
    ['relative/file', undefined],
    ['/', { path: '/', dir: true }],
  ];
  for (const [path, want] of cases) it(path, () => assert.deepEqual(fileRuleOf(path), want));
});

describe('selectorLabels', () => {
  const cases: Array<[Record<string, string>, Record<string, string>]> = [
    [{ app: 'web', 'pod-template-hash': 'abc' }, { app: 'web' }],
    [{ team: 'x', tier: 'db', 'controller-revision-hash': 'r' }, { team: 'x', tier: 'db' }],
    [{ 'app.kubernetes.io/name': 'a', 'app.kubernetes.io/part-of': 'shop' }, { 'app.kubernetes.io/name': 'a' }],
  ];
  for (const [labels, want] of cases) it(JSON.stringify(labels), () => assert.deepEqual(selectorLabels(labels), want));
});

describe('x86_64 syscall table', () => {
  const cases: Array<[number, string | undefined]> = [[0, 'read'], [59, 'execve'], [231, 'exit_group'], [257, 'openat'], [334, 'rseq'], [435, 'clone3'], [462, 'mseal'], [400, undefined], [463, undefined]];
  for (const [nr, name] of cases) it(`${nr} → ${name}`, () => assert.equal(x86_64SyscallName(nr), name));
});

describe('policies validate against their upstream schemas', () => {
  const skip = openApiSkipReason();
  const formats: Array<[string, () => Validate, string, string | undefined]> = [
    ['NetworkPolicy (Kubernetes OpenAPI v2)', networkPolicyValidator, renderYamlStream(networkPolicies(variant)), skip],
    ['CiliumNetworkPolicy (Cilium CRD)', ciliumValidator, renderYamlStream(ciliumPolicies(variant)), undefined],
    ['KubeArmorPolicy (KubeArmor CRD)', kubeArmorValidator, renderYamlStream(kubeArmorPolicies(variant)), undefined],
  ];
  for (const [name, validator, yaml, skipReason] of formats) {
    it(name, { skip: skipReason ?? false }, () => {
      const validate = validator();
      const docs = parseAllDocuments(yaml).map((d) => d.toJS() as unknown);
      assert.equal(docs.length, 3);
      for (const d of docs) assert.deepEqual(validate(d), [], JSON.stringify(d));
      // and a broken one is refused, so the validator does check
      const bad = structuredClone(docs[0]) as { spec: Record<string, unknown> };
      bad.spec['bogus'] = true;
      assert.notDeepEqual(validate(bad), []);
    });
  }
  it('seccomp (OCI runtime-spec linux.seccomp)', () => {
    const validate = seccompValidator();
    const { docs, missing } = seccompProfiles(variant);
    assert.deepEqual(missing, []);
    for (const d of docs) assert.deepEqual(validate(JSON.parse(renderSeccomp(d))), []);
    assert.notDeepEqual(validate({ defaultAction: 'SCMP_ACT_NOPE' }), []);
    assert.equal(docs.find((d) => d.workload === 'shop/db')!.file, 'shop-db.json');
  });
});

describe('readable output', () => {
  it('comments name the runs and the peers; keys in a fixed order', () => {
    const yaml = renderYaml(networkPolicies(base).find((d) => d.workload === 'shop/frontend')!);
    assert.match(yaml, /^# NetworkPolicy for shop\/frontend, learned by katabot/);
    assert.match(yaml, /#\s+- bpftrace pod trace on node-1 started 2025-01-01T10:00:00.000Z/);
    assert.match(yaml, /# to workload shop\/backend: TCP\/8080 \(seen 1×\)/);
    assert.match(yaml, /# DNS, to the cluster resolver: api.github.com, backend.shop.svc.cluster.local/);
    const obj = parse(yaml) as { spec: Record<string, unknown> };
    assert.deepEqual(Object.keys(obj.spec), ['podSelector', 'policyTypes', 'egress']);
  });
  it('the same job traced twice renders the same rules (only the run header differs)', () => {
    const strip = (s: string) => s.replace(/^#.*\n/gm, '');
    assert.equal(strip(renderYamlStream(networkPolicies(base))), strip(renderYamlStream(networkPolicies(rerun))));
    assert.equal(strip(renderYamlStream(kubeArmorPolicies(base))), strip(renderYamlStream(kubeArmorPolicies(rerun))));
    assert.equal(strip(renderYamlStream(ciliumPolicies(base))), strip(renderYamlStream(ciliumPolicies(rerun))));
  });
  it('Cilium names hosts as FQDN rules and limits DNS to the names looked up', () => {
    const doc = ciliumPolicies(base).find((d) => d.workload === 'shop/frontend')!.value as { spec: { egress: Array<Record<string, any>> } };
    const dns = doc.spec.egress.at(-1)!;
    assert.deepEqual(dns['toPorts'][0].rules.dns, [{ matchName: 'api.github.com' }, { matchName: 'backend.shop.svc.cluster.local' }]);
  });
});

describe('policy changes (the PR\'s policy section)', () => {
  it('the same job traced twice needs no policy change', () => {
    assert.deepEqual(policyChanges(base, rerun), []);
  });
  it('one added outbound connection is exactly one new egress rule (and the server\'s ingress)', () => {
    const changes = policyChanges(base, variant);
    assert.deepEqual(changes.filter((c) => c.kind === 'egress').map((c) => [c.workload, c.rule, c.question]), [
      ['shop/frontend', 'workload:shop/db TCP/5432', 'Should `shop/frontend` connect to `shop/db` on TCP 5432?'],
    ]);
    assert.deepEqual(changes.filter((c) => c.kind === 'ingress').map((c) => c.rule), ['workload:shop/frontend TCP/5432']);
    assert.deepEqual(changes.filter((c) => c.kind === 'dns').map((c) => c.rule), ['db.shop.svc.cluster.local']);
    assert.equal(changes.length, 3);
  });
  it('a new binary and a write under /etc are questions, the write flagged', () => {
    const p = shopProfile(0);
    p.processes.push({ key: 'x', count: 1, parent: '/usr/bin/sh', exe: '/usr/bin/curl', args: '', scope: 'shop/frontend:web' });
    p.files.push({ key: 'y', count: 1, access: 'write', path: '/etc/motd', by: [], scope: 'shop/frontend:web' });
    const changes = policyChanges(base, learnPolicies([p]));
    assert.deepEqual(changes.map((c) => [c.kind, c.question, c.risky]), [
      ['exec', 'Should `shop/frontend` run `/usr/bin/curl`?', false],
      ['file', 'Should `shop/frontend` write `/etc/motd`?', true],
    ]);
  });
});
