// The trace format: canonical key order, round trip, version checks, and errors that name the line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  TRACE_FORMAT_VERSION, countKinds, parseTrace, serializeRecord, serializeTrace, type Trace, type TraceEvent,
} from '../../../src/trace/format.ts';
import { decodeOpenFlags, decodeWaitStatus, ipv4FromWord, ipv6FromWords, openFlagsFromNames } from '../../../src/trace/linux.ts';
import { decodeBpftraceBuffer, parseDnsQuery } from '../../../src/trace/dns.ts';

const header = {
  type: 'header', format: 'katabot-trace', version: TRACE_FORMAT_VERSION, katabot: '0.1.0', source: 'bpftrace', bpftrace: 'v0.17.0',
  kernel: '6.18.0', host: 'vm', start: '2025-01-01T00:00:00.000Z', target: { mode: 'command', argv: ['true'] },
} as const;

function trace(events: TraceEvent[]): Trace {
  return {
    header: { ...header, target: { ...header.target, argv: [...header.target.argv] } },
    events,
    footer: {
      type: 'footer', counts: countKinds(events), lost: { reported: 0, gap: 0, incomplete: 0, total: 0 }, malformed: 0, truncated: 0,
      duration_ms: 5, end: '2025-01-01T00:00:00.005Z', exit_code: 0,
    },
  };
}

describe('trace format', () => {
  it('writes event keys in one canonical order whatever order they were set in', () => {
    const a: TraceEvent = { type: 'event', ts: 1, kind: 'open', pid: 2, path: '/x', result: 3, comm: 'c', flags: ['read'] };
    const b = { result: 3, flags: ['read'], path: '/x', comm: 'c', pid: 2, kind: 'open', ts: 1, type: 'event' } as TraceEvent;
    assert.equal(serializeRecord(a), serializeRecord(b));
    assert.equal(serializeRecord(a), '{"type":"event","ts":1,"kind":"open","pid":2,"comm":"c","path":"/x","flags":["read"],"result":3}');
  });

  it('drops undefined fields and round-trips', () => {
    const t = trace([{ type: 'event', ts: 0, kind: 'exec', pid: 1, exe: '/bin/true', argv: ['true'], cwd: undefined, result: 0 }]);
    const text = serializeTrace(t);
    assert.ok(!text.includes('cwd'));
    const back = parseTrace(text);
    assert.deepEqual(back.events[0], { type: 'event', ts: 0, kind: 'exec', pid: 1, exe: '/bin/true', argv: ['true'], result: 0 });
    assert.equal(serializeTrace(back), text);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['garbage line', `${JSON.stringify(header)}\nnot json\n`, /\bline 2: not JSON/],
    ['event before header', '{"type":"event","ts":0,"kind":"exec","pid":1}\n', /\bline 1: event before the header/],
    ['unknown kind', `${JSON.stringify(header)}\n{"type":"event","ts":0,"kind":"fork","pid":1}\n`, /\bline 2: unknown event kind "fork"/],
    ['newer major version', JSON.stringify({ ...header, version: '2.0' }) + '\n', /\bline 1: unsupported trace format version 2\.0/],
    ['record after footer', serializeTrace(trace([])) + '{"type":"event","ts":0,"kind":"exec","pid":1}\n', /\bline 3: record after the footer/],
    ['argv not strings', `${JSON.stringify(header)}\n\n{"type":"event","ts":0,"kind":"exec","pid":1,"argv":[1]}\n`, /\bline 3: argv/],
  ];
  for (const [name, text, re] of bad) it(`rejects ${name}, naming the line`, () => assert.throws(() => parseTrace(text), re));

  it('accepts a trace cut before its footer and says the footer was rebuilt', () => {
    const t = parseTrace(`${JSON.stringify(header)}\n{"type":"event","ts":0,"kind":"exec","pid":1}\n`);
    assert.equal(t.footer.counts.exec, 1);
    assert.equal(t.footer.lost.incomplete, -1);
  });
});

describe('linux decoding', () => {
  const flags: Array<[number, string[]]> = [
    [0, ['read']], [0o1, ['write']], [0o2, ['read', 'write']], [0o1101, ['write', 'create', 'truncate']],
    [0o2000 | 0o1, ['write', 'append']], [0o200000 | 0o2000000, ['read', 'directory']], [0o10000000, ['path']],
    [0o20200000 | 0o2, ['read', 'write', 'tmpfile']], [0o300 | 0o2, ['read', 'write', 'create', 'excl']],
  ];
  for (const [bits, want] of flags) it(`open flags 0o${bits.toString(8)} → ${want.join(',')}`, () => assert.deepEqual(decodeOpenFlags(bits), want));

  it('parses symbolic flags', () => assert.deepEqual(openFlagsFromNames('O_RDWR|O_CREAT|O_CLOEXEC'), ['read', 'write', 'create']));
  it('decodes wait status', () => {
    assert.deepEqual(decodeWaitStatus(3 << 8), { status: 3 });
    assert.deepEqual(decodeWaitStatus(15), { status: 143, signal: 'SIGTERM' });
    assert.deepEqual(decodeWaitStatus(0x80 | 11), { status: 139, signal: 'SIGSEGV' });
  });
  it('formats addresses from kernel words', () => {
    assert.equal(ipv4FromWord(0x0100007f), '127.0.0.1');
    assert.equal(ipv6FromWords([0, 0, 0, 0x01000000]), '::1');
    assert.equal(ipv6FromWords([0xb80d0120, 0, 0, 0x01000000]), '2001:db8::1');
    assert.equal(ipv6FromWords([0, 0, 0xffff0000, 0x0100007f]), '::ffff:127.0.0.1');
    assert.equal(ipv6FromWords([0x000080fe, 0, 0x0000ff02, 0x01000000]), 'fe80::2ff:0:0:1');
  });
});

describe('DNS questions', () => {
  it('decodes %r text and parses the question', () => {
    const bytes = decodeBpftraceBuffer('P\\xf2\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x03www\\x07example\\x03com\\x00\\x00\\x1c\\x00\\x01');
    assert.equal(bytes.length, 33);
    assert.deepEqual(parseDnsQuery(bytes), { name: 'www.example.com', qtype: 'AAAA', truncated: false });
  });
  it('reads TCP messages after their length prefix', () => {
    const udp = decodeBpftraceBuffer('\\x00\\x01\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x01a\\x00\\x00\\x01\\x00\\x01');
    const tcp = Uint8Array.from([0, udp.length, ...udp]);
    assert.deepEqual(parseDnsQuery(tcp, true), { name: 'a', qtype: 'A', truncated: false });
  });
  it('marks a question cut by the copy limit', () => {
    const bytes = decodeBpftraceBuffer('\\x00\\x01\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x05kuber');
    assert.deepEqual(parseDnsQuery(bytes), { name: 'kuber', qtype: '', truncated: true });
  });
  it('ignores responses and short buffers', () => {
    assert.equal(parseDnsQuery(decodeBpftraceBuffer('\\x00\\x01\\x81\\x80\\x00\\x01\\x00\\x01\\x00\\x00\\x00\\x00\\x00')), undefined);
    assert.equal(parseDnsQuery(Uint8Array.from([1, 2, 3])), undefined);
  });
});
