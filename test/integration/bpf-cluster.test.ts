// `katabot bpf` cluster verbs against the Kubernetes API double (test/fixtures/kube-apiserver.ts) with the Job and
// DaemonSet controllers, kubelets and pod logs of test/fixtures/bpf-nodes.ts:
// - scripted kubelets: the objects (validated against the Kubernetes OpenAPI schema), list, atomic create-and-start
//   (a failed start, a failed create, a timeout and one failing node undo everything), upgrade with rollback;
// - kubelets that really run the agent here (real bpftrace): logs, upgrade and rollback on a compile error,
//   delete with SIGINT so the maps are flushed into the trace.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BpfCluster, BpfStartError } from '../../src/adapters/bpf-cluster.ts';
import { loadPackageDir, resolvePackage } from '../../src/adapters/bpf-packages.ts';
import { PACKAGE_ANNOTATIONS, PACKAGE_LABELS } from '../../src/bpf/cluster.ts';
import { parseTrace } from '../../src/trace/format.ts';
import { preflight } from '../../src/tracer/preflight.ts';
import { EbpfUnavailableError } from '../../src/tracer/errors.ts';
import { startFakeNodes, type FakeNodes, type ScriptedStart } from '../fixtures/bpf-nodes.ts';
import { startKubeApiServer, type KubeApiDouble } from '../fixtures/kube-apiserver.ts';
import { loadOpenApiValidator, type OpenApiValidator } from '../fixtures/kustomize.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/katabot.js');
const PROBES = join(ROOT, 'test/fixtures/bpf/probes');
const SWAGGER = join(ROOT, '..', 'shared', 'kubernetes', 'openapi-v2-swagger.json.gz');
const NO_SWAGGER = existsSync(SWAGGER) ? undefined : `Kubernetes OpenAPI schema not found at ${SWAGGER} (../shared is absent)`;
if (NO_SWAGGER) console.log(`# skipping OpenAPI validation of instance objects: ${NO_SWAGGER}`);
const IMAGE = 'ghcr.io/kata-containers/katabot-tracer:test';

const v1 = loadPackageDir(join(PROBES, 'syscount'));
const v2 = loadPackageDir(join(PROBES, 'syscount-v2'));
const v3 = loadPackageDir(join(PROBES, 'syscount-v3-broken'));
const COMPILE_ERROR = 'syscount@3.0.0: program.bt:3:21: error: syntax error, unexpected ;';

let double: KubeApiDouble;
let validator: OpenApiValidator | undefined;

before(async () => {
  double = await startKubeApiServer({ namespace: 'default' });
  for (const name of ['bpf-scripted', 'bpf-real', 'test-pods']) double.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if (!NO_SWAGGER) validator = loadOpenApiValidator(SWAGGER);
});
after(async () => { await double?.close(); });

/** Objects of one instance left in the double. */
function leftovers(ns: string, id: string): string[] {
  const mine = (o: { metadata: { labels?: Record<string, string> } }): boolean => o.metadata.labels?.[PACKAGE_LABELS.instance] === id;
  return ['configmaps', 'jobs', 'daemonsets', 'pods'].flatMap((r) => double.objects(r, ns).filter(mine).map((o) => `${r}/${o.metadata.name}`));
}

function validate(obj: unknown): void {
  if (!validator) return;
  assert.deepEqual(validator.validate(obj as never), [], `${(obj as { kind: string }).kind} ${(obj as { metadata: { name: string } }).metadata.name}`);
}

