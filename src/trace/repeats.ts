// Repeats the kernel counted instead of printing them (src/bpf/builtin.ts, "In-kernel aggregation"): the record
// that named a key id is remembered as a template; the counts END prints in @rep become events copied from it, each
// with its `count`. They are written at the end of the trace, with pid 0 and no ppid as aggregated records have
// them: they stand for any process of the template's executable, at many moments, and must not move a reader's
// per-pid state. Pure.
import type { TraceEvent } from './format.ts';
import { errnoName } from './linux.ts';
import { CONNECT_KEY_BIT } from './protocol.ts';

/** What END's counts add to the trace. */
export interface RepeatEvents {
  events: TraceEvent[];
  /** Repeats counted in the kernel. */
  counted: number;
  /** Of those, repeats whose key's record was lost: they cannot be written and count as lost events. */
  orphans: number;
}

function isConnectKey(id: string): boolean {
  return (BigInt(id) & CONNECT_KEY_BIT) !== 0n;
}

/** A copy of `template` standing for `count` more of it, by any process of its executable. */
function copy(template: TraceEvent, ts: number, count: number): TraceEvent {
  const e: TraceEvent = { ...template, ts, pid: 0, count };
  delete e.ppid;
  delete e.error;
  delete e.result;
  return e;
}

export class KernelRepeats {
  readonly #templates = new Map<string, TraceEvent>();
  /** key id → class → count: opens by result (0 or -errno), connects 0 all, 1 established, 2 refused. */
  readonly #counts = new Map<string, Map<number, number>>();

  /** The event of the record that named key `id` (its later occurrences are counted, not printed). */
  remember(id: string, event: TraceEvent): void {
    if (!this.#templates.has(id)) this.#templates.set(id, event);
  }

  /** Reads @rep as bpftrace prints it at exit: `{"<id>,<class>": count}`. Returns false when it is not that. */
  read(rep: unknown): boolean {
    if (typeof rep !== 'object' || rep === null || Array.isArray(rep)) return false;
    for (const [k, n] of Object.entries(rep as Record<string, unknown>)) {
      const m = /^(\d+),(-?\d+)$/.exec(k);
      if (!m || typeof n !== 'number') return false;
      let classes = this.#counts.get(m[1]!);
      if (!classes) { classes = new Map(); this.#counts.set(m[1]!, classes); }
      classes.set(Number(m[2]), (classes.get(Number(m[2])) ?? 0) + n);
    }
    return true;
  }

  /** The counted repeats as events at `ts` (the end of the trace). */
  events(ts: number): RepeatEvents {
    const out: RepeatEvents = { events: [], counted: 0, orphans: 0 };
    for (const [id, classes] of this.#counts) {
      const template = this.#templates.get(id);
      if (isConnectKey(id)) {
        const all = classes.get(0) ?? 0;
        out.counted += all;
        if (!template) { out.orphans += all; continue; }
        const established = classes.get(1) ?? 0;
        const refused = classes.get(2) ?? 0;
        for (const [n, result] of [[established, 0], [refused, -1], [all - established - refused, undefined]] as const) {
          if (n <= 0) continue;
          const e = copy(template, ts, n);
          delete e.sport; // each connection had its own
          if (result !== undefined) e.result = result;
          out.events.push(e);
        }
        continue;
      }
      for (const [result, n] of [...classes].sort((a, b) => b[0] - a[0])) {
        out.counted += n;
        if (!template) { out.orphans += n; continue; }
        const e = copy(template, ts, n);
        e.result = result;
        if (result < 0) e.error = errnoName(result);
        out.events.push(e);
      }
    }
    return out;
  }
}
