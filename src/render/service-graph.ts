// The service graph rendered: Graphviz DOT and mermaid (the PR comment, cut to its busiest and changed edges with
// a link to the full graph), and an SVG for the HTML report and the dashboard from a layout computed on the server
// (service-graph-layout.ts, dagre), whose interactions live in graph-viewer.ts. Added edges green, removed red and
// dashed, flaky amber; workloads grouped by a label are boxed together. No layout library here: the dashboard's
// bundle imports this file. Pure and deterministic.
import type { GraphEdge, GraphNode, GraphStatus, ServiceGraph } from '../trace/service-graph.ts';
import { COLORS, mermaidText } from './mermaid.ts';
import { escapeHtml } from './html.ts';

const FLAKY = '#9a6700';
const STATUS_COLOR: Record<GraphStatus, string> = { added: COLORS.added, removed: COLORS.removed, flaky: FLAKY, same: '#57606a' };


export function edgeLabel(e: GraphEdge): string {
  return `${e.proto}/${e.port}${e.count > 1 ? ` ×${e.count}` : ''}`;
}

/** A node's caption: its id, and the first DNS name it was reached by when that says more. */
export function nodeCaption(n: GraphNode): string {
  const name = n.names.find((x) => x !== n.id);
  return name ? `${n.id}\n${name}${n.names.length > 2 ? ` +${n.names.length - 2}` : ''}` : n.id;
}

// ---------------------------------------------------------------------------------------------------------------
// Graphviz DOT

function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

const DOT_SHAPE: Record<GraphNode['kind'], string> = { workload: 'box', service: 'ellipse', host: 'note', block: 'component', world: 'doubleoctagon' };

