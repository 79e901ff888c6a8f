// The API sunburst, APISnoop's picture of API usage (level → category → operation; its apps/web Sunburst), laid
// out here once for both the dashboard (web/) and the self-contained HTML report (src/render/behavior-html.ts):
// the hierarchy, a partition layout in fractions of the circle, the arcs of a zoomed view, colours that read in
// light and dark, and keyboard navigation. Dependency-free and pure: the browser bundle imports it, and the report
// embeds the view functions' own source text (sunburstScript), so both draw the same arcs.

export interface SunburstNode {
  name: string;
  /** Leaf status: added / removed / flaky / same (behavior diff), or conformance / tested / hit / untested (usage). */
  status?: string;
  value?: number;
  children?: SunburstNode[];
}

export interface SunburstLeaf {
  level: string | null;
  category: string;
  name: string;
  status: string;
}

/** Level order, as APISnoop sorts them; operations without a spec go last. */
const SUNBURST_LEVELS: readonly string[] = ['stable', 'beta', 'alpha', 'unknown'];

/** Statuses in legend order, with their labels; a leaf's status sorts it within its category. */
export const STATUS_LABELS: Readonly<Record<string, string>> = {
  conformance: 'hit by a conformance test',
  tested: 'hit by an e2e test',
  hit: 'hit, not by a test',
  untested: 'not hit',
  added: 'added',
  removed: 'removed',
  flaky: 'flaky',
  same: 'unchanged',
};

const STATUS_ORDER = Object.keys(STATUS_LABELS);

