// katabot trace format (docs/trace-format.md): JSONL, one header, events, one footer.
// Records are written with a fixed key order so two traces of the same behaviour diff line by line.
import type { OpenFlag } from './linux.ts';
import { isObject } from './json.ts';

export const TRACE_FORMAT = 'katabot-trace';
/** Bump the major on any change that breaks readers; add a minor for new optional fields. */
export const TRACE_FORMAT_VERSION = '1.0';
/** Format 1.1 adds eBPF packages: `header.packages`, events of kind `custom`, and `footer.custom`. A trace that
 * uses none of them is still written as 1.0. */
export const TRACE_FORMAT_VERSION_PACKAGES = '1.1';
/** Format 1.2 adds Kata guests (docs/tracing-kata-and-runc.md): events say which kernel they came from (`kernel`) and
 * which Kata sandbox (`sandbox`); a node collector's merged trace (`target.mode` `node`) lists the guests it heard
 * from, or knew of and could not trace, in `footer.guests`. */
export const TRACE_FORMAT_VERSION_GUESTS = '1.2';

export const EVENT_KINDS = ['exec', 'exit', 'open', 'connect', 'accept', 'listen', 'dns'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export type TraceSource = 'bpftrace' | 'tetragon' | 'inspektor-gadget' | 'kubearmor';

export interface TraceTarget {
  /** command: `katabot trace -- CMD`; pod: a pod (sidecar or node agent); host: the whole machine or a cgroup
   * subtree but the tracer itself (`--host`, the katabot action); import: converted from another tracer;
   * node (1.2): a node collector, the host's pods and the Kata guests' streams merged. */
  mode: 'command' | 'pod' | 'host' | 'import' | 'node';
  argv?: string[];
  /** cgroup v2 path of the traced scope, when known. */
  cgroup?: string;
  /** `labels`: the pod's labels, when the tracer knew them (1.1; policies select pods by them). */
  pods?: Array<{ namespace: string; name: string; uid?: string; labels?: Record<string, string> }>;
  selector?: string;
  namespace?: string;
  /** kata: traced from inside the guest; runc: from the host kernel. */
  runtime?: 'kata' | 'runc';
  /** 1.2, node mode: the host cgroup subtrees traced (the kubepods tree, `/kata_overhead`). */
  cgroups?: string[];
}

export interface TraceHeader {
  type: 'header';
  format: typeof TRACE_FORMAT;
  version: string;
  katabot: string;
  source: TraceSource;
  /** `v0.17.0`; null when the trace was imported from another tracer. */
  bpftrace: string | null;
  kernel: string | null;
  host: string | null;
  /** ISO 8601 wall-clock start; event `ts` counts nanoseconds from here. */
  start: string;
  target: TraceTarget;
  /** Limits that can truncate strings: argv and paths longer than these are marked `truncated: true`. */
  limits?: { strlen: number; max_args: number };
  /** 1.1: the eBPF packages that produced the events (docs/bpf-packages.md). */
  packages?: TracePackageInfo[];
}

/** 1.1: one package of a trace and the events it declares. */
export interface TracePackageInfo {
  name: string;
  version: string;
  /** builtin, repo (.katabot/probes), cluster (a ConfigMap), file (a path) */
  origin: 'builtin' | 'repo' | 'cluster' | 'file';
  /** sha256 of the program text (not for built-in packages, whose program is generated). */
  sha256?: string;
  events: Array<{ name: string; kind: EventKind | 'custom'; identity?: string[] }>;
}

export const CUSTOM_EVENT_KIND = 'custom';

/** A JSON value a custom event field can hold (numbers, strings, and maps' histograms and stats). */
export type CustomFieldValue = string | number | boolean | null | CustomFieldValue[] | { [key: string]: CustomFieldValue };

/**
 * 1.1: an event a package declared as custom. Its process fields sit where an event's do; everything else is in
 * `fields`. Parsers keep custom events apart from `Trace.events` (in `Trace.custom`), so code written for the seven
 * kinds never sees them.
 */
export interface CustomTraceEvent {
  type: 'event';
  ts: number;
  kind: typeof CUSTOM_EVENT_KIND;
  /** 0 when the event is not about one process (a map total). */
  pid: number;
  ppid?: number;
  comm?: string;
  exe?: string;
  uid?: number;
  cgroup?: string;
  container?: string;
  container_id?: string;
  pod?: string;
  namespace?: string;
  kernel?: EventKernel;
  sandbox?: string;
  /** The package's name. */
  package: string;
  /** The event's name in the package's metadata. */
  name: string;
  fields: Record<string, CustomFieldValue>;
}

export interface TraceEvent {
  type: 'event';
  /** Nanoseconds since the header's `start`. */
  ts: number;
  kind: EventKind;
  pid: number;
  ppid?: number;
  comm?: string;
  exe?: string;
  /** Executable of the parent, when the parent's exec was seen (or the source reports it). */
  parent_exe?: string;
  argv?: string[];
  uid?: number;
  cwd?: string;
  path?: string;
  flags?: OpenFlag[];
  /** Syscall result: 0/fd on success, -errno on failure; exit status for `exit`; 0/-1 for `connect`. */
  result?: number;
  /** errno name when `result` is an error, e.g. `ENOENT`. */
  error?: string;
  /** Terminating signal for `exit`, e.g. `SIGKILL`. */
  signal?: string;
  proto?: 'tcp' | 'udp';
  saddr?: string;
  sport?: number;
  daddr?: string;
  dport?: number;
  /** DNS question name and type (`A`, `AAAA`, ...). */
  query?: string;
  qtype?: string;
  cgroup?: string;
  /** Container name when the pod is known, otherwise the runtime's container id. */
  container?: string;
  container_id?: string;
  pod?: string;
  namespace?: string;
  /** 1.2: the kernel that saw the event: the node's (`host`) or a Kata guest's (`guest`). Absent in traces of one
   * kernel. Pids of different kernels are different processes. */
  kernel?: EventKernel;
  /** 1.2: the Kata sandbox id, for guest events and for the host side of a Kata pod (shim, VMM, virtiofsd). */
  sandbox?: string;
  /** Aggregated sources (KubeArmor summary) report how many times the record was seen. */
  count?: number;
  /** argv or path was cut by a string or argument limit. */
  truncated?: true;
}

type EventKernel = 'host' | 'guest';

/** 1.2: a Kata guest of a node collector's trace: traced (its tracer streamed to the collector), or known to the
 * collector (a Kata sandbox on the node, a pod the webhook left out) and not traced, with the reason. */
export interface GuestSummary {
  namespace: string;
  pod: string;
  uid?: string;
  sandbox?: string;
  runtime_class?: string;
  status: 'traced' | 'not traced';
  /** Why not: `confidential`, `no BTF`, `no tracer` (no stream came), or the tracer's own reason. */
  reason?: string;
  /** The guest's kernel release and bpftrace version. */
  kernel?: string;
  bpftrace?: string;
  /** Guest monotonic clock minus the host's, as the collector measured it, and the round trip of that measurement. */
  clock_offset_ns?: number;
  clock_rtt_ns?: number;
  /** From the tracer's process start to its probes being attached. */
  startup_ms?: number;
  /** Peak resident memory of the tracer (agent and bpftrace), KiB. */
  memory_kib?: number;
  events?: number;
  /** The guest tracer's own lost.total, plus events it could not send. */
  lost?: number;
  /** false when the stream ended without the guest's footer. */
  complete?: boolean;
}

export type KindCounts = Record<EventKind, number>;

export interface TraceFooter {
  type: 'footer';
  counts: KindCounts;
  lost: {
    /** Sum of bpftrace `lost_events` records (perf buffer overruns). */
    reported: number;
    /** Records the kernel side counted as sent minus records received (covers drops bpftrace did not report). */
    gap: number;
    /** Events begun but never completed (an exec whose return was lost). */
    incomplete: number;
    total: number;
  };
  /** Lines of the bpftrace stream that could not be parsed (imported traces: input lines the importer skipped). */
  malformed: number;
  truncated: number;
  duration_ms: number;
  end: string;
  /** Exit code of the traced command (command mode), else null. */
  exit_code: number | null;
  /** 1.1: custom events by `<package>/<name>`, what the packages' own bpftrace processes lost or garbled, and the
   * packages that did not start (`name@version: reason`; a traced job goes on without them). */
  custom?: { counts: Record<string, number>; lost: number; malformed: number; failed?: string[] };
  /** 1.2, node mode: the Kata guests of the node (their lost events are in `lost` too). */
  guests?: GuestSummary[];
}

export type TraceRecord = TraceHeader | TraceEvent | CustomTraceEvent | TraceFooter;

export interface Trace {
  header: TraceHeader;
  events: TraceEvent[];
  footer: TraceFooter;
  /** 1.1: custom events, in file order; absent when there are none. */
  custom?: CustomTraceEvent[];
}

export function emptyCounts(): KindCounts {
  return { exec: 0, exit: 0, open: 0, connect: 0, accept: 0, listen: 0, dns: 0 };
}

export function countKinds(events: Iterable<TraceEvent>): KindCounts {
  const counts = emptyCounts();
  for (const e of events) counts[e.kind] += e.count ?? 1;
  return counts;
}

const EVENT_KEY_ORDER = [
  'type', 'ts', 'kind', 'pid', 'ppid', 'comm', 'exe', 'parent_exe', 'argv', 'uid', 'cwd', 'path', 'flags', 'result',
  'error', 'signal', 'proto', 'saddr', 'sport', 'daddr', 'dport', 'query', 'qtype', 'cgroup', 'container',
  'container_id', 'pod', 'namespace', 'kernel', 'sandbox', 'count', 'truncated',
] as const satisfies ReadonlyArray<keyof TraceEvent>;

const CUSTOM_EVENT_KEY_ORDER = [
  'type', 'ts', 'kind', 'pid', 'ppid', 'comm', 'exe', 'uid', 'cgroup', 'container', 'container_id', 'pod', 'namespace',
  'kernel', 'sandbox', 'package', 'name', 'fields',
] as const satisfies ReadonlyArray<keyof CustomTraceEvent>;

const HEADER_KEY_ORDER = [
  'type', 'format', 'version', 'katabot', 'source', 'bpftrace', 'kernel', 'host', 'start', 'target', 'limits', 'packages',
] as const satisfies ReadonlyArray<keyof TraceHeader>;

const TARGET_KEY_ORDER = ['mode', 'argv', 'cgroup', 'pods', 'selector', 'namespace', 'runtime', 'cgroups'] as const;

const FOOTER_KEY_ORDER = [
  'type', 'counts', 'lost', 'malformed', 'truncated', 'duration_ms', 'end', 'exit_code', 'custom', 'guests',
] as const satisfies ReadonlyArray<keyof TraceFooter>;

const GUEST_KEY_ORDER = [
  'namespace', 'pod', 'uid', 'sandbox', 'runtime_class', 'status', 'reason', 'kernel', 'bpftrace', 'clock_offset_ns',
  'clock_rtt_ns', 'startup_ms', 'memory_kib', 'events', 'lost', 'complete',
] as const satisfies ReadonlyArray<keyof GuestSummary>;

function ordered<T extends object>(value: T, keys: readonly string[]): T {
  const out: Record<string, unknown> = {};
  const source = value as Record<string, unknown>;
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out as T;
}

/** Same event with keys in canonical order and undefined fields dropped. */
export function canonicalEvent(event: TraceEvent): TraceEvent {
  return ordered(event, EVENT_KEY_ORDER);
}

/** A custom event with keys in canonical order (its `fields` keep the order the package declared). */
export function canonicalCustomEvent(event: CustomTraceEvent): CustomTraceEvent {
  return ordered(event, CUSTOM_EVENT_KEY_ORDER);
}

function isCustomEvent(event: TraceEvent | CustomTraceEvent): event is CustomTraceEvent {
  return event.kind === CUSTOM_EVENT_KIND;
}

export function canonicalHeader(header: TraceHeader): TraceHeader {
  const h = ordered(header, HEADER_KEY_ORDER);
  h.target = ordered(header.target, TARGET_KEY_ORDER);
  return h;
}

export function canonicalFooter(footer: TraceFooter): TraceFooter {
  const f = ordered(footer, FOOTER_KEY_ORDER);
  f.counts = ordered(footer.counts, EVENT_KINDS);
  f.lost = ordered(footer.lost, ['reported', 'gap', 'incomplete', 'total']);
  if (footer.guests) f.guests = footer.guests.map((g) => ordered(g, GUEST_KEY_ORDER));
  return f;
}

/** One JSONL line (without the newline). */
export function serializeRecord(record: TraceRecord): string {
  switch (record.type) {
    case 'header': return JSON.stringify(canonicalHeader(record));
    case 'event': return JSON.stringify(isCustomEvent(record) ? canonicalCustomEvent(record) : canonicalEvent(record));
    case 'footer': return JSON.stringify(canonicalFooter(record));
  }
}

export function serializeTrace(trace: Trace): string {
  let events: Array<TraceEvent | CustomTraceEvent> = trace.events;
  if (trace.custom && trace.custom.length > 0) {
    // merged by ts; at equal ts the seven kinds come first (a stable order, so a round trip is byte-identical)
    events = [...trace.events, ...trace.custom].sort((a, b) => a.ts - b.ts || Number(isCustomEvent(a)) - Number(isCustomEvent(b)));
  }
  const lines = [serializeRecord(trace.header), ...events.map(serializeRecord), serializeRecord(trace.footer)];
  return lines.join('\n') + '\n';
}

/** A malformed input line; `line` is 1-based. */
export class TraceParseError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'TraceParseError';
    this.line = line;
  }
}


