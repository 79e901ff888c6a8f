// Custom events as behaviour items, for the behavior diff: each package event is a category of its own
// (`<package>/<event>`), and an item is identified by the event's identity fields (package.yaml `identity`,
// carried in the trace header), not by its measurements (counts, latencies). Pure.
import type { CustomTraceEvent, TracePackageInfo } from './format.ts';

export interface CustomItem {
  /** `syscount/syscalls comm=cat`: what the diff compares. */
  key: string;
  /** `<package>/<event>`: the category. */
  category: string;
  package: string;
  name: string;
  identity: Record<string, string>;
  /** Events behind the item. */
  count: number;
}

const PROCESS_FIELDS = new Set(['pid', 'ppid', 'comm', 'exe', 'uid', 'cgroup', 'container', 'container_id', 'pod', 'namespace']);

/** Identity fields of every custom event of a trace, from its header (`packages[].events[].identity`). */
export function identityIndex(packages: readonly TracePackageInfo[] | undefined): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const p of packages ?? []) for (const e of p.events) if (e.kind === 'custom' && e.identity) index.set(`${p.name}/${e.name}`, e.identity);
  return index;
}

function valueText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The fields that identify an event: the declared ones, else its string fields and comm (never pid or ts). */
export function identityOf(e: CustomTraceEvent, identity: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const rec = e as unknown as Record<string, unknown>;
  if (identity) {
    for (const f of identity) {
      const v = Object.hasOwn(e.fields, f) ? e.fields[f] : PROCESS_FIELDS.has(f) ? rec[f] : undefined;
      if (v !== undefined) out[f] = valueText(v);
    }
    return out;
  }
  if (e.comm !== undefined) out['comm'] = e.comm;
  for (const [k, v] of Object.entries(e.fields)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function customItemKey(category: string, identity: Record<string, string>): string {
  const parts = Object.entries(identity).map(([k, v]) => `${k}=${v}`);
  return parts.length > 0 ? `${category} ${parts.join(' ')}` : category;
}

/** Custom events folded into items, sorted by key. */
export function customItems(events: Iterable<CustomTraceEvent>, packages?: readonly TracePackageInfo[]): CustomItem[] {
  const index = identityIndex(packages);
  const items = new Map<string, CustomItem>();
  for (const e of events) {
    const category = `${e.package}/${e.name}`;
    const identity = identityOf(e, index.get(category));
    const key = customItemKey(category, identity);
    const it = items.get(key);
    if (it) it.count++;
    else items.set(key, { key, category, package: e.package, name: e.name, identity, count: 1 });
  }
  return [...items.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
