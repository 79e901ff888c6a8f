// The Kubernetes API part of the behavior comment: the OpenAPI operations a PR's job started and stopped calling,
// by level (APISnoop's stable / beta / alpha), with new alpha and beta operations called out (APIs that may change
// or go away); which spec named them; and audit events that could not be read. Pure: a diff in, markdown out.
// Operations are compared as sets: an operation is new when every call of it in head is an added item, and gone
// when a base run had it and head has no call of it at all; flaky items change nothing.
import { skipsText } from '../trace/audit-parse.ts';
import type { BehaviorDiff } from '../trace/diff.ts';
import type { ApiItem, ApiLevel } from '../trace/profile.ts';

interface OperationChange {
  operationId: string;
  level: ApiLevel | null;
  category: string;
  /** Calls behind it (head's for new operations, the base's for vanished ones). */
  count: number;
}

export interface ApiChanges {
  added: OperationChange[];
  removed: OperationChange[];
}

const LEVEL_ORDER: ReadonlyArray<ApiLevel | null> = ['stable', 'beta', 'alpha', null];

function byLevel(a: OperationChange, b: OperationChange): number {
  return LEVEL_ORDER.indexOf(a.level) - LEVEL_ORDER.indexOf(b.level) || (a.operationId < b.operationId ? -1 : a.operationId > b.operationId ? 1 : 0);
}

function collect(items: ReadonlyArray<{ item: ApiItem; count: number }>, keep: (op: string) => boolean): OperationChange[] {
  const ops = new Map<string, OperationChange>();
  for (const { item, count } of items) {
    const id = item.operationId;
    if (!id || !keep(id)) continue;
    const c = ops.get(id) ?? { operationId: id, level: item.level, category: item.category || item.group, count: 0 };
    c.count += count;
    ops.set(id, c);
  }
  return [...ops.values()].sort(byLevel);
}

/** New and vanished operations of the diff (discovery requests left out unless asked for). */
export function apiChanges(d: BehaviorDiff, showDiscovery = false): ApiChanges {
  const shown = (i: ApiItem) => showDiscovery || !i.discovery;
  const added = new Set(d.k8sApi.added.map((e) => e.item.key));
  const inHead = new Set(d.head.k8sApi.map((i) => i.operationId).filter((x): x is string => x !== null));
  // operations that head calls through an item that is not new
  const kept = new Set(d.head.k8sApi.filter((i) => !added.has(i.key) && i.operationId).map((i) => i.operationId!));
  return {
    added: collect(d.k8sApi.added.filter((e) => shown(e.item)), (op) => !kept.has(op)),
    removed: collect(d.k8sApi.removed.filter((e) => shown(e.item)), (op) => !inHead.has(op)),
  };
}

function code(s: string): string {
  return `<code>${s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '&#124;')}</code>`;
}

/** The lines under the comment's heading: new alpha/beta operations, skipped audit events. */
export function apiNotes(d: BehaviorDiff, showDiscovery = false): string[] {
  const notes: string[] = [];
  const c = apiChanges(d, showDiscovery);
  for (const level of ['alpha', 'beta'] as const) {
    const ops = c.added.filter((o) => o.level === level);
    if (ops.length === 0) continue;
    notes.push(`> [!IMPORTANT]\n> **New ${level} Kubernetes API operation${ops.length === 1 ? '' : 's'}:** ${ops.map((o) => code(o.operationId)).join(', ')}. `
      + `${level === 'alpha' ? 'Alpha APIs are off by default and may change or be dropped in any release.' : 'Beta APIs may still change before they are stable.'}`);
  }
  const skipped = skipsText(d.head.auditSkipped);
  if (skipped) notes.push(`<sub>Head's audit log: ${skipped}.</sub>`);
  return notes;
}

function specLine(d: BehaviorDiff): string {
  const s = d.head.apiSpec;
  if (!s || s.source === 'none') return '_No OpenAPI spec for this run: calls are keyed by verb and resource. Capture the cluster\'s `/openapi/v2` beside the audit log, or set `KATABOT_OPENAPI` (docs/audit-logs.md)._';
  const version = s.version && s.version !== 'unversioned' ? `, ${s.version}` : '';
  return s.source === 'job' ? `<sub>Operations named with the job's own \`/openapi/v2\` (\`${s.name}\`${version}).</sub>` : `<sub>Operations named with \`KATABOT_OPENAPI\`${version}.</sub>`;
}

/** The collapsible section of operation changes; undefined when no operation changed and no call changed. */
export function apiSection(d: BehaviorDiff, o: { maxRows: number; moreNote: string; showDiscovery?: boolean }): string | undefined {
  const c = apiChanges(d, o.showDiscovery ?? false);
  const callsChanged = d.k8sApi.added.length + d.k8sApi.removed.length > 0;
  // without operation changes, the section only explains why calls have no operation names
  if (c.added.length + c.removed.length === 0 && !(callsChanged && (d.head.apiSpec?.source ?? 'none') === 'none')) return undefined;
  const rows: string[] = [];
  const entries: Array<[string, OperationChange]> = [...c.added.map((x) => ['+', x] as [string, OperationChange]), ...c.removed.map((x) => ['−', x] as [string, OperationChange])];
  if (entries.length > 0 && o.maxRows > 0) {
    rows.push('| | Level | Operation | Category | Calls |', '|---|---|---|---|---:|');
    for (const [sign, x] of entries.slice(0, o.maxRows)) rows.push(`| ${sign} | ${x.level ?? 'unknown'} | ${code(x.operationId)} | ${x.category} | ${x.count} |`);
    if (entries.length > o.maxRows) rows.push(`\n_…and ${entries.length - o.maxRows} more; ${o.moreNote}_`);
  } else if (entries.length > 0) {
    rows.push(`_${entries.length} operation changes; ${o.moreNote}_`);
  }
  const perLevel = (list: OperationChange[]) => LEVEL_ORDER.flatMap((l) => {
    const n = list.filter((x) => x.level === l).length;
    return n > 0 ? [`${n} ${l ?? 'unknown'}`] : [];
  }).join(', ');
  const summary = `+${c.added.length} −${c.removed.length}${c.added.length ? ` (new: ${perLevel(c.added)})` : ''}${c.removed.length ? ` (gone: ${perLevel(c.removed)})` : ''}`;
  return `<details><summary><b>Kubernetes API operations</b> · ${summary}</summary>\n\n${rows.join('\n')}\n\n${specLine(d)}\n\n</details>`;
}
