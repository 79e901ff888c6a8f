// The enrichers between a decoder and the trace: DNS naming, cgroup attribution, and their pipeline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupAttribution, dnsNaming, pipeline, type Enricher, type EventFacts } from '../../../src/trace/enrich.ts';
import type { CustomTraceEvent, TraceEvent } from '../../../src/trace/format.ts';

/** A DNS query for `name` (type A), as a resolver sends it, in bpftrace's `%r` text. */
function query(name: string, flags = [1, 0]): string {
  const labels = name.split('.').map((l) => String.fromCharCode(l.length) + l).join('');
  const bytes = String.fromCharCode(0x12, 0x34, ...flags, 0, 1, 0, 0, 0, 0, 0, 0) + labels + String.fromCharCode(0, 0, 1, 0, 1);
  return [...bytes].map((c) => (c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) < 0x7f ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)).join('');
}

const event = (kind: TraceEvent['kind']): TraceEvent => ({ type: 'event', ts: 1, kind, pid: 10 });
const who = (id: string): { cgroup: string; pod: string } | undefined => (id === '7' ? { cgroup: '/kubepods/pod1/c1', pod: 'p' } : undefined);

const cases: Array<{ name: string; enrich: Enricher; event: TraceEvent | CustomTraceEvent; facts: EventFacts; kept: boolean; want: Partial<TraceEvent> }> = [
  {
    name: 'DNS naming reads the question of a query', enrich: dnsNaming, event: event('dns'),
    facts: { dns: { payload: query('katabot-test.example'), len: 38, tcp: false } }, kept: true, want: { query: 'katabot-test.example', qtype: 'A' },
  },
  {
    name: 'DNS naming drops a reply (not a query)', enrich: dnsNaming, event: event('dns'),
    facts: { dns: { payload: query('katabot-test.example', [0x81, 0x80]), len: 38, tcp: false } }, kept: false, want: {},
  },
  {
    name: 'DNS naming marks a question cut by the copied length', enrich: dnsNaming, event: event('dns'),
    facts: { dns: { payload: query('katabot-test.example'), len: 20, tcp: false } }, kept: true, want: { query: 'katabot', truncated: true },
  },
  { name: 'DNS naming leaves other events alone', enrich: dnsNaming, event: event('open'), facts: { cgid: '7' }, kept: true, want: {} },
  { name: 'cgroup attribution adds who the cgroup belongs to', enrich: cgroupAttribution(who), event: event('open'), facts: { cgid: '7' }, kept: true, want: { cgroup: '/kubepods/pod1/c1', pod: 'p' } },
  { name: 'cgroup attribution adds nothing for an unknown cgroup', enrich: cgroupAttribution(who), event: event('open'), facts: { cgid: '8' }, kept: true, want: {} },
  {
    name: 'a pipeline runs every step', enrich: pipeline(dnsNaming, undefined, cgroupAttribution(who)), event: event('dns'),
    facts: { cgid: '7', dns: { payload: query('a.example'), len: 27, tcp: false } }, kept: true, want: { query: 'a.example', qtype: 'A', cgroup: '/kubepods/pod1/c1', pod: 'p' },
  },
  {
    name: 'a pipeline stops at the step that drops the event', enrich: pipeline(dnsNaming, cgroupAttribution(who)), event: event('dns'),
    facts: { cgid: '7', dns: { payload: 'not dns', len: 7, tcp: false } }, kept: false, want: {},
  },
];

describe('enrichers', () => {
  for (const c of cases) {
    it(c.name, () => {
      const e = structuredClone(c.event);
      const kept = c.enrich(e, c.facts) !== false;
      assert.equal(kept, c.kept);
      assert.deepEqual(e, { ...c.event, ...c.want });
    });
  }
});