export function serviceGraphDot(g: ServiceGraph): string {
  const lines = ['digraph services {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=11];', '  edge [fontname="Helvetica", fontsize=9];'];
  const nodeLine = (n: GraphNode, indent: string): string => {
    const attrs = [`label=${dotString(nodeCaption(n))}`, `shape=${DOT_SHAPE[n.kind]}`];
    if (n.status !== 'same') attrs.push(`color=${dotString(STATUS_COLOR[n.status])}`, 'penwidth=2');
    return `${indent}${dotString(n.id)} [${attrs.join(', ')}];`;
  };
  const groups = [...new Set(g.nodes.map((n) => n.group).filter((x) => x !== undefined))].sort();
  for (const [i, group] of groups.entries()) {
    lines.push(`  subgraph cluster_${i} {`, `    label=${dotString(`${g.groupBy}=${group}`)};`, '    style=rounded; color="#8c959f";');
    for (const n of g.nodes) if (n.group === group) lines.push(nodeLine(n, '    '));
    lines.push('  }');
  }
  for (const n of g.nodes) if (n.group === undefined) lines.push(nodeLine(n, '  '));
  for (const e of g.edges) {
    const attrs = [`label=${dotString(edgeLabel(e))}`];
    if (e.status !== 'same') attrs.push(`color=${dotString(STATUS_COLOR[e.status])}`, `fontcolor=${dotString(STATUS_COLOR[e.status])}`, 'penwidth=2');
    if (e.status === 'removed' || e.status === 'flaky') attrs.push('style=dashed');
    lines.push(`  ${dotString(e.from)} -> ${dotString(e.to)} [${attrs.join(', ')}];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------------------
// mermaid (PR comment)

export interface MermaidOptions {
  /** Edges drawn at most; changed edges first, then the busiest. */
  maxEdges?: number;
  /** Where the full graph is (the report); named in the truncation note. */
  link?: string;
}

/** Edges worth drawing first: changes, then by count, then by id. */
function rankEdges(edges: readonly GraphEdge[]): GraphEdge[] {
  const weight = (e: GraphEdge): number => (e.status === 'added' || e.status === 'removed' ? 0 : e.status === 'flaky' ? 1 : 2);
  return [...edges].sort((a, b) => weight(a) - weight(b) || b.count - a.count || (a.id < b.id ? -1 : 1));
}

export function serviceGraphMermaid(g: ServiceGraph, o: MermaidOptions = {}): string | undefined {
  if (g.edges.length === 0) return undefined;
  const max = o.maxEdges ?? 30;
  const shown = rankEdges(g.edges).slice(0, max);
  const used = new Set(shown.flatMap((e) => [e.from, e.to]));
  const nodes = g.nodes.filter((n) => used.has(n.id));
  const ids = new Map(nodes.map((n, i) => [n.id, `s${i}`]));
  const shape = (n: GraphNode): string => {
    const t = mermaidText(nodeCaption(n).replace('\n', ' · '), 60);
    return n.kind === 'workload' ? `${ids.get(n.id)}["${t}"]` : n.kind === 'service' ? `${ids.get(n.id)}(["${t}"])` : `${ids.get(n.id)}{{"${t}"}}`;
  };
  const lines = ['flowchart LR'];
  const groups = [...new Set(nodes.map((n) => n.group).filter((x) => x !== undefined))].sort();
  for (const [i, group] of groups.entries()) {
    lines.push(`  subgraph g${i}["${mermaidText(`${g.groupBy}=${group}`)}"]`);
    for (const n of nodes) if (n.group === group) lines.push(`    ${shape(n)}`);
    lines.push('  end');
  }
  for (const n of nodes) if (n.group === undefined) lines.push(`  ${shape(n)}`);
  // edges in id order, so the same graph prints the same text
  const ordered = [...shown].sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const e of ordered) {
    const arrow = e.status === 'removed' || e.status === 'flaky' ? '-.->' : '-->';
    lines.push(`  ${ids.get(e.from)} ${arrow}|"${mermaidText(edgeLabel(e), 30)}"| ${ids.get(e.to)}`);
  }
  lines.push(`  classDef added fill:${COLORS.addedFill},stroke:${COLORS.added},color:${COLORS.added}`);
  lines.push(`  classDef removed fill:${COLORS.removedFill},stroke:${COLORS.removed},color:${COLORS.removed}`);
  for (const cls of ['added', 'removed'] as const) {
    const list = nodes.filter((n) => n.status === cls).map((n) => ids.get(n.id));
    if (list.length > 0) lines.push(`  class ${list.join(',')} ${cls}`);
  }
  for (const status of ['added', 'removed', 'flaky'] as const) {
    const idx = ordered.map((e, i) => (e.status === status ? i : -1)).filter((i) => i >= 0);
    if (idx.length > 0) lines.push(`  linkStyle ${idx.join(',')} stroke:${STATUS_COLOR[status]},stroke-width:2px`);
  }
  if (shown.length < g.edges.length) {
    lines.push(`  more["…${g.edges.length - shown.length} more edges${o.link ? ' in the full report' : ''}"]`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// SVG (positions from service-graph-layout.ts)

/** What the dashboard's API sends: the graph and where to draw it. */
export interface ServiceGraphView {
  graph: ServiceGraph;
  layout: GraphLayout;
}

/** Where everything goes; computed by layoutServiceGraph (dagre) on the server, drawn here and in the browser. */
export interface GraphLayout {
  width: number;
  height: number;
  nodes: Array<{ id: string; x: number; y: number; w: number; h: number }>;
  edges: Array<{ id: string; points: Array<{ x: number; y: number }>; label: { x: number; y: number } }>;
  groups: Array<{ name: string; x: number; y: number; w: number; h: number }>;
}

function path(points: ReadonlyArray<{ x: number; y: number }>): string {
  const [first, ...rest] = points;
  if (!first) return '';
  return `M${first.x.toFixed(1)},${first.y.toFixed(1)}` + rest.map((p) => ` L${p.x.toFixed(1)},${p.y.toFixed(1)}`).join('');
}

const MONO = 'ui-monospace,SFMono-Regular,Menlo,Consolas,monospace';
const SANS = '-apple-system,BlinkMacSystemFont,Segoe UI,Helvetica,Arial,sans-serif';

/** Node box colours (presentation attributes: the SVG looks right under any stylesheet or CSP). */
function nodePaint(n: GraphNode): string {
  if (n.status === 'added') return `fill="${COLORS.addedFill}" stroke="${COLORS.added}" stroke-width="2"`;
  if (n.status === 'removed') return `fill="${COLORS.removedFill}" stroke="${COLORS.removed}" stroke-width="2" stroke-dasharray="5 3"`;
  return `fill="${n.kind === 'workload' ? '#ffffff' : '#f6f8fa'}" stroke="#57606a" stroke-width="1.3"`;
}

function edgePaint(e: GraphEdge): string {
  const color = e.status === 'same' ? '#8c959f' : STATUS_COLOR[e.status];
  const width = e.status === 'added' || e.status === 'removed' ? 2.5 : 1.4;
  const dash = e.status === 'removed' ? ' stroke-dasharray="6 4"' : e.status === 'flaky' ? ' stroke-dasharray="2 3"' : '';
  return `fill="none" stroke="${color}" stroke-width="${width}"${dash}`;
}

/** The graph as an interactive block: toolbar (search, zoom, fit), legend, SVG; attachGraphViewer wires it. */
export function renderServiceGraphSvg(g: ServiceGraph, l: GraphLayout): string {
  if (g.nodes.length === 0) return '<p class="empty">No network connections between workloads.</p>';
  const nodePos = new Map(l.nodes.map((n) => [n.id, n]));
  const edgePos = new Map(l.edges.map((e) => [e.id, e]));
  const parts: string[] = [];
  for (const b of l.groups) {
    parts.push(`<g class="sg-group"><rect x="${b.x.toFixed(1)}" y="${b.y.toFixed(1)}" width="${b.w.toFixed(1)}" height="${b.h.toFixed(1)}" rx="8" fill="#f6f8fa" stroke="#8c959f" stroke-dasharray="4 3"/>`
      + `<text x="${(b.x + 8).toFixed(1)}" y="${(b.y + 16).toFixed(1)}" font-family="${SANS}" font-size="11" fill="#59636e">${escapeHtml(`${g.groupBy}=${b.name}`)}</text></g>`);
  }
  for (const edge of g.edges) {
    const e = edgePos.get(edge.id);
    if (!e) continue;
    const title = `${edge.id} · ${edge.count} connection${edge.count === 1 ? '' : 's'}${edge.status === 'same' ? '' : ` · ${edge.status}`}`;
    const color = edge.status === 'same' ? '#59636e' : STATUS_COLOR[edge.status];
    parts.push(`<g class="sg-edge ${edge.status}" data-from="${escapeHtml(edge.from)}" data-to="${escapeHtml(edge.to)}"><path d="${path(e.points)}" ${edgePaint(edge)} marker-end="url(#sg-arrow-${edge.status})"/>`
      + `<text x="${e.label.x.toFixed(1)}" y="${(e.label.y + 4).toFixed(1)}" font-family="${SANS}" font-size="10" fill="${color}" text-anchor="middle" stroke="#fbfcfd" stroke-width="3" paint-order="stroke">${escapeHtml(edgeLabel(edge))}</text><title>${escapeHtml(title)}</title></g>`);
  }
  for (const node of g.nodes) {
    const n = nodePos.get(node.id);
    if (!n) continue;
    const lines = nodeCaption(node).split('\n');
    const x = n.x - n.w / 2;
    const y = n.y - n.h / 2;
    const text = lines.map((t, i) => `<tspan x="${n.x.toFixed(1)}" dy="${i === 0 ? 0 : 14}"${i > 0 ? ' font-size="10" fill="#59636e"' : ''}>${escapeHtml(t)}</tspan>`).join('');
    const title = [node.id, `kind: ${node.kind}`, ...(node.names.length ? [`names: ${node.names.join(', ')}`] : []), ...(node.listens.length ? [`listens: ${node.listens.join(', ')}`] : []), ...(node.status !== 'same' ? [node.status] : [])].join('\n');
    parts.push(`<g class="sg-node ${node.kind} ${node.status}" data-id="${escapeHtml(node.id)}" data-names="${escapeHtml(node.names.join(' '))}" cursor="pointer">`
      + `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${n.w.toFixed(1)}" height="${n.h.toFixed(1)}" rx="${node.kind === 'workload' ? 4 : 16}" ${nodePaint(node)}/>`
      + `<text x="${n.x.toFixed(1)}" y="${(y + 22).toFixed(1)}" font-family="${MONO}" font-size="12" fill="#1f2328" text-anchor="middle">${text}</text><title>${escapeHtml(title)}</title></g>`);
  }
  const markers = (['same', 'added', 'removed', 'flaky'] as const).map((s) => `<marker id="sg-arrow-${s}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${STATUS_COLOR[s]}"/></marker>`).join('');
  const counts = (['added', 'removed', 'flaky'] as const).map((s) => [s, g.edges.filter((e) => e.status === s).length] as const).filter(([, n]) => n > 0);
  const summary = `${g.nodes.length} nodes, ${g.edges.length} edges${counts.length ? ` (${counts.map(([s, n]) => `${n} ${s}`).join(', ')})` : ''}. Drag to pan, scroll to zoom, click a node to highlight its edges.`;
  const legend = (['added', 'removed', 'flaky'] as const).map((s) => `<svg width="16" height="6" aria-hidden="true"><rect width="16" height="4" y="1" fill="${STATUS_COLOR[s]}"/></svg> ${s}`).join(' ');
  return `<div class="sg-root">`
    + `<div class="sg-toolbar"><input class="sg-search" type="search" placeholder="search nodes…" aria-label="search nodes">`
    + `<button type="button" data-action="in" title="zoom in">+</button><button type="button" data-action="out" title="zoom out">−</button><button type="button" data-action="fit" title="fit">fit</button>`
    + `<span class="sg-legend">${legend}</span></div>`
    + `<div class="sg-info" data-default="${escapeHtml(summary)}">${escapeHtml(summary)}</div>`
    + `<svg class="sg" width="100%" height="${Math.min(640, Math.max(260, l.height + 40))}" role="img" aria-label="service graph"><defs>${markers}</defs><g class="sg-viewport">${parts.join('')}</g></svg></div>`;
}

