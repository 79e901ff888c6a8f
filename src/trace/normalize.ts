// Turns the bpftrace record stream into trace events.
// bpftrace reads one perf ring per CPU, so records of one exec can arrive out of order: an exec's return may be
// read before its entry when the thread moved CPUs. Records are therefore joined by thread id, and finished
// events pass through a short reorder window keyed by kernel time before they are emitted.
import type { BpftraceRecord } from './bpftrace-stream.ts';
import { dnsNaming, type Enricher, type EventFacts } from './enrich.ts';
import { emptyCounts, type KindCounts, type TraceEvent } from './format.ts';
import {
  AF_INET6, IPPROTO_TCP, TCP_STATE, decodeOpenFlags, decodeWaitStatus, errnoName, ipv4FromWord, ipv6FromWords,
} from './linux.ts';
import {
  parseProtocolRecord, type BeginRecord, type ExecEntryRecord, type ExecReturnRecord, type ProtocolRecord, type RecordTag,
} from './protocol.ts';
import { KernelRepeats } from './repeats.ts';

export interface NormalizerOptions {
  /** Kernel monotonic time (bpftrace `nsecs`) of the header's start. */
  startNs: bigint;
  /** BPFTRACE_STRLEN the program ran with: strings of strlen-1 bytes may have been cut. */
  strlen: number;
  emit: (event: TraceEvent) => void;
  /** Runs on every event as its record arrives (src/trace/enrich.ts); by default only DNS naming. */
  enrich?: Enricher;
  /** How long an event waits for older ones from other CPUs. */
  reorderWindowNs?: bigint;
  onAttached?: (probes: number) => void;
  onMarker?: (marker: number) => void;
  onBegin?: (record: BeginRecord) => void;
  onBpftraceError?: (message: string) => void;
  onMalformed?: (line: number, reason: string) => void;
}

export interface NormalizerStats {
  counts: KindCounts;
  lostReported: number;
  gap: number;
  incomplete: number;
  malformed: number;
  truncated: number;
  receivedByTag: Partial<Record<RecordTag, number>>;
  sentByTag: Partial<Record<RecordTag, number>> | undefined;
  /** Opens and connects the kernel counted instead of printing (written as events with `count`). */
  aggregated: number;
}

interface PendingExec {
  entry: ExecEntryRecord;
  event: TraceEvent;
}

interface Buffered {
  ts: bigint;
  seq: number;
  event: TraceEvent;
  /** Process image of an open or connect: its executable is looked up when it is emitted. */
  image?: string;
  /** Key id under which the kernel counts this event's repeats ('0': none). */
  key?: string;
}

const utf8 = new TextEncoder();

/** Keeps per-pid knowledge small: a long job can run millions of processes. */
const MAX_TRACKED_PIDS = 65536;

export class TraceNormalizer {
  readonly #opts: NormalizerOptions;
  readonly #window: bigint;
  readonly #buffer: Buffered[] = [];
  #seq = 0;
  #maxTs = 0n;
  readonly #argsByTid = new Map<number, { filename: string | undefined; args: string[]; gap: boolean }>();
  readonly #execByTid = new Map<number, PendingExec>();
  readonly #returnByTid = new Map<number, ExecReturnRecord>();
  readonly #connectBySock = new Map<string, TraceEvent>();
  readonly #sockByConnect = new WeakMap<TraceEvent, string>();
  readonly #exeByPid = new Map<number, string>();
  /** `pid/img` → executable: exact whatever order the records of a process arrive in. */
  readonly #exeByImage = new Map<string, string>();
  readonly #repeats = new KernelRepeats();
  readonly #counts = emptyCounts();
  readonly #received: Partial<Record<RecordTag, number>> = {};
  #sent: Partial<Record<RecordTag, number>> | undefined;
  #lostReported = 0;
  #incomplete = 0;
  #malformed = 0;
  #truncated = 0;

  readonly #enrich: Enricher;

  constructor(options: NormalizerOptions) {
    this.#opts = options;
    this.#window = options.reorderWindowNs ?? 1_000_000_000n;
    this.#enrich = options.enrich ?? dnsNaming;
  }

  /** Marks a pid's executable, e.g. for processes that were running before tracing began. */
  knowExecutable(pid: number, exe: string): void {
    this.#setExe(pid, exe);
  }