/** Checks one event object; returns a reason when it is not a valid event. */
export function eventProblem(value: Record<string, unknown>): string | undefined {
  if (typeof value['ts'] !== 'number' || !Number.isFinite(value['ts'])) return 'event without a numeric ts';
  if (!EVENT_KINDS.includes(value['kind'] as EventKind)) return `unknown event kind ${JSON.stringify(value['kind'])}`;
  if (typeof value['pid'] !== 'number') return 'event without a numeric pid';
  if (value['argv'] !== undefined && !(Array.isArray(value['argv']) && value['argv'].every((a) => typeof a === 'string'))) {
    return 'argv is not a list of strings';
  }
  if (value['kernel'] !== undefined && value['kernel'] !== 'host' && value['kernel'] !== 'guest') {
    return `kernel is ${JSON.stringify(value['kernel'])}, not host or guest`;
  }
  return undefined;
}

/** Checks a record of kind `custom` (format 1.1); returns a reason when it is not a valid custom event. */
export function customEventProblem(value: Record<string, unknown>): string | undefined {
  if (typeof value['ts'] !== 'number' || !Number.isFinite(value['ts'])) return 'event without a numeric ts';
  if (value['kind'] !== CUSTOM_EVENT_KIND) return `not a custom event (kind ${JSON.stringify(value['kind'])})`;
  if (typeof value['pid'] !== 'number') return 'event without a numeric pid';
  if (typeof value['package'] !== 'string' || value['package'] === '') return 'custom event without a package';
  if (typeof value['name'] !== 'string' || value['name'] === '') return 'custom event without a name';
  if (!isObject(value['fields'])) return 'custom event whose fields are not an object';
  return undefined;
}

