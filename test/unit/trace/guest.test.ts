// The guest stream protocol (src/trace/guest.ts): every message type parsed and rejected as a table, the clock
// offset estimate, guest time on the merged time line, the untraceable-guest reasons and their wording.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  detectUntraceable, estimateClock, guestStatusText, guestToMergedTs, parseGuestLine, type ClockSample, type GuestFacts,
} from '../../../src/trace/guest.ts';

describe('parseGuestLine', () => {
  const hello = { type: 'hello', protocol: 1, namespace: 'ns', pod: 'p', uid: 'u', status: 'traced', start_ns: '123' };
  const cases: Array<{ name: string; line: string; want: string | { type: string } }> = [
    { name: 'a traced hello', line: JSON.stringify(hello), want: { type: 'hello' } },
    { name: 'a hello of a guest that cannot be traced needs no start', line: JSON.stringify({ ...hello, status: 'not traced', reason: 'no BTF', start_ns: undefined }), want: { type: 'hello' } },
    { name: 'a traced hello without start_ns', line: JSON.stringify({ ...hello, start_ns: undefined }), want: 'hello of a traced guest without start_ns' },
    { name: 'a hello with a non-decimal start', line: JSON.stringify({ ...hello, start_ns: '12e3' }), want: 'hello of a traced guest without start_ns' },
    { name: 'a hello without the pod', line: JSON.stringify({ ...hello, pod: undefined }), want: 'hello without pod' },
    { name: 'a hello with an unknown status', line: JSON.stringify({ ...hello, status: 'maybe' }), want: 'hello with status "maybe"' },
    { name: 'a hello of a newer protocol', line: JSON.stringify({ ...hello, protocol: 2 }), want: "guest protocol 2 is newer than this collector's 1" },
    { name: 'ready', line: '{"type":"ready","startup_ms":812}', want: { type: 'ready' } },
    { name: 'ready without its time', line: '{"type":"ready"}', want: 'ready without startup_ms' },
    { name: 'a tick', line: '{"type":"tick","ts":5000}', want: { type: 'tick' } },
    { name: 'a tick without ts', line: '{"type":"tick","ts":"5"}', want: 'tick without a numeric ts' },
    { name: 'stats', line: '{"type":"stats","memory_kib":90000,"dropped":0}', want: { type: 'stats' } },
    { name: 'a clock answer', line: '{"type":"clock","id":3,"host_ns":"100","guest_ns":"250"}', want: { type: 'clock' } },
    { name: 'a clock answer with a bad guest time', line: '{"type":"clock","id":3,"host_ns":"100","guest_ns":"-4"}', want: 'clock probe with a bad guest_ns' },
    { name: 'an event', line: '{"type":"event","ts":10,"kind":"exec","pid":4,"argv":["sh"]}', want: { type: 'event' } },
    { name: 'an event of an unknown kind', line: '{"type":"event","ts":10,"kind":"fork","pid":4}', want: 'unknown event kind "fork"' },
    { name: 'an event claiming a third kernel', line: '{"type":"event","ts":10,"kind":"exec","pid":4,"kernel":"vm"}', want: 'kernel is "vm", not host or guest' },
    { name: 'a footer', line: '{"type":"footer","counts":{},"lost":{"total":0}}', want: { type: 'footer' } },
    { name: 'a footer without lost', line: '{"type":"footer","counts":{}}', want: 'footer without counts or lost' },
    { name: 'not JSON', line: '{"type":', want: 'not JSON' },
    { name: 'an array', line: '[1]', want: 'not a JSON object' },
    { name: 'an unknown type', line: '{"type":"header"}', want: 'unknown message type "header"' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = parseGuestLine(c.line);
      if (typeof c.want === 'string') {
        assert.equal(typeof got, 'string');
        assert.ok((got as string).startsWith(c.want), `${String(got)} should start with ${c.want}`);
      } else {
        assert.equal(typeof got, 'object', String(got));
        assert.equal((got as { type: string }).type, c.want.type);
      }
    });
  }
});

describe('estimateClock', () => {
  const s = (hostSent: number, guest: number, hostReceived: number): ClockSample => ({ hostSent: BigInt(hostSent), guest: BigInt(guest), hostReceived: BigInt(hostReceived) });
  const cases: Array<{ name: string; samples: ClockSample[]; want: { offsetNs: bigint; rttNs: bigint } | undefined }> = [
    { name: 'no sample: no estimate', samples: [], want: undefined },
    { name: 'a symmetric round trip: the guest read its clock half way', samples: [s(1000, 5500, 2000)], want: { offsetNs: 4000n, rttNs: 1000n } },
    { name: 'a guest clock behind the host: negative offset', samples: [s(10_000, 4_000, 10_200)], want: { offsetNs: -6100n, rttNs: 200n } },
    {
      name: 'the shortest round trip wins: queueing only adds delay',
      samples: [s(0, 9000, 4000), s(10_000, 14_100, 10_200), s(20_000, 26_000, 23_000)],
      want: { offsetNs: 4000n, rttNs: 200n },
    },
    { name: 'an answer received before it was sent is ignored', samples: [s(500, 100, 400)], want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(estimateClock(c.samples), c.want));
});

describe('guestToMergedTs', () => {
  const cases: Array<{ name: string; ts: number; guestStart: bigint; offset: bigint; mergedStart: bigint; want: number }> = [
    { name: 'clocks equal, same start', ts: 500, guestStart: 1000n, offset: 0n, mergedStart: 1000n, want: 500 },
    { name: 'guest booted later (its clock is behind): offset negative', ts: 100, guestStart: 5_000n, offset: -1_000_000n, mergedStart: 200_000n, want: 805_100 },
    { name: 'guest trace started after the merged trace', ts: 0, guestStart: 9_000_000n, offset: 4_000_000n, mergedStart: 1_000_000n, want: 4_000_000 },
    { name: 'an event from before the merged start comes out negative', ts: 0, guestStart: 1_000n, offset: 0n, mergedStart: 2_000n, want: -1_000 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(guestToMergedTs(c.ts, c.guestStart, c.offset, c.mergedStart), c.want));
});

describe('detectUntraceable and guestStatusText', () => {
  const ok: GuestFacts = { btf: true, cpuFlags: ['fpu', 'vme', 'hypervisor'], confidentialDevices: [] };
  const cases: Array<{ name: string; facts: GuestFacts; want: string | undefined; text: string }> = [
    { name: 'an ordinary guest with BTF', facts: ok, want: undefined, text: 'guest: traced' },
    { name: 'a guest kernel without BTF', facts: { ...ok, btf: false }, want: 'no BTF', text: 'guest: not traced (no BTF)' },
    { name: 'a TDX guest (cpu flag)', facts: { ...ok, cpuFlags: [...ok.cpuFlags, 'tdx_guest'] }, want: 'confidential', text: 'guest: not traced (confidential)' },
    { name: 'an SEV-SNP guest (device)', facts: { ...ok, confidentialDevices: ['/dev/sev-guest'] }, want: 'confidential', text: 'guest: not traced (confidential)' },
    { name: 'confidential wins over missing BTF', facts: { btf: false, cpuFlags: ['sev_snp'], confidentialDevices: [] }, want: 'confidential', text: 'guest: not traced (confidential)' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const reason = detectUntraceable(c.facts);
      assert.equal(reason, c.want);
      assert.equal(guestStatusText(reason ? { status: 'not traced', reason } : { status: 'traced' }), c.text);
    });
  }
  it('a traced guest whose stream was cut short says so', () => {
    assert.equal(guestStatusText({ status: 'traced', complete: false }), 'guest: traced (stream cut short)');
  });
});