  push(record: BpftraceRecord): void {
    switch (record.type) {
      case 'printf': {
        const parsed = parseProtocolRecord(record.text);
        if (typeof parsed === 'string') {
          this.#malformed++;
          this.#opts.onMalformed?.(record.line, parsed);
          return;
        }
        this.#received[parsed.tag] = (this.#received[parsed.tag] ?? 0) + 1;
        this.#handle(parsed);
        return;
      }
      case 'lost_events':
        this.#lostReported += record.events;
        return;
      case 'attached_probes':
        this.#opts.onAttached?.(record.probes);
        return;
      case 'map': {
        if ('@rep' in record.maps && !this.#repeats.read(record.maps['@rep'])) {
          this.#malformed++;
          this.#opts.onMalformed?.(record.line, '@rep is not a map of "<id>,<class>" to counts');
        }
        const sent = record.maps['@sent'];
        if (sent && typeof sent === 'object') {
          this.#sent = {};
          for (const [tag, n] of Object.entries(sent as Record<string, unknown>)) {
            // keys are the tags' character codes (see src/bpf/builtin.ts)
            if (typeof n === 'number') this.#sent[String.fromCharCode(Number(tag)) as RecordTag] = n;
          }
        }
        return;
      }
      case 'error':
        this.#opts.onBpftraceError?.(record.message);
        return;
      case 'other':
        return;
    }
  }

