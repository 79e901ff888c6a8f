// Mermaid graphs of a behavior diff, as GitHub renders them in comments: the changed part of the process tree and
// the network topology, added in green and removed in red (dotted), with grey context edges up the tree.
import type { BehaviorDiff, DiffEntry } from '../trace/diff.ts';
import { ROOT_PARENT, type NetworkItem, type ProcessItem } from '../trace/profile.ts';
import { COLORS, mermaidText } from './mermaid.ts';


type Status = 'added' | 'removed' | 'context';

class Graph {
  readonly #ids = new Map<string, string>();
  readonly #nodeClass = new Map<string, 'added' | 'removed'>();
  readonly #edges: Array<{ from: string; to: string; label: string; status: Status }> = [];
  readonly #edgeKeys = new Set<string>();
  readonly #shapes = new Map<string, string>();

  id(label: string, shape: 'box' | 'round' | 'stadium' = 'box'): string {
    let id = this.#ids.get(label);
    if (!id) {
      id = `n${this.#ids.size}`;
      this.#ids.set(label, id);
      const t = mermaidText(label);
      this.#shapes.set(id, shape === 'round' ? `${id}("${t}")` : shape === 'stadium' ? `${id}(["${t}"])` : `${id}["${t}"]`);
    }
    return id;
  }

  mark(label: string, cls: 'added' | 'removed'): void {
    this.#nodeClass.set(this.id(label), cls);
  }