describe('katabot bpf on a cluster (API double, scripted kubelets)', () => {
  const NS = 'bpf-scripted';
  const script = new Map<string, ScriptedStart>();
  let nodes: FakeNodes;
  let cluster: BpfCluster;
  before(async () => {
    nodes = await startFakeNodes(double, {
      namespace: NS, nodes: ['node-a', 'node-b'], mode: 'status',
      script: (pod) => script.get(`${pod.metadata?.annotations?.[PACKAGE_ANNOTATIONS.ref]}@${pod.spec?.nodeName}`) ?? script.get(pod.metadata?.annotations?.[PACKAGE_ANNOTATIONS.ref] ?? '') ?? { ready: true },
    });
    cluster = new BpfCluster(nodes.kubeConfig, NS);
  });
  after(async () => { await nodes?.close(); });

  it('run --node: a Job and its ConfigMap, valid Kubernetes objects; list shows it running there', async () => {
    const started = await cluster.run({ pkg: v1, params: { skip_comm: 'sh' }, target: { kind: 'nodes', nodes: ['node-a'] }, image: IMAGE });
    assert.equal(started.workload, 'Job');
    const name = `katabot-bpf-${started.id}-r1`;
    const cm = double.object('configmaps', NS, name);
    const job = double.object('jobs', NS, name);
    validate(cm);
    validate(job);
    assert.equal(cm.data['program.bt'], v1.source);
    assert.deepEqual(JSON.parse(cm.data['params.json']), { skip_comm: 'sh' });
    assert.deepEqual(cm.metadata.ownerReferences.map((o: { kind: string; uid: string }) => [o.kind, o.uid]), [['Job', job.metadata.uid]], 'the ConfigMap goes with its Job');
    const pod = double.objects('pods', NS).find((p) => p.metadata.labels[PACKAGE_LABELS.instance] === started.id);
    assert.equal(pod.spec.nodeName, 'node-a');
    assert.equal(pod.spec.hostPID, true);
    const rows = await cluster.list();
    const row = rows.find((r) => r.id === started.id)!;
    assert.deepEqual([row.package, row.version, row.revision, row.target, row.nodes, row.state], ['syscount', '1.0.0', 1, 'node/node-a', ['node-a'], 'Running']);
    // the same through the command line, kubectl-style (not spawnSync: the API double lives in this process)
    const r = await promisify(execFile)(process.execPath, [CLI, 'bpf', 'list', '--kubeconfig', nodes.kubeconfigPath, '-n', NS], { encoding: 'utf8', timeout: 30_000 });
    assert.match(r.stdout, /^INSTANCE\s+PACKAGE\s+VERSION\s+REV\s+TARGET\s+NODES\s+STATE\s+AGE$/m);
    assert.match(r.stdout, new RegExp(`^${started.id}\\s+syscount\\s+1\\.0\\.0\\s+1\\s+node/node-a\\s+node-a\\s+Running\\s+\\d+s$`, 'm'));
    await cluster.delete(started.id);
    assert.deepEqual(leftovers(NS, started.id), []);
  });

  it('run --all-nodes: a DaemonSet with a pod on every node; --pod: a Job on the pod\'s node, scoped to its UID', async () => {
    const all = await cluster.run({ pkg: v1, params: {}, target: { kind: 'all-nodes' }, image: IMAGE });
    assert.equal(all.workload, 'DaemonSet');
    assert.equal(all.pods.length, 2);
    validate(double.object('daemonsets', NS, `katabot-bpf-${all.id}-r1`));
    validate(double.object('configmaps', NS, `katabot-bpf-${all.id}-r1`));
    assert.deepEqual((await cluster.list()).find((r) => r.id === all.id)!.nodes, ['node-a', 'node-b']);

    const web = double.seed({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: NS }, spec: { nodeName: 'node-b', containers: [{ name: 'c', image: 'nginx' }] } });
    const scoped = await cluster.run({ pkg: v1, params: {}, target: { kind: 'pod', namespace: NS, name: 'web' }, image: IMAGE, durationSeconds: 60 });
    const job = double.object('jobs', NS, `katabot-bpf-${scoped.id}-r1`);
    validate(job);
    const args: string[] = job.spec.template.spec.containers[0].args;
    assert.deepEqual(args.slice(args.indexOf('--pod')), ['--pod', 'web', '--namespace', NS, '--pod-uid', web.metadata.uid, '--duration', '60']);
    assert.deepEqual(job.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values, ['node-b']);
    await assert.rejects(cluster.run({ pkg: v1, params: {}, target: { kind: 'pod', namespace: NS, name: 'nope' }, image: IMAGE }), /pod bpf-scripted\/nope not found/);
    for (const id of [all.id, scoped.id]) {
      await cluster.delete(id);
      assert.deepEqual(leftovers(NS, id), []);
    }
  });

  it('a failed start removes everything it created, and says why (the agent\'s termination message)', async () => {
    script.set('syscount@3.0.0', { fail: COMPILE_ERROR });
    const before = double.objects('configmaps', NS).length;
    await assert.rejects(cluster.run({ pkg: v3, params: {}, target: { kind: 'nodes', nodes: ['node-a'] }, image: IMAGE }), (e: unknown) => {
      assert.ok(e instanceof BpfStartError);
      assert.match(e.message, /^syscount@3\.0\.0 did not start \(pod katabot-bpf-syscount-\w+-r1-\w+\): syscount@3\.0\.0: program\.bt:3:21: error: syntax error, unexpected ;$/);
      return true;
    });
    assert.equal(double.objects('configmaps', NS).length, before);
    assert.deepEqual(double.objects('jobs', NS).concat(double.objects('pods', NS).filter((p) => p.metadata.labels?.[PACKAGE_LABELS.package])), []);
  });

  it('a failing node undoes a DaemonSet on every node', async () => {
    script.set('syscount@2.0.0@node-b', { fail: 'probe does not exist on this kernel' });
    await assert.rejects(cluster.run({ pkg: v2, params: {}, target: { kind: 'nodes', nodes: ['node-a', 'node-b'] }, image: IMAGE }), /did not start .*: probe does not exist on this kernel/);
    assert.deepEqual(double.objects('daemonsets', NS), []);
    assert.deepEqual(double.objects('configmaps', NS).filter((c) => c.metadata.labels?.[PACKAGE_LABELS.package]), []);
    script.delete('syscount@2.0.0@node-b');
  });

  it('a failed create (the API server answers 500) removes what was created before it — also when the write happened', async () => {
    double.faults.failNext({ verb: 'create', resource: 'jobs', status: 500 });
    await assert.rejects(cluster.run({ pkg: v1, params: {}, target: { kind: 'nodes', nodes: ['node-a'] }, image: IMAGE }), /cannot create instance syscount-\w+: .*500/);
    assert.deepEqual(double.objects('configmaps', NS).filter((c) => c.metadata.labels?.[PACKAGE_LABELS.package]), []);
    double.faults.failNext({ verb: 'create', resource: 'daemonsets', status: 503, after: true });
    await assert.rejects(cluster.run({ pkg: v1, params: {}, target: { kind: 'all-nodes' }, image: IMAGE }), /cannot create instance/);
    assert.deepEqual(double.objects('daemonsets', NS), [], 'created, answer lost: found by label and deleted');
    assert.deepEqual(double.objects('configmaps', NS).filter((c) => c.metadata.labels?.[PACKAGE_LABELS.package]), []);
    assert.deepEqual(double.objects('pods', NS).filter((p) => p.metadata.labels?.[PACKAGE_LABELS.package]), []);
  });

  it('a start that does not finish in time is undone', async () => {
    script.set('syscount@2.0.0', { pending: 'ImagePullBackOff-not-yet' });
    await assert.rejects(cluster.run({ pkg: v2, params: {}, target: { kind: 'nodes', nodes: ['node-a'] }, image: IMAGE, timeoutMs: 1000 }), /syscount@2\.0\.0 did not start within 1 s \(.*ImagePullBackOff-not-yet\)/);
    assert.deepEqual(double.objects('jobs', NS), []);
    script.delete('syscount@2.0.0');
  });

  it('upgrade: a failed start rolls back to the running version; a good one replaces it', async () => {
    const started = await cluster.run({ pkg: v1, params: { skip_comm: 'sh' }, target: { kind: 'nodes', nodes: ['node-b'] }, image: IMAGE });
    await assert.rejects(cluster.upgrade(started.id, v3, {}), (e: unknown) => {
      assert.ok(e instanceof BpfStartError);
      assert.match(e.message, new RegExp(`^upgrade of ${started.id} to syscount@3\\.0\\.0 failed, rolled back: ${started.id} still runs syscount@1\\.0\\.0 \\(revision 1\\)\\. .*program\\.bt:3:21: error`));
      return true;
    });
    let row = (await cluster.list()).find((r) => r.id === started.id)!;
    assert.deepEqual([row.version, row.revision, row.state], ['1.0.0', 1, 'Running']);
    assert.deepEqual(leftovers(NS, started.id).filter((n) => n.includes('-r2')), []);

    // by name from the repo's probes, as the CLI resolves it; parameters carry over
    const pkg = await resolvePackage('syscount@2.0.0', { probesDir: PROBES });
    const r = await cluster.upgrade(started.id, pkg, {});
    assert.deepEqual([r.from, r.to, r.revision], ['syscount@1.0.0', 'syscount@2.0.0', 2]);
    row = (await cluster.list()).find((x) => x.id === started.id)!;
    assert.deepEqual([row.version, row.revision, row.state, row.nodes], ['2.0.0', 2, 'Running', ['node-b']]);
    assert.deepEqual(leftovers(NS, started.id).filter((n) => n.includes('-r1')), [], 'revision 1 is gone');
    assert.deepEqual(JSON.parse(double.object('configmaps', NS, `katabot-bpf-${started.id}-r2`).data['params.json']), { skip_comm: 'sh' });
    await cluster.delete(started.id);
    assert.deepEqual(leftovers(NS, started.id), []);
    await assert.rejects(cluster.delete(started.id), /no instance syscount-\w+ in namespace bpf-scripted/);
  });
});

