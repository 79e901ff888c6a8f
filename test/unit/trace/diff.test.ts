// Behavior profiles and diffs on hand-made events: keys never contain pids, temp names or ephemeral ports; the diff
// is set semantics with deterministic order; several base runs make flaky items; added items carry risk hints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffProfiles, diffToJson, riskyAdditions, RISK } from '../../../src/trace/diff.ts';
import type { TraceEvent, TraceFooter, TraceHeader } from '../../../src/trace/format.ts';
import { collapseProfiles, HARD_COLLAPSE_CHILDREN, ProfileBuilder, profileTrace, type BehaviorProfile } from '../../../src/trace/profile.ts';
import { parseIgnoreFile } from '../../../src/trace/profile-rules.ts';

const header: TraceHeader = {
  type: 'header', format: 'katabot-trace', version: '1.0', katabot: '0.1.0', source: 'bpftrace', bpftrace: 'v0.17.0', kernel: '6.1', host: 'h',
  start: '2025-01-01T00:00:00.000Z', target: { mode: 'command', argv: ['sh', 'run.sh'] },
};
const footer = (lost = 0): TraceFooter => ({
  type: 'footer', counts: { exec: 0, exit: 0, open: 0, connect: 0, accept: 0, listen: 0, dns: 0 }, lost: { reported: lost, gap: 0, incomplete: 0, total: lost },
  malformed: 0, truncated: 0, duration_ms: 1, end: '', exit_code: 0,
});
let ts = 0;
const ev = (e: Partial<TraceEvent> & Pick<TraceEvent, 'kind'>): TraceEvent => ({ type: 'event', ts: (ts += 1000), pid: 100, ...e });

/** One run of a small job; `seed` changes pids, temp names and ports the way a rerun does. */
function run(seed: number, extra: TraceEvent[] = []): TraceEvent[] {
  const pid = 1000 + seed * 17;
  const tmp = `/tmp/tmp.${['AbC12dEf9Z', 'x81QaZZp0L', 'Q0q0q0q0q1'][seed % 3]}`;
  return [
    ev({ kind: 'exec', pid, ppid: 1, exe: '/usr/bin/sh', argv: ['sh', 'run.sh'], result: 0 }),
    ev({ kind: 'exec', pid: pid + 1, ppid: pid, exe: '/usr/local/bin/mktemp', argv: ['mktemp', '-d'], result: -2, error: 'ENOENT' }),
    ev({ kind: 'exec', pid: pid + 1, ppid: pid, exe: '/usr/bin/mktemp', parent_exe: '/usr/bin/sh', argv: ['mktemp', '-d'], result: 0 }),
    ev({ kind: 'open', pid: pid + 1, exe: '/usr/bin/mktemp', path: '/etc/ld.so.cache', flags: ['read'], result: 3 }),
    ev({ kind: 'exit', pid: pid + 1, result: 0 }),
    // no parent_exe: the parent is found from the pid map
    ev({ kind: 'exec', pid: pid + 2, ppid: pid, exe: '/usr/bin/cat', argv: ['cat', `${tmp}/state-${pid}.txt`], result: 0 }),
    ev({ kind: 'open', pid: pid + 2, exe: '/usr/bin/cat', path: `${tmp}/state-${pid}.txt`, flags: ['read'], result: 3 }),
    ev({ kind: 'open', pid: pid + 2, exe: '/usr/bin/cat', path: '/nonexistent', flags: ['read'], result: -2, error: 'ENOENT' }),
    ev({ kind: 'open', pid, exe: '/usr/bin/sh', path: `${tmp}/out.log`, flags: ['write', 'create', 'truncate'], result: 3 }),
    ev({ kind: 'open', pid, exe: '/usr/bin/sh', path: `/proc/${pid}/status`, flags: ['read'], result: 3 }),
    ev({ kind: 'listen', pid, exe: '/usr/bin/sh', proto: 'tcp', saddr: '127.0.0.1', sport: 40000 + seed }),
    ev({ kind: 'connect', pid, exe: '/usr/bin/sh', proto: 'tcp', saddr: '127.0.0.1', sport: 50000 + seed, daddr: '127.0.0.1', dport: 40000 + seed, result: 0 }),
    ev({ kind: 'accept', pid, exe: '/usr/bin/sh', proto: 'tcp', saddr: '127.0.0.1', sport: 40000 + seed, daddr: '127.0.0.1', dport: 50000 + seed }),
    ev({ kind: 'dns', pid, exe: '/usr/bin/sh', proto: 'udp', daddr: '10.96.0.10', dport: 53, query: 'api.example.com', qtype: 'A' }),
    ev({ kind: 'dns', pid, exe: '/usr/bin/sh', proto: 'udp', daddr: '10.96.0.10', dport: 53, query: 'api.example.com', qtype: 'AAAA' }),
    ev({ kind: 'connect', pid, exe: '/usr/bin/sh', proto: 'tcp', daddr: `93.184.216.${30 + seed}`, dport: 443, result: 0 }),
    ...extra.map((e) => ({ ...e, pid: e.pid === 100 ? pid : e.pid })),
  ];
}

