// The built-in packages are katabot's own tracer program, and `/trace --probe` reaches the sidecar: the probes
// list in its arguments, custom packages in KATABOT_BPF_PACKAGES.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BUILTIN_NAMES, DEFAULT_PROGRAM_OPTIONS, builtinKinds, builtinPackage, builtinsFor, generateProgram,
} from '../../../src/bpf/builtin.ts';
import { PACKAGES_ENV, parsePackageYaml, unbundlePackages, type BpfPackage } from '../../../src/bpf/package.ts';
import { DEFAULT_KATABOT_CONFIG } from '../../../src/config/types.ts';
import { TRACER_CONTAINER, injectTracer } from '../../../src/jobs/trace.ts';
import type { ProwJob } from '../../../src/jobs/types.ts';
import { EVENT_KINDS } from '../../../src/trace/format.ts';
import { generateProgram as tracerProgram } from '../../../src/bpf/builtin.ts';

describe('built-in packages', () => {
  it('exec, files, tcp and dns cover the seven trace kinds, once each', () => {
    assert.deepEqual(BUILTIN_NAMES, ['exec', 'files', 'tcp', 'dns']);
    assert.deepEqual(builtinKinds(BUILTIN_NAMES), [...EVENT_KINDS]);
    assert.deepEqual(builtinKinds(['dns', 'tcp']), ['connect', 'accept', 'listen', 'dns']);
    assert.deepEqual(builtinsFor(['open', 'dns']), ['files', 'dns']);
    assert.throws(() => builtinKinds(['syscount']), /syscount is not a built-in package/);
  });

  it('all four packages joined are the tracer\'s default program', () => {
    const o = { ...DEFAULT_PROGRAM_OPTIONS, scope: { kind: 'cgroups' as const, targets: [7n] }, agentPid: 1 };
    assert.equal(generateProgram({ ...o, kinds: builtinKinds(BUILTIN_NAMES) }), tracerProgram(o));
  });

  it('a package alone brings only its probes, and no package at all still makes a program (header, marker, footer)', () => {
    const o = { ...DEFAULT_PROGRAM_OPTIONS, scope: { kind: 'all' as const }, agentPid: 1 };
    const dns = generateProgram({ ...o, kinds: builtinKinds(['dns']) });
    assert.match(dns, /sys_enter_sendmmsg/);
    assert.doesNotMatch(dns, /execve|openat|inet_sock_set_state/);
    assert.match(dns, /\$in = 1;/, 'scope all: no cgroup filter');
    const none = generateProgram({ ...o, kinds: [] });
    assert.match(none, /^BEGIN \{/m);
    assert.match(none, /sys_enter_kill/);
    assert.doesNotMatch(none, /sys_enter_execve|sendto/);
  });

  it('shows its metadata and program', () => {
    const tcp = builtinPackage('tcp')!;
    assert.deepEqual(tcp.builtin?.kinds, ['connect', 'accept', 'listen']);
    assert.deepEqual(tcp.meta.events.map((e) => e.kind), ['connect', 'accept', 'listen']);
    assert.match(tcp.source, /inet_sock_set_state/);
    assert.equal(builtinPackage('nope'), undefined);
  });
});

function prowJob(): ProwJob {
  return {
    apiVersion: 'prow.k8s.io/v1', kind: 'ProwJob', metadata: { name: 'x', namespace: 'prow' },
    spec: {
      type: 'presubmit', agent: 'kubernetes', job: 'e2e', decoration_config: { timeout: '2h0m0s' },
      pod_spec: { containers: [{ name: 'test', image: 'ci', command: ['make', 'test'] }] },
    },
  } as ProwJob;
}

const custom: BpfPackage = {
  meta: parsePackageYaml('name: syscount\nversion: 1.0.0\nevents: [{name: syscalls, map: "@syscalls", keys: [comm]}]\n', 'p'),
  source: 'tracepoint:raw_syscalls:sys_enter /${in_scope}/ { @syscalls[comm] = count(); }\n',
  origin: { kind: 'repo', path: '/r' },
};

describe('injectTracer with probes (/trace --probe)', () => {
  const policy = DEFAULT_KATABOT_CONFIG.trace;
  const tracer = (pj: ProwJob) => pj.spec.pod_spec!.containers.find((c) => c.name === TRACER_CONTAINER)!;

  it('without probes: today\'s sidecar, untouched', () => {
    const t = tracer(injectTracer(prowJob(), policy));
    assert.ok(!t.args!.includes('--probe'));
    assert.ok(!t.env!.some((e) => e.name === PACKAGES_ENV));
    assert.deepEqual(injectTracer(prowJob(), policy, {}), injectTracer(prowJob(), policy));
  });

  it('built-in probes: a --probe list for the sidecar', () => {
    const t = tracer(injectTracer(prowJob(), policy, { probes: ['dns', 'tcp'] }));
    assert.deepEqual(t.args!.slice(t.args!.indexOf('--probe'), t.args!.indexOf('--probe') + 2), ['--probe', 'dns,tcp']);
    assert.ok(!t.env!.some((e) => e.name === PACKAGES_ENV));
  });

  it('custom probes: the packages travel in KATABOT_BPF_PACKAGES', () => {
    const t = tracer(injectTracer(prowJob(), policy, { probes: ['dns', 'syscount@1.0.0'], packages: [custom] }));
    assert.ok(t.args!.includes('dns,syscount@1.0.0'));
    const env = t.env!.find((e) => e.name === PACKAGES_ENV)!;
    const [back] = unbundlePackages(env.value!);
    assert.equal(back!.source, custom.source);
    assert.deepEqual(back!.meta, custom.meta);
  });

  it('refuses a package that is not among the probes, and packages too big for a pod spec', () => {
    assert.throws(() => injectTracer(prowJob(), policy, { probes: ['dns'], packages: [custom] }), /syscount@1\.0\.0 is given but not among the probes dns/);
    const big = { ...custom, source: `// ${'x'.repeat(300 * 1024)}\n${custom.source}` };
    assert.throws(() => injectTracer(prowJob(), policy, { probes: ['syscount'], packages: [big] }), /larger than 256 KiB/);
  });
});

describe('katabot trace --probe: resolving the list', () => {
  it('built-ins by name, custom packages from KATABOT_BPF_PACKAGES (what injectTracer passes)', async () => {
    const { resolveProbes } = await import('../../../src/cli/trace.ts');
    const { bundlePackages } = await import('../../../src/bpf/package.ts');
    const env = { [PACKAGES_ENV]: bundlePackages([custom]) };
    const r = await resolveProbes('dns,tcp,syscount@1.0.0,dns', { env });
    assert.deepEqual(r.builtins, ['dns', 'tcp']);
    assert.deepEqual(r.packages.map((p) => [p.pkg.meta.name, p.pkg.meta.version, p.pkg.source]), [['syscount', '1.0.0', custom.source]]);
  });
  it('in a sidecar a package that cannot be found is left out, with a line saying so; elsewhere it is an error', async () => {
    const { resolveProbes } = await import('../../../src/cli/trace.ts');
    const logged: string[] = [];
    const r = await resolveProbes('dns,nosuchpkg', { optional: true, log: (l) => logged.push(l), env: {} });
    assert.deepEqual(r.builtins, ['dns']);
    assert.deepEqual(r.packages, []);
    assert.match(logged[0]!, /^--probe nosuchpkg left out: nosuchpkg: no package nosuchpkg/);
    await assert.rejects(resolveProbes('nosuchpkg', { env: {} }), /no package nosuchpkg/);
  });
});

describe('selectProbes (what the /trace handler passes to injectTracer)', () => {
  it('built-ins by name, repo packages at their highest or asked version, unknown and broken ones named', async () => {
    const { selectProbes } = await import('../../../src/bpf/select.ts');
    const v2 = { ...custom, meta: { ...custom.meta, version: '2.0.0' } };
    const broken = { ...custom, meta: { ...custom.meta, name: 'broken' }, source: 'tracepoint:a:b /${in_scope} && pid > ${nope}/ { @syscalls[comm] = count(); }\n' };
    const sel = selectProbes(['dns', 'syscount', 'syscount@1.0.0', 'tcp', 'nope', 'broken', 'dns', '../x'], [custom, v2, broken]);
    assert.deepEqual(sel.probes, ['dns', 'syscount@2.0.0', 'syscount@1.0.0', 'tcp']);
    assert.deepEqual(sel.packages.map((p) => p.meta.version), ['2.0.0', '1.0.0']);
    assert.deepEqual(sel.unknown, ['nope', '../x']);
    assert.deepEqual(sel.problems, ['broken@1.0.0: program.bt:1: error: ${nope} is not a parameter of broken (it declares none)']);
    assert.deepEqual(sel.known, ['broken', 'dns', 'exec', 'files', 'syscount', 'tcp']);
    // the selection injects cleanly
    const pj = injectTracer(prowJob(), DEFAULT_KATABOT_CONFIG.trace, { probes: sel.probes, packages: sel.packages });
    assert.ok(pj.spec.pod_spec!.containers.some((c) => c.args?.includes('dns,syscount@2.0.0,syscount@1.0.0,tcp')));
  });
});