// ---------------------------------------------------------------------------------------------------------------

let ebpfSkip: string | undefined;
if (typeof process.getuid === 'function' && process.getuid() !== 0) ebpfSkip = 'not root: eBPF needs root';
else {
  try {
    await preflight();
  } catch (err) {
    if (!(err instanceof EbpfUnavailableError)) throw err;
    ebpfSkip = err.message;
  }
}
if (ebpfSkip) console.log(`# skipping cluster instances with real bpftrace: ${ebpfSkip}`);

describe('katabot bpf on a cluster, the agent running for real (bpftrace on this machine)', { skip: ebpfSkip }, () => {
  const NS = 'bpf-real';
  let nodes: FakeNodes;
  let cluster: BpfCluster;
  before(async () => {
    nodes = await startFakeNodes(double, { namespace: NS, nodes: ['node-a'], mode: 'process' });
    cluster = new BpfCluster(nodes.kubeConfig, NS);
  });
  after(async () => { await nodes?.close(); });

  it('runs, streams its trace, rolls back a version that does not compile, upgrades, and flushes its maps on delete', async () => {
    const started = await cluster.run({ pkg: v1, params: {}, target: { kind: 'nodes', nodes: ['node-a'] }, image: IMAGE });
    const first = started.pods[0]!;

    // logs: the trace so far, in the trace format
    const lines: string[] = [];
    await cluster.logs(started.id, { follow: false, write: (l) => lines.push(l) });
    assert.match(lines[0]!, /^\{"type":"header","format":"katabot-trace","version":"1\.1"/);
    assert.match(lines[0]!, /"packages":\[\{"name":"syscount","version":"1\.0\.0","origin":"file"/);

    // a version whose compile fails: the real bpftrace error, and the instance goes on with 1.0.0
    await assert.rejects(cluster.upgrade(started.id, v3, {}), /rolled back: syscount-\w+ still runs syscount@1\.0\.0 \(revision 1\)\. .*program\.bt:3:21: error: syntax error, unexpected ;/);
    assert.deepEqual(nodes.running(), [first], 'the first version never stopped');

    // a good version: the old one is stopped with SIGINT, its maps flushed into its trace
    const old: string[] = [];
    const up = await cluster.upgrade(started.id, v2, { write: (_pod, l) => old.push(l) });
    assert.deepEqual(up.flushed.map((f) => [f.pod, f.footer]), [[first, true]]);
    const oldTrace = parseTrace(old.join('\n'));
    assert.ok((oldTrace.custom ?? []).some((e) => e.name === 'syscalls' && typeof e.fields['count'] === 'number'), 'v1 printed its map at SIGINT');

    // logs -f follows until the container ends; delete ends it with SIGINT: the map comes out, then the footer
    const followed: string[] = [];
    const following = cluster.logs(started.id, { follow: true, write: (l) => followed.push(l) });
    await new Promise((r) => setTimeout(r, 300));
    const saved: string[] = [];
    const res = await cluster.delete(started.id, { write: (_pod, l) => saved.push(l) });
    await following;
    assert.equal(res.length, 1);
    assert.equal(res[0]!.footer, true, 'bpftrace ended cleanly: the footer came');
    for (const text of [saved, followed]) {
      const t = parseTrace(text.join('\n'));
      assert.deepEqual(t.header.packages?.map((p) => p.version), ['2.0.0']);
      const syscalls = (t.custom ?? []).filter((e) => e.name === 'syscalls');
      assert.ok(syscalls.length > 0, 'v2 printed its map at SIGINT');
      assert.ok(syscalls.every((e) => typeof e.fields['nr'] === 'number' && typeof e.fields['count'] === 'number'), JSON.stringify(syscalls[0]));
      assert.equal(t.footer.custom?.counts['syscount/syscalls'], syscalls.length);
      assert.notEqual(t.footer.lost.incomplete, -1, 'a real footer, not a rebuilt one');
    }
    assert.deepEqual(leftovers(NS, started.id), []);
    assert.deepEqual(nodes.running(), []);
  });
});