  /** Emits everything still pending, in time order. Call once, after bpftrace exited. */
  finish(): NormalizerStats {
    for (const pending of this.#execByTid.values()) {
      this.#incomplete++;
      this.#insert(pending.entry.ts, pending.event);
    }
    this.#execByTid.clear();
    this.#drain(undefined);
    // the repeats the kernel counted, after everything else; those of a lost record are lost too
    const repeats = this.#repeats.events(Number(this.#maxTs - this.#opts.startNs));
    for (const e of repeats.events) this.#insert(this.#maxTs, e);
    this.#drain(undefined);
    let gap = repeats.orphans;
    if (this.#sent) {
      for (const [tag, n] of Object.entries(this.#sent)) gap += Math.max(0, n - (this.#received[tag as RecordTag] ?? 0));
    }
    return {
      counts: { ...this.#counts },
      lostReported: this.#lostReported,
      gap,
      incomplete: this.#incomplete,
      malformed: this.#malformed,
      truncated: this.#truncated,
      receivedByTag: { ...this.#received },
      sentByTag: this.#sent ? { ...this.#sent } : undefined,
      aggregated: repeats.counted,
    };
  }

  #handle(r: ProtocolRecord): void {
    if ('ts' in r && r.ts > this.#maxTs) this.#maxTs = r.ts;
    switch (r.tag) {
      case 'N':
        this.#argsByTid.set(r.tid, { filename: r.filename, args: [], gap: false });
        return;
      case 'A': {
        let acc = this.#argsByTid.get(r.tid);
        if (!acc) { acc = { filename: undefined, args: [], gap: true }; this.#argsByTid.set(r.tid, acc); }
        if (r.index !== acc.args.length) acc.gap = true;
        acc.args.push(r.arg);
        return;
      }
      case 'E': this.#execEntry(r); break;
      case 'R': this.#execReturn(r); break;
      case 'X': {
        const { status, signal } = decodeWaitStatus(r.code);
        const event = this.#base(r.ts, 'exit', r.pid, r.ppid, r.uid, r.cgid, r.comm);
        if (!event) break;
        event.result = status;
        if (signal) event.signal = signal;
        this.#insert(r.ts, event);
        break;
      }
      case 'O': {
        const event = this.#base(r.ts, 'open', r.pid, r.ppid, r.uid, r.cgid, r.comm);
        if (!event) break;
        event.path = r.path;
        event.flags = decodeOpenFlags(r.flags);
        event.result = r.ret;
        if (r.ret < 0) event.error = errnoName(r.ret);
        if (this.#mayBeCut(r.path)) event.truncated = true;
        this.#insert(r.ts, event, r.img, r.key);
        break;
      }
      case 'C': {
        const event = this.#base(r.ts, 'connect', r.pid, r.ppid, r.uid, r.cgid, r.comm);
        if (!event) break;
        event.proto = 'tcp';
        if (!isUnspecified(r.saddr)) event.saddr = r.saddr;
        event.daddr = r.daddr;
        event.dport = r.dport;
        this.#connectBySock.set(r.sk, event);
        this.#sockByConnect.set(event, r.sk);
        this.#insert(r.ts, event, r.img, r.key);
        break;
      }
      case 'S': {
        const event = this.#connectBySock.get(r.sk);
        if (!event) return;
        this.#connectBySock.delete(r.sk);
        if (r.newstate === TCP_STATE.ESTABLISHED) {
          event.result = 0;
          event.sport = r.sport;
        } else {
          event.result = -1; // reset or timed out: the state change does not say which errno connect() saw
        }
        break;
      }
      case 'L': {
        const event = this.#base(r.ts, 'listen', r.pid, r.ppid, r.uid, r.cgid, r.comm);
        if (!event) break;
        event.proto = 'tcp';
        event.saddr = r.saddr;
        event.sport = r.sport;
        this.#insert(r.ts, event);
        break;
      }
      case 'K': {
        const event = this.#base(r.ts, 'accept', r.pid, r.ppid, r.uid, r.cgid, r.comm);
        if (!event) break;
        event.proto = 'tcp';
        event.saddr = r.saddr;
        event.sport = r.sport;
        event.daddr = r.daddr;
        event.dport = r.dport;
        this.#insert(r.ts, event);
        break;
      }
      case 'D': {
        const tcp = r.proto === IPPROTO_TCP;
        const event = this.#base(r.ts, 'dns', r.pid, r.ppid, r.uid, r.cgid, r.comm, { payload: r.payload, len: r.len, tcp });
        if (!event) break; // not a query (e.g. a reply or another protocol on port 53)
        event.proto = tcp ? 'tcp' : 'udp';
        event.daddr = r.family === AF_INET6 ? ipv6FromWords([r.a0, r.a1, r.a2, r.a3]) : ipv4FromWord(r.a0);
        event.dport = r.dport;
        this.#insert(r.ts, event);
        break;
      }
      case 'F': {
        // A forked child runs its parent's executable until it execs.
        const exe = this.#exeByImage.get(`${r.pid}/${r.img}`) ?? this.#exeByPid.get(r.pid);
        if (exe !== undefined) {
          this.#setExe(r.child, exe);
          this.#setImageExe(r.child, r.img, exe);
        }
        break;
      }
      case 'M':
        this.#opts.onMarker?.(r.marker);
        break;
      case 'B':
        this.#opts.onBegin?.(r);
        break;
    }
    this.#drain(this.#maxTs - this.#window);
  }

  #execEntry(r: ExecEntryRecord): void {
    const acc = this.#argsByTid.get(r.tid);
    this.#argsByTid.delete(r.tid);
    const event = this.#base(r.ts, 'exec', r.pid, r.ppid, r.uid, r.cgid, r.comm);
    if (!event) return;
    const filename = acc?.filename;
    if (filename !== undefined) event.exe = filename;
    const parentExe = this.#exeByPid.get(r.ppid);
    if (parentExe !== undefined) event.parent_exe = parentExe;
    event.argv = acc?.args ?? [];
    const long = (s: string): boolean => this.#mayBeCut(s);
    // argc counts one more than copied when argv was longer than the limit. A lost N or A record leaves the exec
    // incomplete rather than cut, but it is equally untrustworthy.
    if (filename === undefined || long(filename) || event.argv.some(long) || acc?.gap === true || event.argv.length !== r.argc) {
      event.truncated = true;
    }
    const previous = this.#execByTid.get(r.tid);
    if (previous) {
      // The earlier exec's return was lost.
      this.#incomplete++;
      this.#insert(previous.entry.ts, previous.event);
    }
    const pending: PendingExec = { entry: r, event };
    const early = this.#returnByTid.get(r.tid);
    if (early && early.ts >= r.ts) {
      this.#returnByTid.delete(r.tid);
      this.#completeExec(pending, early);
    } else {
      this.#execByTid.set(r.tid, pending);
    }
  }

  #execReturn(r: ExecReturnRecord): void {
    let pending = this.#execByTid.get(r.tid);
    let key = r.tid;
    if (!pending && r.ret === 0) {
      // A successful exec from a non-leader thread returns on the leader's tid (== pid).
      for (const [tid, p] of this.#execByTid) {
        if (p.entry.pid === r.pid) { pending = p; key = tid; break; }
      }
    }
    if (pending && pending.entry.ts <= r.ts) {
      this.#execByTid.delete(key);
      this.#completeExec(pending, r);
    } else {
      this.#returnByTid.set(r.tid, r);
    }
  }

  #completeExec(pending: PendingExec, r: ExecReturnRecord): void {
    const { event, entry } = pending;
    event.result = r.ret;
    if (r.ret < 0) {
      event.error = errnoName(r.ret);
    } else {
      event.comm = r.comm;
      if (event.exe !== undefined) {
        this.#setExe(entry.pid, event.exe);
        this.#setImageExe(entry.pid, r.img, event.exe);
      }
    }
    this.#insert(entry.ts, event);
  }

  /** bpftrace's str() keeps strlen-1 bytes: a string that long may have been cut. */
  #mayBeCut(s: string): boolean {
    return s.length >= this.#opts.strlen - 1 || (s.length * 3 >= this.#opts.strlen - 1 && utf8.encode(s).length >= this.#opts.strlen - 1);
  }

  #setImageExe(pid: number, img: string, exe: string): void {
    const k = `${pid}/${img}`;
    this.#exeByImage.delete(k);
    this.#exeByImage.set(k, exe);
    if (this.#exeByImage.size > MAX_TRACKED_PIDS) {
      const oldest = this.#exeByImage.keys().next().value;
      if (oldest !== undefined) this.#exeByImage.delete(oldest);
    }
  }

  #setExe(pid: number, exe: string): void {
    this.#exeByPid.delete(pid);
    this.#exeByPid.set(pid, exe);
    if (this.#exeByPid.size > MAX_TRACKED_PIDS) {
      const oldest = this.#exeByPid.keys().next().value;
      if (oldest !== undefined) this.#exeByPid.delete(oldest);
    }
  }

