// A package's bpftrace output read through its declared events: printf lines, printed maps, mapped trace kinds,
// unnamed packages, and lines that break the contract.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OUTPUT_EVENT, PackageDecoder, tracePackageInfo } from '../../../src/bpf/decode.ts';
import { parsePackageYaml, unnamedPackage, type PackageMeta } from '../../../src/bpf/package.ts';
import { ATTACH_MARKER } from '../../../src/bpf/source.ts';
import { parseBpftraceLine } from '../../../src/trace/bpftrace-stream.ts';
import { cgroupAttribution } from '../../../src/trace/enrich.ts';

const META = parsePackageYaml(`name: probe
version: 1.0.0
events:
  - {name: calls, map: "@calls", keys: [comm, "nr:int"], value: count}
  - {name: total, map: "@total"}
  - {name: slow, fields: [ts, pid, comm, "latency:int", path]}
  - {name: create, kind: open, fields: [ts, pid, comm, flags, path, result, cgid]}
`, 'probe');

function decoder(meta: PackageMeta = META): PackageDecoder {
  return new PackageDecoder({
    meta,
    tsFromNsecs: (ns) => Number(ns - 1000n),
    now: () => 777,
    enrich: cgroupAttribution((id) => (id === '42' ? { cgroup: '/kubepods/pod1/c1', pod: 'p', namespace: 'ns' } : undefined)),
  });
}

const line = (json: unknown): ReturnType<typeof parseBpftraceLine> => parseBpftraceLine(JSON.stringify(json), 1);

describe('PackageDecoder', () => {
  it('sees the attach marker', () => {
    assert.deepEqual(decoder().push(line({ type: 'printf', data: `${ATTACH_MARKER}\n` })), { events: [], attached: true });
  });

  it('turns a printf line into a custom event: process fields on the event, the rest in fields, ts from nsecs', () => {
    const d = decoder();
    const r = d.push(line({ type: 'printf', data: 'slow\t5000\t12\tcurl\t99\t/a\tb\n' }));
    assert.deepEqual(r.events, [{ type: 'event', ts: 4000, kind: 'custom', pid: 12, comm: 'curl', package: 'probe', name: 'slow', fields: { latency: 99, path: '/a\tb' } }]);
    assert.deepEqual(d.stats.custom, { 'probe/slow': 1 });
  });

  it('maps a printf event to a trace kind: flags decoded, errno named, cgroup attributed', () => {
    const r = decoder().push(line({ type: 'printf', data: 'create\t2000\t7\ttouch\t577\t/tmp/x\t-13\t42\n' }));
    assert.deepEqual(r.events, [{
      type: 'event', ts: 1000, kind: 'open', pid: 7, comm: 'touch', path: '/tmp/x', flags: ['write', 'create', 'truncate'], result: -13, error: 'EACCES',
      cgroup: '/kubepods/pod1/c1', pod: 'p', namespace: 'ns',
    }]);
  });

  it('turns a printed map into one event per key, keys split and typed', () => {
    const d = decoder();
    const r = d.push(line({ type: 'map', data: { '@calls': { 'cat,0': 3, 'a,b,1': 2 } } }));
    assert.equal(r.events.length, 2);
    assert.deepEqual(r.events[0], { type: 'event', ts: 777, kind: 'custom', pid: 0, comm: 'cat', package: 'probe', name: 'calls', fields: { nr: 0, count: 3 } });
    // more key parts than keys: the comma belonged to the last key; an int key that does not read as one stays text
    assert.deepEqual(r.events[1], { type: 'event', ts: 777, kind: 'custom', pid: 0, comm: 'a', package: 'probe', name: 'calls', fields: { nr: 'b,1', count: 2 } });
    assert.deepEqual(d.stats.custom, { 'probe/calls': 2 });
  });

  it('keeps a map without keys, and hist and stats values, as JSON', () => {
    const d = decoder();
    assert.deepEqual(d.push(line({ type: 'map', data: { '@total': 12 } })).events[0]!, { type: 'event', ts: 777, kind: 'custom', pid: 0, package: 'probe', name: 'total', fields: { value: 12 } });
    const hist = d.push(line({ type: 'hist', data: { '@lat': [{ min: 0, max: 1, count: 2 }] } })).events[0] as { name: string; fields: unknown };
    assert.equal(hist.name, 'lat', 'an undeclared map is an event named after it');
    assert.deepEqual(hist.fields, { value: [{ min: 0, max: 1, count: 2 }] });
    const stats = d.push(line({ type: 'stats', data: { '@st': { count: 3, average: 79, total: 237 } } })).events[0] as { fields: unknown };
    assert.deepEqual(stats.fields, { value: { count: 3, average: 79, total: 237 } });
  });

  it('counts lines that break the contract and says why', () => {
    const d = decoder();
    assert.match(d.push(line({ type: 'printf', data: 'fast\t1\n' })).malformed!, /"fast\\t1" is not a declared event/);
    assert.match(d.push(line({ type: 'printf', data: 'slow\t1\t2\n' })).malformed!, /event slow: 2 column\(s\), 5 declared/);
    assert.match(d.push(line({ type: 'printf', data: 'slow\tx\t2\tc\t1\t/p\n' })).malformed!, /ts is "x", not an integer/);
    assert.equal(d.stats.malformed, 3);
    d.push(line({ type: 'lost_events', data: { events: 9 } }));
    assert.equal(d.stats.lost, 9);
  });

  it('an unnamed package: printf lines are output events, maps are named after themselves', () => {
    const d = decoder(unnamedPackage('x.bt', '').meta);
    assert.deepEqual(d.push(line({ type: 'printf', data: 'hello 5\n' })).events[0], { type: 'event', ts: 777, kind: 'custom', pid: 0, package: 'x', name: OUTPUT_EVENT, fields: { text: 'hello 5' } });
    assert.deepEqual(d.push(line({ type: 'map', data: { '@': { bash: 3 } } })).events[0], { type: 'event', ts: 777, kind: 'custom', pid: 0, package: 'x', name: 'map', fields: { key: 'bash', value: 3 } });
  });

  it('describes the package for the trace header', () => {
    assert.deepEqual(tracePackageInfo(META, { kind: 'repo', path: '/r' }, 'abc'), {
      name: 'probe', version: '1.0.0', origin: 'repo', sha256: 'abc',
      events: [
        { name: 'calls', kind: 'custom', identity: ['comm', 'nr'] }, { name: 'total', kind: 'custom', identity: [] },
        { name: 'slow', kind: 'custom', identity: ['comm', 'path'] }, { name: 'create', kind: 'open' },
      ],
    });
  });
});
