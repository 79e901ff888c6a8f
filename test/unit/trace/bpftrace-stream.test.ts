// The bpftrace `-f json` stream parser: partial lines across chunks, lost_events in both record shapes, printf
// payloads, and errors that name the line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BpftraceJsonStream, parseBpftraceLine } from '../../../src/trace/bpftrace-stream.ts';
import { TraceParseError } from '../../../src/trace/format.ts';

// Lines as bpftrace v0.17.0 prints them (captured on this machine), plus the newer shapes of lost_events.
const ATTACHED = '{"type": "attached_probes", "data": {"probes": 22}}';
const PRINTF = '{"type": "printf", "data": "N\\u001f15829\\u001f/usr/bin/cat\\n"}';
const MAP = '{"type": "map", "data": {"@sent": {"66": 1, "78": 239}}}';

describe('parseBpftraceLine', () => {
  const cases: Array<{ name: string; line: string; want: unknown }> = [
    { name: 'attached_probes (v0.17)', line: ATTACHED, want: { type: 'attached_probes', line: 1, probes: 22 } },
    { name: 'printf strips the trailing newline and decodes escapes', line: PRINTF, want: { type: 'printf', line: 1, text: 'N\x1f15829\x1f/usr/bin/cat' } },
    { name: 'printf keeps inner newlines and quotes', line: '{"type": "printf", "data": "A\\u001f1\\u001f0\\u001fa\\"b\\tc\\nd\\n"}', want: { type: 'printf', line: 1, text: 'A\x1f1\x1f0\x1fa"b\tc\nd' } },
    { name: 'lost_events, v0.17–0.20 shape', line: '{"type": "lost_events", "data": {"events": 12}}', want: { type: 'lost_events', line: 1, events: 12 } },
    { name: 'lost_events, newer shape with count', line: '{"type": "lost_events", "count": 7, "data": {"events": 7}}', want: { type: 'lost_events', line: 1, events: 7 } },
    { name: 'lost_events, count only', line: '{"type": "lost_events", "count": 3}', want: { type: 'lost_events', line: 1, events: 3 } },
    { name: 'map', line: MAP, want: { type: 'map', line: 1, maps: { '@sent': { '66': 1, '78': 239 } } } },
    { name: 'errorf', line: '{"type": "errorf", "msg": "bad", "filename": "x.bt", "line": 3, "col": 1}', want: { type: 'error', line: 1, message: 'errorf: bad' } },
    { name: 'unknown types pass through', line: '{"type": "time", "data": "12:00:00\\n"}', want: { type: 'other', line: 1, kind: 'time', data: '12:00:00\n' } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(parseBpftraceLine(c.line, 1), c.want));

  const bad: Array<{ name: string; line: string; match: RegExp }> = [
    { name: 'not JSON', line: 'ERROR: something', match: /line 9: bpftrace output is not JSON/ },
    { name: 'no type', line: '{"data": 1}', match: /line 9: bpftrace record without a type/ },
    { name: 'printf data not a string', line: '{"type": "printf", "data": 5}', match: /line 9: printf record/ },
    { name: 'lost_events without a count', line: '{"type": "lost_events", "data": {}}', match: /line 9: lost_events record without a count/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}, naming the line`, () => {
      assert.throws(() => parseBpftraceLine(c.line, 9), (err: unknown) => err instanceof TraceParseError && err.line === 9 && c.match.test(err.message));
    });
  }
});

describe('BpftraceJsonStream', () => {
  it('joins lines split across chunks anywhere, even inside escapes', () => {
    const text = `${ATTACHED}\n${PRINTF}\n\n${MAP}\n`;
    for (let cut1 = 1; cut1 < text.length - 1; cut1 += 7) {
      for (const cut2 of [cut1 + 1, cut1 + 13, text.length - 1]) {
        const s = new BpftraceJsonStream();
        const got = [...s.push(text.slice(0, cut1)), ...s.push(text.slice(cut1, cut2)), ...s.push(text.slice(cut2)), ...s.end()];
        assert.deepEqual(got.map((r) => r.type), ['attached_probes', 'printf', 'map'], `cuts at ${cut1},${cut2}`);
        assert.deepEqual(got.map((r) => r.line), [1, 2, 4]);
      }
    }
  });

  it('returns nothing until a line is complete, and flushes a last line without newline on end()', () => {
    const s = new BpftraceJsonStream();
    assert.deepEqual(s.push('{"type": "lost_ev'), []);
    assert.deepEqual(s.push('ents", "data": {"events": 2}}'), []);
    assert.deepEqual(s.end(), [{ type: 'lost_events', line: 1, events: 2 }]);
  });

  it('throws on a malformed line with its line number when no handler is given', () => {
    const s = new BpftraceJsonStream();
    s.push(`${ATTACHED}\n`);
    assert.throws(() => s.push('{"type": "printf", "data": "x"\n'), /line 2: /);
  });

  it('reports malformed lines to onError and keeps parsing the rest of the chunk', () => {
    const errors: number[] = [];
    const s = new BpftraceJsonStream({ onError: (e) => errors.push(e.line) });
    const got = s.push(`${ATTACHED}\nWARNING: not json\n${PRINTF}\n{broken\n${MAP}\n`);
    assert.deepEqual(got.map((r) => r.type), ['attached_probes', 'printf', 'map']);
    assert.deepEqual(errors, [2, 4]);
    assert.equal(s.lines, 5);
  });
});
