// The one-screen summary: counts by kind, top executables, destinations, failures, lost events.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countKinds, type TraceEvent, type TraceFooter } from '../../../src/trace/format.ts';
import { renderSummary, summarize } from '../../../src/trace/summary.ts';

const ev = (e: Partial<TraceEvent> & Pick<TraceEvent, 'kind'>): TraceEvent => ({ type: 'event', ts: 0, pid: 1, ...e });
const events: TraceEvent[] = [
  ...Array.from({ length: 3 }, () => ev({ kind: 'exec', exe: '/usr/bin/cat', result: 0 })),
  ev({ kind: 'exec', exe: '/usr/bin/git', result: 0 }),
  ev({ kind: 'exec', exe: '/usr/local/bin/git', result: -2, error: 'ENOENT' }),
  ev({ kind: 'open', path: '/etc/hostname', result: 3 }),
  ev({ kind: 'open', path: '/nope', result: -2 }),
  ev({ kind: 'connect', daddr: '127.0.0.1', dport: 8080, proto: 'tcp', result: 0 }),
  ev({ kind: 'connect', daddr: '127.0.0.1', dport: 8080, proto: 'tcp', result: 0 }),
  ev({ kind: 'connect', daddr: '::1', dport: 1, proto: 'tcp', result: -1 }),
  ev({ kind: 'dns', query: 'github.com', qtype: 'A' }),
  ev({ kind: 'listen', saddr: '0.0.0.0', sport: 9000, proto: 'tcp' }),
  ev({ kind: 'exit', result: 0, pod: 'job-1', namespace: 'test-pods' }),
];
const footer = (lost: number): TraceFooter => ({
  type: 'footer', counts: countKinds(events), lost: { reported: lost, gap: 0, incomplete: 0, total: lost }, malformed: 0, truncated: 1,
  duration_ms: 2500, end: '', exit_code: 3,
});

describe('summary', () => {
  const s = summarize(events, footer(0));

  it('counts, ranks and collects failures', () => {
    assert.deepEqual(s.topExecutables, [['/usr/bin/cat', 3], ['/usr/bin/git', 1]]);
    assert.deepEqual(s.destinations, [['127.0.0.1:8080/tcp', 2], ['[::1]:1/tcp', 1]]);
    assert.deepEqual(s.dnsQueries, [['github.com A', 1]]);
    assert.deepEqual(s.listening, ['0.0.0.0:9000/tcp']);
    assert.deepEqual([s.failedExecs, s.failedOpens, s.failedConnects], [1, 1, 1]);
    assert.deepEqual(s.pods, ['test-pods/job-1']);
  });

  it('renders one screen that names lost events', () => {
    const text = renderSummary(s, { target: { mode: 'command', argv: ['make', 'test'] } }, 'trace.jsonl');
    const lines = text.trimEnd().split('\n');
    assert.ok(lines.length <= 12, text);
    assert.match(lines[0]!, /^katabot trace: 13 events in 2\.50 s, exit code 3 — make test$/);
    assert.match(text, /exec 5 {2}exit 1 {2}open 2 {2}connect 3/);
    assert.match(text, /top executables: \/usr\/bin\/cat ×3, \/usr\/bin\/git/);
    assert.match(text, /lost events: {5}0 {3}truncated: 1/);
    assert.match(renderSummary(summarize(events, footer(7)), undefined), /lost events: {5}7 {2}\(the trace is incomplete\)/);
  });

  it('clips long lines to the width', () => {
    const long = summarize([ev({ kind: 'exec', exe: '/x'.repeat(200), result: 0 })], footer(0));
    for (const line of renderSummary(long, undefined, undefined, 80).split('\n')) assert.ok(line.length <= 80);
  });
});