const profileOf = (events: TraceEvent[], lost = 0): BehaviorProfile => profileTrace({ header, events, footer: lost ? footer(lost) : footer() });
const keys = (p: BehaviorProfile, cat: 'processes' | 'files' | 'network' | 'k8sApi'): string[] => p[cat].map((i) => i.key);

describe('profile', () => {
  const p = profileOf(run(1));

  it('keys processes by normalised lineage and argv, never pids; PATH-search misses are not behaviour', () => {
    assert.deepEqual(keys(p, 'processes'), [
      '(root) → /usr/bin/sh run.sh',
      '/usr/bin/sh → /usr/bin/cat /tmp/tmp.<tmp>/state-<n>.txt',
      '/usr/bin/sh → /usr/bin/mktemp -d',
    ]);
  });

  it('groups files by access, drops probes and default noise', () => {
    assert.deepEqual(keys(p, 'files'), [
      'exec /usr/bin/cat',
      'exec /usr/bin/mktemp',
      'exec /usr/bin/sh',
      'read /proc/<pid>/status',
      'read /tmp/tmp.<tmp>/state-<n>.txt',
      'write /tmp/tmp.<tmp>/out.log',
    ]);
  });

  it('names destinations from the process\'s lookups, keeps loopback apart, drops ephemeral ports', () => {
    assert.deepEqual(keys(p, 'network'), [
      'dns api.example.com',
      'listen tcp loopback:<ephemeral>',
      'tcp :<ephemeral> ← loopback',
      'tcp → api.example.com:443',
      'tcp → loopback:<ephemeral>',
    ]);
    assert.deepEqual(p.servers, ['/usr/bin/sh']);
  });

  it('a connection before the lookup that names its address is re-keyed at the end', () => {
    const q = profileOf([
      ev({ kind: 'connect', pid: 5, exe: '/usr/bin/curl', proto: 'tcp', daddr: '93.184.216.34', dport: 443, result: 0 }),
      ev({ kind: 'dns', pid: 6, exe: '/usr/bin/curl', proto: 'udp', query: 'example.org', qtype: 'A' }),
      ev({ kind: 'connect', pid: 6, exe: '/usr/bin/curl', proto: 'tcp', daddr: '93.184.216.34', dport: 443, result: 0 }),
    ]);
    assert.deepEqual(keys(q, 'network'), ['dns example.org', 'tcp → example.org:443']);
    assert.equal(q.network[1]!.count, 2);
  });

  it('denied opens are kept and marked; O_CREAT|O_EXCL is a create', () => {
    const q = profileOf([
      ev({ kind: 'open', exe: '/usr/bin/cat', path: '/etc/shadow', flags: ['read'], result: -13, error: 'EACCES' }),
      ev({ kind: 'open', exe: '/usr/bin/mktemp', path: '/tmp/tmp.AbC12dEf9Z', flags: ['read', 'write', 'create', 'excl'], result: 3 }),
    ]);
    assert.deepEqual(keys(q, 'files'), ['create /tmp/tmp.<tmp>', 'read /etc/shadow (denied)']);
  });

  it('pod mode: keys carry the workload, not the pod name', () => {
    const a = profileOf([ev({ kind: 'exec', exe: '/bin/app', argv: ['app'], result: 0, pod: 'web-7d9c8b6f5d-x2x7q', namespace: 'shop', container: 'app' })]);
    const b = profileOf([ev({ kind: 'exec', exe: '/bin/app', argv: ['app'], result: 0, pod: 'web-7d9c8b6f5d-4pl25', namespace: 'shop', container: 'app' })]);
    assert.deepEqual(keys(a, 'processes'), ['[shop/web:app] (root) → /bin/app']);
    assert.deepEqual(keys(a, 'processes'), keys(b, 'processes'));
  });

  it('ignore rules apply to paths and keys', () => {
    const ignore = parseIgnoreFile('/tmp/**\nprocesses: * → /usr/bin/mktemp *\n');
    const q = profileTrace({ header, events: run(1), footer: footer() }, { ignore });
    assert.ok(!keys(q, 'files').some((k) => k.includes('/tmp/')));
    assert.ok(!keys(q, 'processes').some((k) => k.includes('mktemp')));
  });

  it('counts lost events; a trace without a footer counts as incomplete', () => {
    const b = new ProfileBuilder();
    b.begin(header);
    b.end({ ...footer(), lost: { reported: 0, gap: 0, incomplete: -1, total: 0 } });
    assert.equal(b.build().lostEvents, 1);
    assert.equal(profileOf(run(1), 7).lostEvents, 7);
  });

  it('collapses a directory beyond the hard limit while profiling (memory bound)', () => {
    const events = Array.from({ length: HARD_COLLAPSE_CHILDREN + 5 }, (_, i) => ev({ kind: 'open', exe: '/usr/bin/find', path: `/data/set/f${i}.bin`, flags: ['read'], result: 3 }));
    const q = profileOf(events);
    assert.deepEqual(keys(q, 'files'), ['read /data/set/**']);
    assert.equal(q.files[0]!.count, HARD_COLLAPSE_CHILDREN + 5);
  });
});

