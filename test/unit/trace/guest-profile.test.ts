// Profiles and diffs of a node collector's merged trace (format 1.2): Kata guest items are keyed by pod and
// container, never by sandbox id, pod UID, guest pids or pod IPs, so the same code traced twice diffs empty; pids of
// the host and of each guest are different processes; the report groups items by pod and names every guest that
// could not be traced.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffProfiles, hasChanges } from '../../../src/trace/diff.ts';
import type { GuestSummary, TraceEvent, TraceFooter, TraceHeader } from '../../../src/trace/format.ts';
import { profileTrace, type BehaviorProfile } from '../../../src/trace/profile.ts';
import { scopeOf } from '../../../src/trace/profile-rules.ts';
import { renderBehaviorComment } from '../../../src/render/behavior.ts';
import { renderBehaviorHtml } from '../../../src/render/behavior-html.ts';

const header: TraceHeader = {
  type: 'header', format: 'katabot-trace', version: '1.2', katabot: '0.1.0', source: 'bpftrace', bpftrace: 'v0.17.0', kernel: '6.1', host: 'node-1',
  start: '2026-01-01T00:00:00.000Z', target: { mode: 'node', cgroups: ['/kubepods.slice'] },
};
const footer = (guests: GuestSummary[]): TraceFooter => ({
  type: 'footer', counts: { exec: 0, exit: 0, open: 0, connect: 0, accept: 0, listen: 0, dns: 0 }, lost: { reported: 0, gap: 0, incomplete: 0, total: 0 },
  malformed: 0, truncated: 0, duration_ms: 1, end: '', exit_code: null, guests,
});

/** One run of a Kata test pod and a runc pod on one node; `seed` changes everything a rerun changes. */
function run(seed: number, variant = false): { events: TraceEvent[]; guests: GuestSummary[] } {
  const sandbox = `${seed}f`.repeat(32);
  const uid = `0000000${seed}-aaaa-bbbb-cccc-00000000000${seed}`;
  const podIp = `10.244.1.${10 + seed}`;
  const g = { kernel: 'guest' as const, sandbox, pod: 'busybox', namespace: 'kata-containers-k8s-tests' };
  // the same small pids in every guest, and on the host too: they are different processes
  const events: TraceEvent[] = [
    { type: 'event', ts: 1, kind: 'exec', pid: 1, ppid: 0, exe: '/sbin/init', argv: ['/sbin/init'], result: 0, ...g },
    { type: 'event', ts: 2, kind: 'exec', pid: 7, ppid: 1, exe: '/bin/sh', argv: ['sh', '-c', 'echo hi > /tmp/out'], result: 0, container: 'busybox', container_id: `${seed}c`.repeat(32), ...g },
    { type: 'event', ts: 3, kind: 'open', pid: 7, path: '/tmp/out', flags: ['write', 'create', 'truncate'], result: 3, container: 'busybox', ...g },
    { type: 'event', ts: 4, kind: 'connect', pid: 7, proto: 'tcp', saddr: podIp, sport: 40000 + seed, daddr: '10.96.0.1', dport: 443, result: 0, container: 'busybox', ...g },
    // the host: the same pid 7 is the shim, in the Kata sandbox cgroup of the same pod
    { type: 'event', ts: 5, kind: 'exec', pid: 7, ppid: 1, exe: '/opt/kata/bin/containerd-shim-kata-v2', argv: ['containerd-shim-kata-v2', '-id', sandbox], result: 0, kernel: 'host', sandbox, pod: 'busybox', namespace: 'kata-containers-k8s-tests' },
    { type: 'event', ts: 6, kind: 'exec', pid: 8, ppid: 7, exe: '/opt/kata/bin/qemu-system-x86_64', argv: ['qemu-system-x86_64', '-name', `sandbox-${sandbox}`], result: 0, kernel: 'host', sandbox, pod: 'busybox', namespace: 'kata-containers-k8s-tests' },
    // a runc pod on the same node
    { type: 'event', ts: 7, kind: 'exec', pid: 300 + seed, ppid: 1, exe: '/usr/sbin/nginx', argv: ['nginx'], result: 0, kernel: 'host', pod: `web-7d9c8b6f5d-x2x7${'qr'[seed % 2]}`, namespace: 'default', container: 'nginx' },
  ];
  if (variant) {
    events.push(
      { type: 'event', ts: 8, kind: 'exec', pid: 9, ppid: 7, exe: '/bin/wget', argv: ['wget', 'http://example.com/'], result: 0, container: 'busybox', ...g },
    );
  }
  return { events, guests: [{ namespace: g.namespace, pod: g.pod, uid, sandbox, status: 'traced', complete: true }] };
}

const profileOf = (r: { events: TraceEvent[]; guests: GuestSummary[] }): BehaviorProfile => profileTrace({ header, events: r.events, footer: footer(r.guests) });

