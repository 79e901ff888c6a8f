// The guest stream: what a tracer inside a Kata guest sends to the node collector over TCP, one JSON object a line
// (docs/tracing-kata-and-runc.md "Guest stream"), and the collector's clock probes back. Pure: parsing, the clock
// offset estimate, mapping guest time to the merged trace's time, and the wording of a guest's status.
import { eventProblem, type GuestSummary, type TraceEvent, type TraceFooter } from './format.ts';
import { isObject } from './json.ts';

export const GUEST_PROTOCOL = 1;

/** First line of a stream: who the guest is, and whether it can be traced. */
export interface GuestHello {
  type: 'hello';
  protocol: number;
  namespace: string;
  pod: string;
  uid: string;
  /** The guest kernel release and the tracer's bpftrace version. */
  kernel?: string;
  bpftrace?: string;
  /** traced: events follow; not traced: the tracer cannot run here, `reason` says why, and nothing follows. */
  status: 'traced' | 'not traced';
  reason?: string;
  /** Guest CLOCK_MONOTONIC (ns, decimal string) at the guest trace's start: its events' `ts` count from here. */
  start_ns?: string;
}

/** The probes are attached: how long the tracer took from its process start. */
interface GuestReady {
  type: 'ready';
  startup_ms: number;
}

/** No event with a `ts` below this one will follow on this stream (the guest's reorder window has passed it). */
interface GuestTick {
  type: 'tick';
  ts: number;
}

/** The tracer's own footprint, sent now and then: peak resident memory of the agent and bpftrace, KiB. */
interface GuestStats {
  type: 'stats';
  memory_kib: number;
  /** Events the tracer could not send (collector unreachable, buffer full). */
  dropped?: number;
}

/** Clock probe: the collector sends `host_ns`; the guest answers with the same id and its own `guest_ns`. */
interface ClockProbe {
  type: 'clock';
  id: number;
  host_ns: string;
  guest_ns?: string;
}

export type GuestMessage = GuestHello | GuestReady | GuestTick | GuestStats | ClockProbe | TraceEvent | TraceFooter;


const DECIMAL = /^[0-9]{1,20}$/;

/** Parses one line of a guest stream; a string is the reason it is not a valid message. */
export function parseGuestLine(line: string): GuestMessage | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  if (!isObject(v)) return 'not a JSON object';
  switch (v['type']) {
    case 'hello': {
      for (const k of ['namespace', 'pod', 'uid'] as const) if (typeof v[k] !== 'string') return `hello without ${k}`;
      if (v['status'] !== 'traced' && v['status'] !== 'not traced') return `hello with status ${JSON.stringify(v['status'])}`;
      if (v['status'] === 'traced' && !(typeof v['start_ns'] === 'string' && DECIMAL.test(v['start_ns']))) return 'hello of a traced guest without start_ns';
      if (typeof v['protocol'] !== 'number') return 'hello without protocol';
      if (v['protocol'] > GUEST_PROTOCOL) return `guest protocol ${v['protocol']} is newer than this collector's ${GUEST_PROTOCOL}`;
      return v as unknown as GuestHello;
    }
    case 'ready':
      return typeof v['startup_ms'] === 'number' ? (v as unknown as GuestReady) : 'ready without startup_ms';
    case 'tick':
      return typeof v['ts'] === 'number' && Number.isFinite(v['ts']) ? (v as unknown as GuestTick) : 'tick without a numeric ts';
    case 'stats':
      return typeof v['memory_kib'] === 'number' ? (v as unknown as GuestStats) : 'stats without memory_kib';
    case 'clock':
      if (typeof v['id'] !== 'number' || typeof v['host_ns'] !== 'string' || !DECIMAL.test(v['host_ns'])) return 'clock probe without id or host_ns';
      if (v['guest_ns'] !== undefined && !(typeof v['guest_ns'] === 'string' && DECIMAL.test(v['guest_ns']))) return 'clock probe with a bad guest_ns';
      return v as unknown as ClockProbe;
    case 'event': {
      const problem = eventProblem(v);
      return problem ?? (v as unknown as TraceEvent);
    }
    case 'footer':
      return isObject(v['lost']) && isObject(v['counts']) ? (v as unknown as TraceFooter) : 'footer without counts or lost';
    default:
      return `unknown message type ${JSON.stringify(v['type'])}`;
  }
}

/** One clock probe's round trip: host time sent, guest time read on arrival, host time of the answer. */
export interface ClockSample {
  hostSent: bigint;
  guest: bigint;
  hostReceived: bigint;
}

export interface ClockEstimate {
  /** guest CLOCK_MONOTONIC minus host CLOCK_MONOTONIC, ns. */
  offsetNs: bigint;
  /** round trip of the sample it came from: the offset is within ± rtt/2. */
  rttNs: bigint;
}

/**
 * The guest-minus-host clock offset from probe samples, as NTP does it: the guest read its clock somewhere in the
 * round trip, so the offset is guest − (sent + received)/2, within ± rtt/2. The sample with the shortest round
 * trip wins (queueing only ever lengthens it). Undefined until there is a sample.
 */
export function estimateClock(samples: readonly ClockSample[]): ClockEstimate | undefined {
  let best: ClockSample | undefined;
  for (const s of samples) {
    if (s.hostReceived < s.hostSent) continue;
    if (!best || s.hostReceived - s.hostSent < best.hostReceived - best.hostSent) best = s;
  }
  if (!best) return undefined;
  return { offsetNs: best.guest - (best.hostSent + best.hostReceived) / 2n, rttNs: best.hostReceived - best.hostSent };
}

/**
 * A guest event's `ts` (ns since the guest trace's start, guest clock) on the merged trace's time line (ns since the
 * merged trace's start, host clock).
 */
export function guestToMergedTs(ts: number, guestStartNs: bigint, offsetNs: bigint, mergedStartNs: bigint): number {
  return Number(guestStartNs + BigInt(Math.round(ts)) - offsetNs - mergedStartNs);
}

/** Facts a guest tracer checks before tracing; `detectUntraceable` turns them into a reason. */
export interface GuestFacts {
  /** /sys/kernel/btf/vmlinux exists: bpftrace needs the kernel's BTF for the struct casts of katabot's program. */
  btf: boolean;
  /** flags of /proc/cpuinfo: a TDX guest shows `tdx_guest`, an SEV-SNP guest `sev_snp`. */
  cpuFlags: readonly string[];
  /** guest devices of confidential VMs that are present (/dev/tdx_guest, /dev/sev-guest). */
  confidentialDevices: readonly string[];
}

const CONFIDENTIAL_CPU_FLAGS = ['tdx_guest', 'sev_snp', 'sev_es'] as const;

/** Why a guest cannot be traced, or undefined when it can (as far as these facts tell). A confidential guest is not
 * traced even when it could be: its memory is the tenant's, and its policy only admits containers it was told of. */
export function detectUntraceable(f: GuestFacts): string | undefined {
  if (f.confidentialDevices.length > 0 || f.cpuFlags.some((c) => (CONFIDENTIAL_CPU_FLAGS as readonly string[]).includes(c))) return 'confidential';
  if (!f.btf) return 'no BTF';
  return undefined;
}

/** `guest: traced`, `guest: not traced (confidential)`: how a behaviour report says it. */
export function guestStatusText(g: Pick<GuestSummary, 'status' | 'reason' | 'complete'>): string {
  if (g.status === 'traced') return g.complete === false ? 'guest: traced (stream cut short)' : 'guest: traced';
  return `guest: not traced (${g.reason ?? 'unknown reason'})`;
}