/** True for a parsed JSON record that is a custom event (kind `custom`, format 1.1). Readers written for 1.0 check
 * this before eventProblem, which knows only the seven kinds. */
export function isCustomEventRecord(value: Record<string, unknown>): boolean {
  return value['type'] === 'event' && value['kind'] === CUSTOM_EVENT_KIND;
}

/** Parses a katabot trace (JSONL). Throws TraceParseError naming the first bad line. A trace without footer
 * (the tracer was killed) is accepted; its footer is rebuilt and `lost.incomplete` is set to -1 to say so. */
export function parseTrace(text: string): Trace {
  const lines = text.split('\n');
  let header: TraceHeader | undefined;
  let footer: TraceFooter | undefined;
  const events: TraceEvent[] = [];
  const custom: CustomTraceEvent[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    const lineNo = i + 1;
    if (raw === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new TraceParseError(lineNo, `not JSON: ${(err as Error).message}`);
    }
    if (!isObject(value)) throw new TraceParseError(lineNo, 'not a JSON object');
    if (footer) throw new TraceParseError(lineNo, 'record after the footer');
    switch (value['type']) {
      case 'header': {
        if (header) throw new TraceParseError(lineNo, 'second header');
        if (value['format'] !== TRACE_FORMAT) throw new TraceParseError(lineNo, `format is ${JSON.stringify(value['format'])}, expected ${TRACE_FORMAT}`);
        const version = String(value['version'] ?? '');
        if (version.split('.')[0] !== TRACE_FORMAT_VERSION.split('.')[0]) {
          throw new TraceParseError(lineNo, `unsupported trace format version ${version} (this katabot reads ${TRACE_FORMAT_VERSION.split('.')[0]}.x)`);
        }
        header = value as unknown as TraceHeader;
        break;
      }
      case 'event': {
        if (!header) throw new TraceParseError(lineNo, 'event before the header');
        if (isCustomEventRecord(value)) {
          const problem = customEventProblem(value);
          if (problem) throw new TraceParseError(lineNo, problem);
          custom.push(value as unknown as CustomTraceEvent);
          break;
        }
        const problem = eventProblem(value);
        if (problem) throw new TraceParseError(lineNo, problem);
        events.push(value as unknown as TraceEvent);
        break;
      }
      case 'footer':
        if (!header) throw new TraceParseError(lineNo, 'footer before the header');
        footer = value as unknown as TraceFooter;
        break;
      default:
        throw new TraceParseError(lineNo, `unknown record type ${JSON.stringify(value['type'])}`);
    }
  }
  if (!header) throw new TraceParseError(1, 'no header');
  footer ??= {
    type: 'footer',
    counts: countKinds(events),
    lost: { reported: 0, gap: 0, incomplete: -1, total: 0 },
    malformed: 0,
    truncated: events.filter((e) => e.truncated).length,
    duration_ms: 0,
    end: header.start,
    exit_code: null,
  };
  return custom.length > 0 ? { header, events, footer, custom } : { header, events, footer };
}
