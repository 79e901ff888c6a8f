// The trace file a tracer program's records become: header, events, the repeats counted in the kernel at the end,
// and a footer that says when it cannot account for everything (bpftrace killed before END printed its counters).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { BpftraceRecord } from '../../../src/trace/bpftrace-stream.ts';
import { dnsNaming } from '../../../src/trace/enrich.ts';
import { parseTrace } from '../../../src/trace/format.ts';
import { FIELD_SEPARATOR } from '../../../src/trace/protocol.ts';
import { TraceRecorder } from '../../../src/tracer/recorder.ts';

const dir = mkdtempSync(join(tmpdir(), 'katabot-recorder-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function record(recorder: TraceRecorder, tag: string, ...fields: Array<string | number | bigint>): void {
  recorder.push({ type: 'printf', line: 1, text: [tag, ...fields.map(String)].join(FIELD_SEPARATOR) }, () => {});
}

function recorder(out: string, log: string[]): TraceRecorder {
  return new TraceRecorder({
    out, target: { mode: 'command', argv: ['x'] }, bpftrace: 'v0.17.0', strlen: 200, maxArgs: 32, enrich: dnsNaming, log: (l) => log.push(l),
  });
}

describe('TraceRecorder', () => {
  it('writes the repeats END counted after the events, and counts them in the footer', async () => {
    const out = join(dir, 'counted.jsonl');
    const r = recorder(out, []);
    const ts = r.startNs + 1000n;
    record(r, 'O', ts, 7, 1, 0, 5, 1, 0, 0, 3, 'cat', '/etc/hostname');
    record(r, 'O', ts + 10n, 7, 1, 0, 5, 1, 8192, 0, 3, 'cat', '/etc/hostname');
    const maps: BpftraceRecord[] = [
      { type: 'map', line: 2, maps: { '@rep': { '8192,0': 40 } } },
      { type: 'map', line: 3, maps: { '@sent': { '79': 2 } } },
    ];
    for (const m of maps) r.push(m, () => {});
    const { footer } = await r.finish(0, { kinds: {} });
    const trace = parseTrace(readFileSync(out, 'utf8'));
    assert.deepEqual(trace.events.map((e) => [e.pid, e.count]), [[7, undefined], [7, undefined], [0, 40]]);
    assert.equal(footer.counts.open, 42);
    assert.deepEqual(footer.lost, { reported: 0, gap: 0, incomplete: 0, total: 0 });
  });

  it('says the footer cannot account for everything when END never printed the counters', async () => {
    const log: string[] = [];
    const r = recorder(join(dir, 'killed.jsonl'), log);
    record(r, 'O', r.startNs + 1000n, 7, 1, 0, 5, 1, 8192, 0, 3, 'cat', '/etc/hostname');
    const { footer } = await r.finish(null, { kinds: {} });
    assert.equal(footer.lost.incomplete, -1);
    assert.equal(footer.counts.open, 1);
    assert.match(log.join('\n'), /ended without printing its counters/);
  });
});