describe('diff', () => {
  it('stability: two runs of the same behaviour give an empty diff', () => {
    const d = diffToJson(diffProfiles([profileOf(run(1))], profileOf(run(2))));
    assert.deepEqual(d, {
      processes: { added: [], removed: [], flaky: [] },
      files: { added: [], removed: [], flaky: [] },
      network: { added: [], removed: [], flaky: [] },
      k8sApi: { added: [], removed: [], flaky: [] },
      custom: { added: [], removed: [], flaky: [] },
      summary: { added: 0, removed: 0, lostEvents: { base: 0, head: 0 } },
    });
  });

  it('sensitivity: exactly the new exec, write and connection, with risk hints; the exec is not repeated as a file', () => {
    const extra = [
      ev({ kind: 'exec', pid: 9, exe: '/usr/bin/curl', parent_exe: '/usr/bin/sh', argv: ['curl', '-s', 'https://evil.example'], result: 0 }),
      ev({ kind: 'open', exe: '/usr/bin/sh', path: '/etc/example.conf', flags: ['write', 'create', 'truncate'], result: 3 }),
      ev({ kind: 'connect', pid: 9, exe: '/usr/bin/curl', proto: 'tcp', daddr: '10.3.2.1', dport: 8443, result: 0 }),
    ];
    const d = diffToJson(diffProfiles([profileOf(run(1))], profileOf(run(2, extra))));
    assert.deepEqual(d.processes.added, [{ key: '/usr/bin/sh → /usr/bin/curl -s https://evil.example', count: 1, risk: [] }]);
    assert.deepEqual(d.files.added, [{ key: 'write /etc/example.conf', count: 1, risk: [RISK.systemWrite] }]);
    assert.deepEqual(d.network.added, [{ key: 'tcp → 10.0.0.0/8:8443', count: 1, risk: [RISK.newDestination] }]);
    assert.deepEqual(d.summary, { added: 3, removed: 0, lostEvents: { base: 0, head: 0 } });
  });

  it('removed items are reported; counts are shown but not compared', () => {
    const base = profileOf([...run(1), ...run(1)]);
    const d = diffToJson(diffProfiles([base], profileOf(run(2).filter((e) => e.exe !== '/usr/bin/cat'))));
    assert.deepEqual(d.processes.removed.map((i) => i.key), ['/usr/bin/sh → /usr/bin/cat /tmp/tmp.<tmp>/state-<n>.txt']);
    assert.equal(d.processes.removed[0]!.count, 2);
    assert.deepEqual(d.files.removed.map((i) => i.key), ['read /tmp/tmp.<tmp>/state-<n>.txt']);
    assert.equal(d.summary.added, 0);
  });

  it('several base runs: items that vary between them are flaky, not changes', () => {
    const sometimes = ev({ kind: 'open', exe: '/usr/bin/sh', path: '/var/cache/maybe', flags: ['read'], result: 3 });
    const b1 = profileOf(run(1, [sometimes]));
    const b2 = profileOf(run(2));
    const head = profileOf(run(3, [sometimes]));
    const d = diffProfiles([b1, b2], head);
    assert.deepEqual(diffToJson(d).files, { added: [], removed: [], flaky: [{ key: 'read /var/cache/maybe', count: 1, risk: [] }] });
    assert.deepEqual(d.files.flaky[0]!.presence, { base: 1, of: 2, head: true });
    assert.equal(diffToJson(d).summary.added, 0);
  });

  it('orders items by key, whatever the event order', () => {
    const extra = ['/z', '/a', '/m'].map((p) => ev({ kind: 'open', exe: '/usr/bin/sh', path: p, flags: ['read'], result: 3 }));
    const d = diffToJson(diffProfiles([profileOf(run(1))], profileOf(run(2, extra))));
    assert.deepEqual(d.files.added.map((i) => i.key), ['read /a', 'read /m', 'read /z']);
  });

  it('directory collapse is decided on both sides together, so it creates no changes', () => {
    const files = (names: string[]) => names.map((n) => ev({ kind: 'open', exe: '/usr/bin/py', path: `/usr/lib/py/${n}.pyc`, flags: ['read'], result: 3 }));
    const base = profileOf(files(Array.from({ length: 15 }, (_, i) => `a${i}`)));
    const head = profileOf(files(Array.from({ length: 15 }, (_, i) => `b${i}`)));
    const d = diffToJson(diffProfiles([base], head));
    assert.deepEqual([d.files.added, d.files.removed], [[], []]);
    assert.deepEqual(collapseProfiles([head], { threshold: 10 })[0]!.files.map((f) => f.key), ['read /usr/lib/py/**']);
  });

  it('secret paths are never collapsed away', () => {
    const many = Array.from({ length: 30 }, (_, i) => ev({ kind: 'open', exe: '/bin/x', path: `/root/.ssh/k${i}`, flags: ['read'], result: 3 }));
    const p = collapseProfiles([profileOf(many)])[0]!;
    assert.equal(p.files.length, 30);
  });

  const risks: Array<[string, TraceEvent[], string, string[]]> = [
    ['privileged exec', [ev({ kind: 'exec', pid: 9, exe: '/usr/bin/sudo', parent_exe: '/usr/bin/sh', argv: ['sudo', 'id'], result: 0 })], 'processes', [RISK.privilegedExec]],
    ['shell spawned by a server', [ev({ kind: 'exec', pid: 9, exe: '/bin/bash', parent_exe: '/usr/bin/sh', argv: ['bash', '-i'], result: 0 })], 'processes', [RISK.serverShell]],
    ['secret read', [ev({ kind: 'open', exe: '/usr/bin/sh', path: '/var/run/secrets/kubernetes.io/serviceaccount/token', flags: ['read'], result: 3 })], 'files', [RISK.secretRead]],
    ['write under /usr', [ev({ kind: 'open', exe: '/usr/bin/sh', path: '/usr/local/bin/tool', flags: ['write', 'create', 'truncate'], result: 3 })], 'files', [RISK.systemWrite]],
    ['read under /etc is fine', [ev({ kind: 'open', exe: '/usr/bin/sh', path: '/etc/os-release', flags: ['read'], result: 3 })], 'files', []],
    ['new public destination', [ev({ kind: 'connect', pid: 77, exe: '/usr/bin/sh', proto: 'tcp', daddr: '1.1.1.1', dport: 853, result: 0 })], 'network', [RISK.newDestination]],
    ['new loopback port is not', [ev({ kind: 'connect', pid: 77, exe: '/usr/bin/sh', proto: 'tcp', daddr: '127.0.0.1', dport: 9000, result: 0 })], 'network', []],
  ];
  for (const [name, extra, cat, want] of risks) {
    it(`risk: ${name}`, () => {
      const d = diffProfiles([profileOf(run(1))], profileOf(run(2, extra)));
      const added = d[cat as 'files'].added;
      assert.equal(added.length, 1, JSON.stringify(added.map((a) => a.item.key)));
      assert.deepEqual(added[0]!.risk, want);
      assert.equal(riskyAdditions(d).length, want.length > 0 ? 1 : 0);
    });
  }

  it('reports lost events of both sides', () => {
    const d = diffToJson(diffProfiles([profileOf(run(1), 3)], profileOf(run(2), 5)));
    assert.deepEqual(d.summary.lostEvents, { base: 3, head: 5 });
  });
});
