// The one-screen summary `katabot trace` prints to stderr: counts by kind, top executables, destinations,
// failures and lost events. Built incrementally, so a long trace is never held in memory.
import { EVENT_KINDS, type TraceEvent, type TraceFooter, type TraceHeader } from './format.ts';

export interface TraceSummary {
  counts: Record<string, number>;
  topExecutables: Array<[string, number]>;
  destinations: Array<[string, number]>;
  dnsQueries: Array<[string, number]>;
  listening: string[];
  failedExecs: number;
  failedOpens: number;
  failedConnects: number;
  lost: number;
  truncated: number;
  durationMs: number;
  exitCode: number | null;
  pods: string[];
}

const TOP = 5;

function top(map: Map<string, number>, n = TOP): Array<[string, number]> {
  // count desc, then name: stable output for equal counts
  return [...map.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, n);
}

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function hostPort(addr: string | undefined, port: number | undefined): string {
  const a = addr ?? '?';
  return `${a.includes(':') ? `[${a}]` : a}:${port ?? '?'}`;
}

export class SummaryBuilder {
  readonly #exes = new Map<string, number>();
  readonly #dests = new Map<string, number>();
  readonly #dns = new Map<string, number>();
  readonly #listening = new Set<string>();
  readonly #pods = new Set<string>();
  #failedExecs = 0;
  #failedOpens = 0;
  #failedConnects = 0;

  add(e: TraceEvent): void {
    const n = e.count ?? 1;
    switch (e.kind) {
      case 'exec':
        if ((e.result ?? 0) < 0) this.#failedExecs += n;
        else bump(this.#exes, e.exe ?? e.comm ?? '?', n);
        break;
      case 'open':
        if ((e.result ?? 0) < 0) this.#failedOpens += n;
        break;
      case 'connect':
        bump(this.#dests, `${hostPort(e.daddr, e.dport)}/${e.proto ?? 'tcp'}`, n);
        if ((e.result ?? 0) < 0) this.#failedConnects += n;
        break;
      case 'dns':
        bump(this.#dns, e.qtype ? `${e.query ?? '?'} ${e.qtype}` : e.query ?? '?', n);
        break;
      case 'listen':
        this.#listening.add(`${hostPort(e.saddr, e.sport)}/${e.proto ?? 'tcp'}`);
        break;
      default:
        break;
    }
    if (e.pod) this.#pods.add(e.namespace ? `${e.namespace}/${e.pod}` : e.pod);
  }

  build(footer: TraceFooter): TraceSummary {
    return {
      counts: { ...footer.counts },
      topExecutables: top(this.#exes),
      destinations: top(this.#dests),
      dnsQueries: top(this.#dns),
      listening: [...this.#listening].sort().slice(0, TOP),
      failedExecs: this.#failedExecs,
      failedOpens: this.#failedOpens,
      failedConnects: this.#failedConnects,
      lost: footer.lost.total,
      truncated: footer.truncated,
      durationMs: footer.duration_ms,
      exitCode: footer.exit_code,
      pods: [...this.#pods].sort(),
    };
  }
}

export function summarize(events: Iterable<TraceEvent>, footer: TraceFooter): TraceSummary {
  const b = new SummaryBuilder();
  for (const e of events) b.add(e);
  return b.build(footer);
}

function list(items: Array<[string, number]>): string {
  return items.length === 0 ? '—' : items.map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(', ');
}

/** At most ~12 lines of `width` columns. */
export function renderSummary(s: TraceSummary, header?: Pick<TraceHeader, 'target'>, out?: string, width = 100): string {
  const clip = (line: string): string => (line.length > width ? line.slice(0, width - 1) + '…' : line);
  const total = Object.values(s.counts).reduce((a, b) => a + b, 0);
  const lines: string[] = [];
  const target = header?.target.argv ? header.target.argv.join(' ') : header?.target.pods?.map((p) => `${p.namespace}/${p.name}`).join(', ');
  lines.push(`katabot trace: ${total} events in ${(s.durationMs / 1000).toFixed(2)} s`
    + (s.exitCode !== null ? `, exit code ${s.exitCode}` : '') + (target ? ` — ${target}` : ''));
  lines.push('  ' + EVENT_KINDS.map((k) => `${k} ${s.counts[k] ?? 0}`).join('  '));
  lines.push(`  top executables: ${list(s.topExecutables)}`);
  lines.push(`  connections:     ${list(s.destinations)}`);
  lines.push(`  dns queries:     ${list(s.dnsQueries)}`);
  if (s.listening.length > 0) lines.push(`  listening:       ${s.listening.join(', ')}`);
  lines.push(`  failures:        exec ${s.failedExecs}, open ${s.failedOpens}, connect ${s.failedConnects}`);
  if (s.pods.length > 0) lines.push(`  pods:            ${s.pods.join(', ')}`);
  lines.push(`  lost events:     ${s.lost}${s.lost > 0 ? '  (the trace is incomplete)' : ''}` + (s.truncated > 0 ? `   truncated: ${s.truncated}` : ''));
  if (out) lines.push(`  trace:           ${out}`);
  return lines.map(clip).join('\n') + '\n';
}