/** Styles of the toolbar around the SVG (the SVG styles itself with attributes); the report inlines them. */
export const SERVICE_GRAPH_CSS = `
.sg-root{border:1px solid #d1d9e0;border-radius:6px;padding:6px;background:#fff}
.sg-toolbar{display:flex;gap:6px;align-items:center;margin-bottom:4px}.sg-toolbar input{padding:3px 8px;width:240px}
.sg-toolbar button{min-width:28px;padding:2px 6px;border:1px solid #d1d9e0;background:#f6f8fa;border-radius:4px;cursor:pointer}
.sg-legend{margin-left:auto;font-size:12px;color:#59636e}.sg-info{font-size:12px;color:#59636e;margin:2px 0 4px}
svg.sg{cursor:grab;touch-action:none;user-select:none;background:#fbfcfd}svg.sg:active{cursor:grabbing}
`;

/** The graph embedded in a stored report (`<script id="katabot-graph">`), for the dashboard's API. */
export function graphFromReportHtml(html: string): ServiceGraph | undefined {
  const m = /<script type="application\/json" id="katabot-graph">([\s\S]*?)<\/script>/.exec(html);
  if (!m) return undefined;
  try {
    return JSON.parse(m[1]!) as ServiceGraph;
  } catch {
    return undefined;
  }
}

/** The graph alone as a self-contained page (`katabot graph --format html`). */
export function serviceGraphPage(g: ServiceGraph, l: GraphLayout, title: string, viewerScript: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`
    + `<title>${escapeHtml(title)}</title><style>body{font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;margin:16px;color:#1f2328}`
    + `h1{font-size:18px;margin:0 0 8px}code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}.empty{color:#59636e;font-style:italic}${SERVICE_GRAPH_CSS}</style></head>`
    + `<body><h1>${escapeHtml(title)}</h1>${renderServiceGraphSvg(g, l)}<script type="application/json" id="katabot-graph">${JSON.stringify(g).replace(/</g, '\\u003c')}</script>`
    + `<script>${viewerScript}</script></body></html>\n`;
}
