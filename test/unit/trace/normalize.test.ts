// The normaliser joins the record protocol's pieces into events: exec entry/argv/return by thread, open entry and
// return, connect outcome by socket, across CPUs' out-of-order delivery, and counts what was lost on the way.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BpftraceRecord } from '../../../src/trace/bpftrace-stream.ts';
import { cgroupAttribution, dnsNaming, pipeline } from '../../../src/trace/enrich.ts';
import type { TraceEvent } from '../../../src/trace/format.ts';
import { TraceNormalizer, type NormalizerOptions } from '../../../src/trace/normalize.ts';
import { FIELD_SEPARATOR, parseProtocolRecord } from '../../../src/trace/protocol.ts';

const START = 1_000_000_000n;
let line = 0;
function rec(tag: string, ...fields: Array<string | number | bigint>): BpftraceRecord {
  return { type: 'printf', line: ++line, text: [tag, ...fields.map(String)].join(FIELD_SEPARATOR) };
}
const ts = (ms: number): bigint => START + BigInt(Math.round(ms * 1e6));

function run(records: BpftraceRecord[], opts: Partial<NormalizerOptions> = {}): { events: TraceEvent[]; n: TraceNormalizer } {
  const events: TraceEvent[] = [];
  const n = new TraceNormalizer({ startNs: START, strlen: 200, emit: (e) => events.push(e), ...opts });
  for (const r of records) n.push(r);
  return { events, n };
}

// exec of `cat /etc/hostname` by pid 11 (a child of 10), as the program prints it: N, A…, E at entry; R at return
const execCat = (tEntry: number, tRet: number, ret = 0): BpftraceRecord[] => [
  rec('N', 11, '/usr/bin/cat'),
  rec('A', 11, 0, 'cat'),
  rec('A', 11, 1, '/etc/hostname'),
  rec('E', ts(tEntry), 11, 11, 10, 0, 77, 2, 'sh'),
  rec('R', ts(tRet), 11, 11, 2, ret, ret === 0 ? 'cat' : 'sh'),
];

describe('protocol records', () => {
  it('keeps the separator inside the last free-text field', () => {
    const r = parseProtocolRecord(['O', '5', '1', '1', '0', '44', '1', '0', '0', '3', 'cat', `/tmp/a${FIELD_SEPARATOR}b`].join(FIELD_SEPARATOR));
    assert.ok(typeof r !== 'string' && r.tag === 'O');
    assert.equal(r.path, `/tmp/a${FIELD_SEPARATOR}b`);
  });
  it('rejects unknown tags and short or non-numeric records', () => {
    assert.match(String(parseProtocolRecord('Z\x1f1')), /unknown record tag/);
    assert.match(String(parseProtocolRecord('F\x1f1\x1f2')), /has 2 fields, expected 4/);
    assert.match(String(parseProtocolRecord('F\x1f1\x1fx\x1f1\x1f2')), /field pid is not an integer/);
  });
});