/** Builds the hierarchy: root → level (stable, beta, alpha, unknown) → category → operation. */
export function sunburstTree(leaves: readonly SunburstLeaf[], rootName = 'API'): SunburstNode {
  const byLevel = new Map<string, Map<string, SunburstNode[]>>();
  for (const l of leaves) {
    const level = l.level ?? 'unknown';
    const cats = byLevel.get(level) ?? new Map<string, SunburstNode[]>();
    byLevel.set(level, cats);
    const cat = l.category || 'other';
    const list = cats.get(cat) ?? [];
    cats.set(cat, list);
    list.push({ name: l.name, status: l.status, value: 1 });
  }
  const rank = (s: string | undefined) => (s === undefined ? 99 : STATUS_ORDER.indexOf(s) < 0 ? 98 : STATUS_ORDER.indexOf(s));
  const root: SunburstNode = { name: rootName, children: [] };
  for (const level of [...SUNBURST_LEVELS, ...[...byLevel.keys()].filter((l) => !SUNBURST_LEVELS.includes(l)).sort()]) {
    const cats = byLevel.get(level);
    if (!cats) continue;
    const ln: SunburstNode = { name: level, children: [] };
    for (const cat of [...cats.keys()].sort()) {
      const kids = cats.get(cat)!.sort((a, b) => rank(a.status) - rank(b.status) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      ln.children!.push({ name: cat, children: kids });
    }
    root.children!.push(ln);
  }
  return root;
}

/** One node of the partition: x0..x1 is its share of the full circle (0..1), depth its ring (0 = root). */
export interface Arc {
  name: string;
  depth: number;
  x0: number;
  x1: number;
  /** Leaves under it (1 for a leaf). */
  value: number;
  /** Index of the parent in the partition; -1 for the root. */
  parent: number;
  children: number[];
  status?: string;
  /** The level (depth 1) and category (depth 2) above it, for colours and labels. */
  level: string;
  category: string;
  /** The category's place among the chart's categories (by first appearance), -1 above them: its colour. */
  categoryIndex: number;
}

/** d3.partition's layout, by leaf count: the root first, then depth-first in the tree's order. */
export function partition(root: SunburstNode): Arc[] {
  const arcs: Arc[] = [];
  const count = (n: SunburstNode): number => (n.children && n.children.length > 0 ? n.children.reduce((s, c) => s + count(c), 0) : n.value ?? 1);
  const total = count(root) || 1;
  const categories: string[] = [];
  const visit = (n: SunburstNode, depth: number, x0: number, parent: number, level: string, category: string): number => {
    const value = count(n);
    const i = arcs.length;
    if (depth >= 2 && !categories.includes(category)) categories.push(category);
    const categoryIndex = depth >= 2 ? categories.indexOf(category) : -1;
    const arc: Arc = { name: n.name, depth, x0, x1: x0 + value / total, value, parent, children: [], level, category, categoryIndex };
    if (n.status !== undefined) arc.status = n.status;
    arcs.push(arc);
    let x = x0;
    for (const c of n.children ?? []) {
      const lv = depth === 0 ? c.name : level;
      const cat = depth === 1 ? c.name : category;
      const ci = visit(c, depth + 1, x, i, lv, cat);
      arc.children.push(ci);
      x = arcs[ci]!.x1;
    }
    return i;
  };
  visit(root, 0, 0, -1, '', '');
  return arcs;
}

/** The arcs shown when zoomed on `focus`: its descendants in the next `rings` rings. */
export function viewArcs(arcs: readonly Arc[], focus: number, rings = 3): number[] {
  const out: number[] = [];
  const f = arcs[focus];
  if (!f) return out;
  const walk = (i: number) => {
    for (const c of arcs[i]!.children) {
      if (arcs[c]!.depth - f.depth > rings) continue;
      out.push(c);
      walk(c);
    }
  };
  walk(focus);
  return out;
}

/** The SVG path of arc `i` in the view zoomed on `focus`, in a square of `size`, `rings` rings around a centre. */
export function arcPath(arcs: readonly Arc[], i: number, focus: number, size: number, rings = 3): string {
  const a = arcs[i]!;
  const f = arcs[focus]!;
  const span = f.x1 - f.x0 || 1;
  const c = size / 2;
  const ring = (size / 2 - 2) / (rings + 1);
  const d = a.depth - f.depth;
  const r0 = ring * d;
  const r1 = ring * (d + 1) - 1;
  let t0 = ((a.x0 - f.x0) / span) * 2 * Math.PI;
  let t1 = ((a.x1 - f.x0) / span) * 2 * Math.PI;
  // a full ring cannot be one SVG arc: stop just short of closing it
  if (t1 - t0 >= 2 * Math.PI - 1e-9) t1 = t0 + 2 * Math.PI - 1e-4;
  // a hairline gap between neighbours, never wider than a third of the arc
  const pad = Math.min(0.002, (t1 - t0) / 3);
  t0 += pad;
  t1 -= pad;
  const pt = (t: number, r: number) => `${(c + r * Math.sin(t)).toFixed(2)},${(c - r * Math.cos(t)).toFixed(2)}`;
  const large = t1 - t0 > Math.PI ? 1 : 0;
  return `M${pt(t0, r1)}A${r1},${r1} 0 ${large} 1 ${pt(t1, r1)}L${pt(t1, r0)}A${r0},${r0} 0 ${large} 0 ${pt(t0, r0)}Z`;
}

/** APISnoop's level colours (apps/web/src/lib/colours.js). */
const LEVEL_COLOURS: Readonly<Record<string, string>> = {
  stable: 'rgb(60,180,75)', beta: 'rgb(0,130,200)', alpha: 'rgb(230,25,75)', unknown: 'rgb(140,149,159)',
};
/** Category colours, assigned in order of first appearance. */
const CATEGORY_PALETTE: readonly string[] = [
  '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#9a6324', '#469990', '#800000', '#808000', '#000075', '#e6194b', '#3cb44b', '#bfef45', '#fabed4',
];
/** Diff statuses keep fixed colours; `untested` follows the page (a CSS variable, light or dark). */
export const STATUS_FILLS: Readonly<Record<string, string>> = {
  added: '#2da44e', removed: '#e5534b', flaky: '#d4a72c', untested: 'var(--sb-untested, #d0d7de)',
};
/** How strongly a leaf shows its category's colour. */
const STATUS_OPACITY: Readonly<Record<string, number>> = { conformance: 1, tested: 0.6, hit: 0.3, same: 0.45 };

/** Fill and opacity of an arc: levels and categories by colour, leaves by status (APISnoop: tested fades). */
export function arcStyle(arcs: readonly Arc[], i: number): { fill: string; opacity: number } {
  const a = arcs[i]!;
  if (a.depth <= 1) return { fill: LEVEL_COLOURS[a.name] ?? LEVEL_COLOURS['unknown']!, opacity: 1 };
  // a category keeps its colour however the view is zoomed
  const catColour = CATEGORY_PALETTE[a.categoryIndex % CATEGORY_PALETTE.length] ?? '#888';
  if (a.depth === 2) return { fill: catColour, opacity: 1 };
  const s = a.status ?? 'same';
  if (STATUS_FILLS[s]) return { fill: STATUS_FILLS[s]!, opacity: 1 };
  return { fill: catColour, opacity: STATUS_OPACITY[s] ?? 0.45 };
}

/** A legend's swatch: how a level, or an operation of a status (in the first category's colour), is drawn. */
export function swatchStyle(what: { level: string } | { status: string }): { fill: string; opacity: number } {
  const base: Arc = { name: '', depth: 3, x0: 0, x1: 1, value: 1, parent: -1, children: [], level: '', category: '', categoryIndex: 0 };
  return 'level' in what ? arcStyle([{ ...base, depth: 1, name: what.level }], 0) : arcStyle([{ ...base, status: what.status }], 0);
}

/** What a screen reader and the tooltip say about an arc. */
export function arcLabel(arcs: readonly Arc[], i: number, statusLabels: Readonly<Record<string, string>>): string {
  const a = arcs[i]!;
  if (a.children.length === 0) return `${a.name}: ${statusLabels[a.status ?? ''] ?? a.status ?? ''} (${a.level}, ${a.category})`;
  const by = new Map<string, number>();
  const walk = (j: number) => {
    const x = arcs[j]!;
    if (x.children.length === 0) by.set(x.status ?? '', (by.get(x.status ?? '') ?? 0) + 1);
    else x.children.forEach(walk);
  };
  walk(i);
  const parts = [...by].map(([s, n]) => `${n} ${statusLabels[s] ?? s}`);
  return `${a.name}: ${a.value} operation${a.value === 1 ? '' : 's'}${parts.length > 0 ? `, ${parts.join(', ')}` : ''}`;
}

export interface SunburstState {
  /** The arc the view is zoomed on (its children form the inner ring). */
  focus: number;
  /** The arc that has keyboard focus. */
  current: number;
}

/**
 * Keyboard navigation, a tree's: arrows move among siblings, Enter or Space zooms into the current arc, Escape or
 * Backspace zooms out, Home and End go to the first and last sibling. Returns undefined for keys it leaves alone.
 */
export function moveFocus(arcs: readonly Arc[], s: SunburstState, key: string): SunburstState | undefined {
  const cur = arcs[s.current];
  if (!cur) return undefined;
  const siblings = cur.parent >= 0 ? arcs[cur.parent]!.children : [s.current];
  const at = siblings.indexOf(s.current);
  const to = (j: number): SunburstState => ({ focus: s.focus, current: siblings[(j + siblings.length) % siblings.length]! });
  switch (key) {
    case 'ArrowRight': case 'ArrowDown': return to(at + 1);
    case 'ArrowLeft': case 'ArrowUp': return to(at - 1);
    case 'Home': return to(0);
    case 'End': return to(siblings.length - 1);
    case 'Enter': case ' ':
      return cur.children.length > 0 ? { focus: s.current, current: cur.children[0]! } : s;
    case 'Escape': case 'Backspace': {
      const f = arcs[s.focus]!;
      return f.parent >= 0 ? { focus: f.parent, current: s.focus } : s;
    }
    default: return undefined;
  }
}

/** Zooming by pointer: a click on an arc with children zooms into it; a click on the centre zooms out. */
export function zoomTo(arcs: readonly Arc[], i: number): SunburstState {
  const a = arcs[i]!;
  return a.children.length > 0 ? { focus: i, current: a.children[0]! } : { focus: a.parent >= 0 ? a.parent : 0, current: i };
}

/** The first state: zoomed on the root, keyboard focus on its first child. */
export function initialState(arcs: readonly Arc[]): SunburstState {
  return { focus: 0, current: arcs[0]?.children[0] ?? 0 };
}

/**
 * The view functions as source text, for pages without a bundler (the HTML report): the report's script calls
 * the same viewArcs, arcPath, arcStyle, arcLabel, moveFocus and zoomTo as the dashboard.
 */
export function sunburstScript(): string {
  const consts = { LEVEL_COLOURS, CATEGORY_PALETTE, STATUS_FILLS, STATUS_OPACITY };
  return [
    ...Object.entries(consts).map(([k, v]) => `var ${k} = ${JSON.stringify(v)};`),
    viewArcs.toString(), arcPath.toString(), arcStyle.toString(), arcLabel.toString(), moveFocus.toString(), zoomTo.toString(),
  ].join('\n');
}
