// Trace format 1.1: packages in the header, custom events, the footer's custom section. Readers keep custom
// events apart from the seven kinds; 1.0 traces read as before; custom events fold into behaviour items.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { customItems, identityOf } from '../../../src/trace/custom-items.ts';
import {
  countKinds, customEventProblem, eventProblem, isCustomEventRecord, parseTrace, serializeRecord,
  serializeTrace, type CustomTraceEvent, type Trace,
} from '../../../src/trace/format.ts';
import { customExec, customHeader, syscalls } from '../../fixtures/custom-trace.ts';

const header = customHeader;
const exec = customExec;
const calls = syscalls;

function trace(): Trace {
  return {
    header: structuredClone(header) as unknown as Trace['header'],
    events: [exec],
    custom: [calls(3, 'sh', 3), calls(9, 'cat', 118)],
    footer: {
      type: 'footer', counts: countKinds([exec]), lost: { reported: 0, gap: 0, incomplete: 0, total: 0 }, malformed: 0, truncated: 0,
      duration_ms: 5, end: '2025-01-01T00:00:00.005Z', exit_code: 0, custom: { counts: { 'syscount/syscalls': 2 }, lost: 0, malformed: 0 },
    },
  };
}

describe('trace format 1.1', () => {
  it('writes custom events in their canonical key order, merged with the others by ts', () => {
    const text = serializeTrace(trace());
    const lines = text.trim().split('\n');
    assert.equal(lines[1], '{"type":"event","ts":3,"kind":"custom","pid":0,"comm":"sh","package":"syscount","name":"syscalls","fields":{"count":3}}');
    assert.match(lines[2]!, /"kind":"exec"/);
    assert.match(lines[3]!, /"comm":"cat"/);
    assert.match(lines[4]!, /"exit_code":0,"custom":\{"counts":\{"syscount\/syscalls":2\},"lost":0,"malformed":0\}\}$/);
    assert.match(lines[0]!, /"target":\{[^}]*\},"packages":\[/);
  });

  it('round-trips, keeping custom events out of Trace.events', () => {
    const text = serializeTrace(trace());
    const back = parseTrace(text);
    assert.deepEqual(back.events, [exec]);
    assert.equal(back.custom?.length, 2);
    assert.deepEqual(back, trace());
    assert.equal(serializeTrace(back), text);
  });

  it('a trace without custom events has no custom list (1.0 traces read exactly as before)', () => {
    const t = parseTrace(serializeTrace({ ...trace(), custom: [] }));
    assert.equal('custom' in t, false);
  });

  it('1.0 readers keep rejecting unknown kinds; custom events are recognised before that check', () => {
    const raw = JSON.parse(serializeRecord(calls(1, 'x', 1))) as Record<string, unknown>;
    assert.equal(isCustomEventRecord(raw), true);
    assert.equal(customEventProblem(raw), undefined);
    assert.match(eventProblem(raw)!, /unknown event kind "custom"/);
    assert.match(customEventProblem({ ...raw, fields: [] })!, /fields are not an object/);
    assert.throws(() => parseTrace(`${JSON.stringify(header)}\n${JSON.stringify({ ...raw, package: '' })}\n`), /line 2: custom event without a package/);
  });
});

describe('custom events as behaviour items', () => {
  it('one item per identity, measurements aside', () => {
    const t = trace();
    const items = customItems([...t.custom!, calls(12, 'cat', 4)], t.header.packages);
    assert.deepEqual(items.map((i) => [i.key, i.count]), [['syscount/syscalls comm=cat', 2], ['syscount/syscalls comm=sh', 1]]);
    assert.equal(items[0]!.category, 'syscount/syscalls');
  });
  it('without declared identity: comm and string fields', () => {
    const e: CustomTraceEvent = { type: 'event', ts: 0, kind: 'custom', pid: 9, comm: 'curl', package: 'p', name: 'slow', fields: { path: '/x', latency: 5 } };
    assert.deepEqual(identityOf(e, undefined), { comm: 'curl', path: '/x' });
  });
});