describe('profile of a merged node trace', () => {
  const p = profileOf(run(1));

  it('scopes guest items by pod and container, the guest outside containers and the host side of the sandbox by placeholders', () => {
    assert.deepEqual(p.processes.map((i) => i.key), [
      '[default/web:nginx] (root) → /usr/sbin/nginx',
      '[kata-containers-k8s-tests/busybox:(guest)] (root) → /sbin/init',
      '[kata-containers-k8s-tests/busybox:(sandbox)] (root) → /opt/kata/bin/containerd-shim-kata-v2 -id <hex>',
      '[kata-containers-k8s-tests/busybox:(sandbox)] /opt/kata/bin/containerd-shim-kata-v2 → /opt/kata/bin/qemu-system-x86_64 -name sandbox-<hex>',
      '[kata-containers-k8s-tests/busybox:busybox] /sbin/init → /bin/sh -c "echo hi > /tmp/out"',
    ]);
  });

  it('host pid 7 (the shim) is not the guest pid 7 (sh): each kernel keeps its own processes', () => {
    const wget = profileOf(run(1, true)).processes.find((i) => i.exe === '/bin/wget');
    assert.equal(wget?.parent, '/bin/sh');
  });

  it('records the guests of the trace', () => {
    assert.deepEqual(p.traces[0]!.guests, [{ pod: 'kata-containers-k8s-tests/busybox', status: 'traced' }]);
  });

  it('the same code traced twice diffs empty, though sandbox, pod UID, container ids, pod IP and pids differ', () => {
    const d = diffProfiles([profileOf(run(1))], profileOf(run(2)));
    assert.equal(hasChanges(d), false, JSON.stringify(d.processes.added.map((e) => e.item.key)));
  });

  it('a variant shows exactly its added exec', () => {
    const d = diffProfiles([profileOf(run(1))], profileOf(run(2, true)));
    assert.deepEqual(d.processes.added.map((e) => e.item.key), ['[kata-containers-k8s-tests/busybox:busybox] /bin/sh → /bin/wget http://example.com/']);
    // its `exec /bin/wget` file item is not listed again beside the added process
    assert.deepEqual(d.files.added.map((e) => e.item.key), []);
    assert.deepEqual(d.network.added, []);
  });
});

describe('scopeOf', () => {
  const cases: Array<{ name: string; e: Parameters<typeof scopeOf>[0]; want: string }> = [
    { name: 'command mode: no scope', e: {}, want: '' },
    { name: 'a runc container', e: { pod: 'web-7d9c8b6f5d-x2x7q', namespace: 'default', container: 'nginx' }, want: 'default/web:nginx' },
    { name: 'a Kata guest container', e: { pod: 'busybox', namespace: 'ns', container: 'busybox', kernel: 'guest', sandbox: 'abc' }, want: 'ns/busybox:busybox' },
    { name: 'a Kata guest outside containers (kata-agent)', e: { pod: 'busybox', namespace: 'ns', kernel: 'guest', sandbox: 'abc' }, want: 'ns/busybox:(guest)' },
    { name: 'the host side of a Kata sandbox', e: { pod: 'busybox', namespace: 'ns', kernel: 'host', sandbox: 'abc' }, want: 'ns/busybox:(sandbox)' },
    { name: 'a host pod cgroup without a container (single-kernel trace)', e: { pod: 'busybox', namespace: 'ns' }, want: 'ns/busybox' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(scopeOf(c.e), c.want));
});

describe('behaviour report of node traces', () => {
  const notTraced: GuestSummary = { namespace: 'kata-containers-k8s-tests', pod: 'tdx-pod', uid: 'u', status: 'not traced', reason: 'confidential', runtime_class: 'kata-qemu-tdx' };
  const base = profileOf(run(1));
  const headRun = run(2, true);
  const head = profileTrace({ header, events: headRun.events, footer: footer([...headRun.guests, notTraced]) });
  const d = diffProfiles([base], head);

  it('the comment names a guest that could not be traced, and the traced ones', () => {
    const md = renderBehaviorComment(d, { job: 'k8s-tests' });
    assert.match(md, /\*\*Kata guests\*\*/);
    assert.match(md, /<code>kata-containers-k8s-tests\/tdx-pod<\/code>: guest: not traced \(confidential\)/);
    assert.match(md, /<code>kata-containers-k8s-tests\/busybox<\/code>: guest: traced/);
  });

  it('the HTML report lists the guests and groups items by pod', () => {
    const other = run(2, true);
    other.events.push({ type: 'event', ts: 9, kind: 'exec', pid: 500, ppid: 1, exe: '/bin/true', argv: ['true'], result: 0, kernel: 'host', pod: 'other', namespace: 'default', container: 'c' });
    const dd = diffProfiles([base], profileOf(other));
    const html = renderBehaviorHtml(dd, { job: 'k8s-tests' });
    assert.match(html, /<h2>Kata guests<\/h2>/);
    const processes = html.slice(html.indexOf('<h3>Processes</h3>'), html.indexOf('<h3>Files</h3>'));
    const rows = [...processes.matchAll(/<tr class="(pod|added|removed)">.*?<code>([^<]*)<\/code>/g)].map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(rows, [
      'pod default/other',
      'added [default/other:c] (root) → /bin/true',
      'pod kata-containers-k8s-tests/busybox',
      'added [kata-containers-k8s-tests/busybox:busybox] /bin/sh → /bin/wget http://example.com/',
    ]);
  });

  it('a single pod is not grouped: the rows stay as they were', () => {
    const md = renderBehaviorComment(d, { job: 'k8s-tests' });
    assert.doesNotMatch(md, /\| \| \*\*<code>/);
  });
});