  /** A new event, through the enrichers; undefined when one of them dropped it. */
  #base(
    ts: bigint, kind: TraceEvent['kind'], pid: number, ppid: number, uid: number, cgid: string, comm: string, dns?: EventFacts['dns'],
  ): TraceEvent | undefined {
    const event: TraceEvent = { type: 'event', ts: Number(ts - this.#opts.startNs), kind, pid, ppid, comm };
    if (kind !== 'exec') {
      const exe = this.#exeByPid.get(pid);
      if (exe !== undefined) event.exe = exe;
    }
    event.uid = uid;
    return this.#enrich(event, dns ? { cgid, dns } : { cgid }) === false ? undefined : event;
  }

  #insert(ts: bigint, event: TraceEvent, image?: string, key?: string): void {
    const item: Buffered = { ts, seq: this.#seq++, event };
    if (image !== undefined) item.image = image;
    if (key !== undefined && key !== '0') item.key = key;
    // Most events arrive nearly in order: search from the end.
    let i = this.#buffer.length;
    while (i > 0 && this.#buffer[i - 1]!.ts > ts) i--;
    this.#buffer.splice(i, 0, item);
  }

  /** Emits buffered events older than `upTo` (all when undefined). */
  #drain(upTo: bigint | undefined): void {
    let n = 0;
    while (n < this.#buffer.length && (upTo === undefined || this.#buffer[n]!.ts <= upTo)) n++;
    if (n === 0) return;
    for (const item of this.#buffer.splice(0, n)) {
      const e = item.event;
      const sk = this.#sockByConnect.get(e);
      // Emitted: a later state change must not modify a record that is already written.
      if (sk !== undefined && this.#connectBySock.get(sk) === e) this.#connectBySock.delete(sk);
      if (item.image !== undefined) {
        // by now the exec or fork that started this image has arrived, whichever CPU's ring it came through
        const exe = this.#exeByImage.get(`${e.pid}/${item.image}`);
        if (exe !== undefined) e.exe = exe;
      }
      if (item.key !== undefined) this.#repeats.remember(item.key, e);
      const n = e.count ?? 1;
      if (e.truncated) this.#truncated += n;
      this.#counts[e.kind] += n;
      this.#opts.emit(e);
    }
  }
}

function isUnspecified(addr: string): boolean {
  return addr === '0.0.0.0' || addr === '::' || addr === '';
}