  edge(from: string, to: string, label: string, status: Status): boolean {
    const k = `${from}\0${to}\0${label}\0${status}`;
    if (this.#edgeKeys.has(k)) return false;
    this.#edgeKeys.add(k);
    this.#edges.push({ from, to, label, status });
    return true;
  }

  get edgeCount(): number {
    return this.#edges.length;
  }

  render(direction: 'LR' | 'TD' = 'LR'): string {
    const lines = [`flowchart ${direction}`];
    for (const s of this.#shapes.values()) lines.push(`  ${s}`);
    for (const e of this.#edges) {
      const arrow = e.status === 'removed' || e.status === 'context' ? '-.->' : '-->';
      lines.push(e.label ? `  ${e.from} ${arrow}|"${mermaidText(e.label, 40)}"| ${e.to}` : `  ${e.from} ${arrow} ${e.to}`);
    }
    lines.push(`  classDef added fill:${COLORS.addedFill},stroke:${COLORS.added},color:${COLORS.added}`);
    lines.push(`  classDef removed fill:${COLORS.removedFill},stroke:${COLORS.removed},color:${COLORS.removed}`);
    for (const cls of ['added', 'removed'] as const) {
      const ids = [...this.#nodeClass].filter(([, c]) => c === cls).map(([id]) => id);
      if (ids.length > 0) lines.push(`  class ${ids.join(',')} ${cls}`);
    }
    for (const status of ['added', 'removed', 'context'] as const) {
      const idx = this.#edges.map((e, i) => (e.status === status ? i : -1)).filter((i) => i >= 0);
      if (idx.length === 0) continue;
      const color = COLORS[status];
      lines.push(`  linkStyle ${idx.join(',')} stroke:${color},stroke-width:${status === 'context' ? 1 : 2}px`);
    }
    return lines.join('\n');
  }
}

function scopedLabel(scope: string | undefined, name: string): string {
  return scope ? `${scope}: ${name}` : name;
}

/**
 * The changed part of the process tree: changed parent → exe edges, and up to `contextDepth` unchanged ancestors
 * of each changed parent for orientation. Undefined when no process changed.
 */
export function processMermaid(d: BehaviorDiff, maxEdges = 40, contextDepth = 2): string | undefined {
  const changed: Array<[DiffEntry<ProcessItem>, 'added' | 'removed']> = [
    ...d.processes.added.map((e) => [e, 'added'] as [DiffEntry<ProcessItem>, 'added']),
    ...d.processes.removed.map((e) => [e, 'removed'] as [DiffEntry<ProcessItem>, 'removed']),
  ];
  if (changed.length === 0) return undefined;
  const headExes = new Set<string>();
  const baseExes = new Set<string>();
  const parents = new Map<string, string>();
  for (const p of d.head.processes) { headExes.add(scopedLabel(p.scope, p.exe)); headExes.add(scopedLabel(p.scope, p.parent)); }
  for (const b of d.bases) for (const p of b.processes) { baseExes.add(scopedLabel(p.scope, p.exe)); baseExes.add(scopedLabel(p.scope, p.parent)); }
  // one unchanged parent per exe (the first by key), for context edges
  for (const p of [...d.head.processes].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    const child = scopedLabel(p.scope, p.exe);
    const parent = scopedLabel(p.scope, p.parent);
    if (!parents.has(child) && child !== parent) parents.set(child, parent);
  }
  const g = new Graph();
  let shown = 0;
  for (const [e, status] of changed) {
    if (g.edgeCount >= maxEdges) break;
    const parent = scopedLabel(e.item.scope, e.item.parent);
    const exe = scopedLabel(e.item.scope, e.item.exe);
    const from = g.id(parent, e.item.parent === ROOT_PARENT ? 'stadium' : 'box');
    const to = g.id(exe);
    if (g.edge(from, to, e.item.args, status)) shown++;
    if (status === 'added' && !baseExes.has(exe)) g.mark(exe, 'added');
    if (status === 'removed' && !headExes.has(exe)) g.mark(exe, 'removed');
    let child = parent;
    for (let depth = 0; depth < contextDepth && g.edgeCount < maxEdges; depth++) {
      const up = parents.get(child);
      if (!up || up === child) break;
      g.edge(g.id(up, up.endsWith(ROOT_PARENT) ? 'stadium' : 'box'), g.id(child), '', 'context');
      child = up;
    }
  }
  let out = g.render('LR');
  if (shown < changed.length) out += `\n  more["…and ${changed.length - shown} more changes"]`;
  return out;
}

function netEnds(it: NetworkItem): { from: string; to: string; label: string } {
  const self = it.scope ?? 'job';
  switch (it.direction) {
    case 'egress': return { from: self, to: it.peer, label: `${it.proto}/${it.port}` };
    case 'ingress': return { from: it.peer, to: self, label: `${it.proto}/${it.port}` };
    case 'listen': return { from: self, to: `listen ${it.peer}:${it.port}`, label: it.proto };
    case 'dns': return { from: self, to: it.peer, label: 'dns' };
  }
}

/** The changed network topology: workload (or `job`) → destination edges labelled proto/port. */
export function networkMermaid(d: BehaviorDiff, maxEdges = 40): string | undefined {
  const changed: Array<[NetworkItem, 'added' | 'removed']> = [
    ...d.network.added.map((e) => [e.item, 'added'] as [NetworkItem, 'added']),
    ...d.network.removed.map((e) => [e.item, 'removed'] as [NetworkItem, 'removed']),
  ];
  if (changed.length === 0) return undefined;
  const peersIn = (items: readonly NetworkItem[]): Set<string> => new Set(items.flatMap((i) => { const e = netEnds(i); return [e.from, e.to]; }));
  const headPeers = peersIn(d.head.network);
  const basePeers = peersIn(d.bases.flatMap((b) => b.network));
  const g = new Graph();
  let shown = 0;
  for (const [it, status] of changed) {
    if (g.edgeCount >= maxEdges) break;
    const { from, to, label } = netEnds(it);
    const fromId = g.id(from, 'round');
    const toId = g.id(to, 'round');
    if (g.edge(fromId, toId, label, status)) shown++;
    for (const end of [from, to]) {
      if (status === 'added' && !basePeers.has(end)) g.mark(end, 'added');
      if (status === 'removed' && !headPeers.has(end)) g.mark(end, 'removed');
    }
  }
  let out = g.render('LR');
  if (shown < changed.length) out += `\n  more["…and ${changed.length - shown} more changes"]`;
  return out;
}