describe('TraceNormalizer', () => {
  it('assembles an exec with argv, result, comm after exec and parent executable', () => {
    const { events, n } = run([rec('N', 10, '/usr/bin/sh'), rec('E', ts(0), 10, 10, 1, 0, 77, 0, 'node'), rec('R', ts(0.1), 10, 10, 1, 0, 'sh'), ...execCat(1, 1.2)]);
    n.finish();
    const cat = events.find((e) => e.exe === '/usr/bin/cat');
    assert.deepEqual(cat, {
      type: 'event', ts: 1_000_000, kind: 'exec', pid: 11, ppid: 10, comm: 'cat', exe: '/usr/bin/cat', parent_exe: '/usr/bin/sh',
      argv: ['cat', '/etc/hostname'], uid: 0, result: 0,
    });
  });

  it('joins an exec whose return is read before its entry (thread moved CPUs)', () => {
    const [n1, a0, a1, e, r] = execCat(1, 2);
    const { events, n } = run([r!, n1!, a0!, a1!, e!]);
    const stats = n.finish();
    assert.equal(events.length, 1);
    assert.equal(events[0]!.result, 0);
    assert.equal(stats.incomplete, 0);
  });

  it('marks a failed exec with its errno and keeps the caller comm', () => {
    const { events, n } = run(execCat(1, 1.1, -2));
    n.finish();
    assert.equal(events[0]!.result, -2);
    assert.equal(events[0]!.error, 'ENOENT');
    assert.equal(events[0]!.comm, 'sh');
  });

  it('flags argv as truncated when longer than the copied limit or when an element hit the string limit', () => {
    const long = 'x'.repeat(199);
    const { events, n } = run([
      rec('N', 20, '/bin/echo'), rec('A', 20, 0, 'echo'), rec('E', ts(1), 20, 20, 1, 0, 5, 2, 'sh'), rec('R', ts(2), 20, 20, 1, 0, 'echo'),
      rec('N', 21, '/bin/echo'), rec('A', 21, 0, long), rec('E', ts(3), 21, 21, 1, 0, 5, 1, 'sh'), rec('R', ts(4), 21, 21, 1, 0, 'echo'),
      rec('N', 22, '/bin/echo'), rec('A', 22, 0, 'echo'), rec('E', ts(5), 22, 22, 1, 0, 5, 1, 'sh'), rec('R', ts(6), 22, 22, 1, 0, 'echo'),
    ]);
    const stats = n.finish();
    assert.deepEqual(events.map((e) => e.truncated), [true, true, undefined]);
    assert.equal(stats.truncated, 2);
  });

  it('decodes open flags, results and errno', () => {
    const { events, n } = run([
      rec('O', ts(1), 30, 1, 0, 5, 1, 0, 0o1101, 3, 'sh', '/tmp/out'), // O_WRONLY|O_CREAT|O_TRUNC
      rec('O', ts(2), 31, 1, 0, 5, 1, 0, 0o2000000, -2, 'cat', '/etc/missing'), // O_CLOEXEC only: read
    ]);
    n.finish();
    assert.deepEqual(events.map((e) => [e.path, e.flags, e.result, e.error]), [
      ['/tmp/out', ['write', 'create', 'truncate'], 3, undefined],
      ['/etc/missing', ['read'], -2, 'ENOENT'],
    ]);
  });

  it('emits in kernel time order within the reorder window', () => {
    const { events, n } = run([
      rec('X', ts(5), 40, 1, 0, 5, 0, 'b'),
      rec('X', ts(3), 41, 1, 0, 5, 256, 'a'),
      rec('X', ts(4), 42, 1, 0, 5, 9, 'c'),
    ]);
    n.finish();
    assert.deepEqual(events.map((e) => [e.pid, e.result, e.signal]), [[41, 1, undefined], [42, 137, 'SIGKILL'], [40, 0, undefined]]);
  });

  it('completes a connect with the outcome seen later on the socket', () => {
    const { events, n } = run([
      rec('C', ts(1), 50, 1, 0, 5, 1, 0, '18446612687739547392', 2, 8080, '127.0.0.1', '127.0.0.1', 'curl'),
      rec('C', ts(2), 50, 1, 0, 5, 1, 0, '18446612687739540288', 10, 1, '::', '::1', 'curl'),
      rec('S', ts(1.1), '18446612687739547392', 1, 40000),
      rec('S', ts(2.1), '18446612687739540288', 7, 0),
    ]);
    n.finish();
    assert.deepEqual(events.map((e) => [e.daddr, e.dport, e.saddr, e.sport, e.result]), [
      ['127.0.0.1', 8080, '127.0.0.1', 40000, 0],
      ['::1', 1, undefined, undefined, -1],
    ]);
  });

  it('parses DNS questions, formats the resolver address, and drops non-queries', () => {
    const q = '\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x03foo\\x07example\\x03org\\x00\\x00\\x1c\\x00\\x01';
    const reply = '\\x12\\x34\\x81\\x80\\x00\\x01\\x00\\x01\\x00\\x00\\x00\\x00';
    // 10.255.255.53 read as a little-endian word
    const word = 10 | (255 << 8) | (255 << 16) | (53 * 2 ** 24);
    const { events, n } = run([
      rec('D', ts(1), 60, 1, 0, 5, 2, 17, 53, 33, word >>> 0, 0, 0, 0, 'getent', q + '\\x00\\x00garbage-after-len'),
      rec('D', ts(2), 60, 1, 0, 5, 2, 17, 53, 12, word >>> 0, 0, 0, 0, 'getent', reply),
      rec('D', ts(3), 60, 1, 0, 5, 10, 17, 53, 33, 0, 0, 0, 0x01000000, 'getent', q),
    ]);
    n.finish();
    assert.deepEqual(events.map((e) => [e.daddr, e.query, e.qtype, e.proto]), [
      ['10.255.255.53', 'foo.example.org', 'AAAA', 'udp'],
      ['::1', 'foo.example.org', 'AAAA', 'udp'],
    ]);
  });

  it('gives forked children their parent executable until they exec', () => {
    const { events, n } = run([
      rec('N', 70, '/usr/bin/bash'), rec('E', ts(1), 70, 70, 1, 0, 5, 0, 'x'), rec('R', ts(1.1), 70, 70, 1, 0, 'bash'),
      rec('F', ts(2), 70, 1, 71),
      rec('O', ts(3), 71, 70, 0, 5, 1, 0, 0, 3, 'bash', '/etc/passwd'),
    ]);
    n.finish();
    assert.equal(events.find((e) => e.kind === 'open')?.exe, '/usr/bin/bash');
  });

  it('counts lost_events, gaps against the kernel counters, incomplete events and malformed records', () => {
    const malformed: number[] = [];
    const { n } = run([
      { type: 'lost_events', line: 1, events: 4 },
      rec('N', 80, '/bin/x'), rec('E', ts(1), 80, 80, 1, 0, 5, 0, 'x'), // its R never arrives
      rec('O', ts(2), 81, 1, 0, 5, 1, 0, 0, 3, 'x', '/a'),
      { type: 'printf', line: 99, text: 'garbage' },
      // the kernel says it printed 3 O records and 2 E records; 1 O and 1 E arrived
      { type: 'map', line: 100, maps: { '@sent': { '79': 3, '69': 2, '78': 1 } } },
    ], { onMalformed: (l) => malformed.push(l) });
    const stats = n.finish();
    assert.equal(stats.lostReported, 4);
    assert.equal(stats.gap, 3);
    assert.equal(stats.incomplete, 1);
    assert.equal(stats.malformed, 1);
    assert.deepEqual(malformed, [99]);
    assert.deepEqual(stats.sentByTag, { O: 3, E: 2, N: 1 });
  });

  it('looks up the executable of an open by process image, so an exec read after the open still names it', () => {
    const { events, n } = run([
      rec('N', 70, '/usr/bin/bash'), rec('E', ts(1), 70, 70, 1, 0, 5, 0, 'x'), rec('R', ts(1.1), 70, 70, 1, 0, 'bash'),
      rec('F', ts(2), 70, 1, 71),
      // pid 71 execs cat (image 2); its open is read before the exec's return, from another CPU's ring
      rec('N', 71, '/usr/bin/cat'), rec('E', ts(3), 71, 71, 70, 0, 5, 0, 'bash'),
      rec('O', ts(3.2), 71, 70, 0, 5, 2, 0, 0, 3, 'cat', '/etc/hostname'),
      rec('O', ts(2.5), 71, 70, 0, 5, 1, 0, 0, 3, 'bash', '/etc/passwd'),
      rec('R', ts(3.1), 71, 71, 2, 0, 'cat'),
    ]);
    n.finish();
    assert.deepEqual(events.filter((e) => e.kind === 'open').map((e) => [e.path, e.exe]), [['/etc/passwd', '/usr/bin/bash'], ['/etc/hostname', '/usr/bin/cat']]);
  });

  it('writes the repeats the kernel counted as copies of the record that named their key, at the end', () => {
    const connectKey = String((1n << 62n) | 4097n);
    const { events, n } = run([
      rec('O', ts(1), 30, 1, 0, 5, 1, 0, 0, 3, 'node', '/data/f0'), // first: printed, not keyed
      rec('O', ts(2), 30, 1, 0, 5, 1, 4096, 0, 4, 'node', '/data/f0'), // second: names key 4096
      rec('C', ts(3), 30, 1, 0, 5, 1, 0, '111', 2, 80, '127.0.0.1', '127.0.0.1', 'node'),
      rec('C', ts(4), 30, 1, 0, 5, 1, connectKey, '222', 2, 80, '127.0.0.1', '127.0.0.1', 'node'),
      rec('S', ts(4.1), '222', 1, 40001),
      rec('X', ts(9), 30, 1, 0, 5, 0, 'node'),
      // 99,997 more opens of /data/f0 (one of them failed with EMFILE), 10 more connects (7 established, 2 refused)
      { type: 'map', line: 100, maps: { '@rep': { '4096,0': 99_996, '4096,-24': 1, [`${connectKey},0`]: 10, [`${connectKey},1`]: 7, [`${connectKey},2`]: 2 } } },
      { type: 'map', line: 101, maps: { '@sent': { '79': 2, '67': 2, '83': 1, '88': 1 } } },
    ]);
    const stats = n.finish();
    assert.deepEqual(events.slice(-5).map((e) => [e.kind, e.pid, e.count, e.result, e.error, e.path ?? e.daddr, e.sport]), [
      ['open', 0, 99_996, 0, undefined, '/data/f0', undefined],
      ['open', 0, 1, -24, 'EMFILE', '/data/f0', undefined],
      ['connect', 0, 7, 0, undefined, '127.0.0.1', undefined],
      ['connect', 0, 2, -1, undefined, '127.0.0.1', undefined],
      ['connect', 0, 1, undefined, undefined, '127.0.0.1', undefined],
    ]);
    assert.ok(events.slice(-5).every((e) => e.ts === events.at(-6)!.ts), 'the copies come last, at the last record\'s time');
    assert.equal(stats.counts.open, 99_999);
    assert.equal(stats.counts.connect, 12);
    assert.equal(stats.aggregated, 99_997 + 10);
    assert.equal(stats.gap, 0);
  });

  it('counts the repeats of a key whose record was lost as lost', () => {
    const { n } = run([
      rec('O', ts(1), 30, 1, 0, 5, 1, 0, 0, 3, 'node', '/data/f0'),
      // the record naming key 4096 never arrived: its 500 repeats cannot be written
      { type: 'map', line: 100, maps: { '@rep': { '4096,0': 500 } } },
      { type: 'map', line: 101, maps: { '@sent': { '79': 2 } } },
    ]);
    const stats = n.finish();
    assert.equal(stats.counts.open, 1);
    assert.equal(stats.aggregated, 500);
    assert.equal(stats.gap, 501);
  });

  it('adds attribution from the cgroup id', () => {
    const { events, n } = run([rec('X', ts(1), 90, 1, 0, 1234, 0, 'x')], {
      enrich: pipeline(dnsNaming, cgroupAttribution((id) => (id === '1234' ? { cgroup: '/kubepods/pod1/abc', container: 'test', pod: 'p', namespace: 'ns' } : undefined))),
    });
    n.finish();
    assert.equal(events[0]!.container, 'test');
    assert.equal(events[0]!.namespace, 'ns');
  });
});
