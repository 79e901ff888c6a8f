// The service graph rendered: Graphviz DOT and mermaid (the PR comment, cut to its busiest and changed edges with
// a link to the full graph), and an SVG laid out with dagre (layered, left to right) for the HTML report and the
// dashboard, whose interactions live in graph-viewer.ts. Added edges green, removed red and dashed, flaky amber;
// workloads grouped by a label are boxed together. Pure and deterministic.
import { graphlib, layout } from '@dagrejs/dagre';
import type { GraphEdge, GraphNode, GraphStatus, ServiceGraph } from '../trace/service-graph.ts';
import { COLORS, mermaidText } from './behavior-mermaid.ts';

const FLAKY = '#9a6700';
const STATUS_COLOR: Record<GraphStatus, string> = { added: COLORS.added, removed: COLORS.removed, flaky: FLAKY, same: '#57606a' };

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

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
// SVG with dagre's layout

const CHAR_W = 7;
const NODE_H = 36;

export interface SvgLayout {
  width: number;
  height: number;
  nodes: Array<{ node: GraphNode; x: number; y: number; w: number; h: number }>;
  edges: Array<{ edge: GraphEdge; points: Array<{ x: number; y: number }>; label: { x: number; y: number } }>;
  groups: Array<{ name: string; x: number; y: number; w: number; h: number }>;
}

/** Positions for every node and edge (layered left to right; groups are dagre compound nodes). */
export function layoutServiceGraph(g: ServiceGraph): SvgLayout {
  const dg = new graphlib.Graph({ multigraph: true, compound: true });
  dg.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 90, edgesep: 14, marginx: 16, marginy: 16 });
  const groups = [...new Set(g.nodes.map((n) => n.group).filter((x) => x !== undefined))].sort();
  for (const group of groups) dg.setNode(`group:${group}`, { label: group, paddingTop: 24 });
  for (const n of g.nodes) {
    const lines = nodeCaption(n).split('\n');
    const w = Math.max(...lines.map((l) => l.length)) * CHAR_W + 24;
    dg.setNode(n.id, { width: Math.min(w, 320), height: NODE_H + (lines.length - 1) * 14 });
    if (n.group !== undefined) dg.setParent(n.id, `group:${n.group}`);
  }
  for (const e of g.edges) dg.setEdge(e.from, e.to, { width: edgeLabel(e).length * 6, height: 12, labelpos: 'c' }, e.id);
  layout(dg);
  const graph = dg.graph() as { width?: number; height?: number };
  const nodes = g.nodes.map((node) => {
    const p = dg.node(node.id) as { x: number; y: number; width: number; height: number };
    return { node, x: p.x, y: p.y, w: p.width, h: p.height };
  });
  const edges = g.edges.map((edge) => {
    const p = dg.edge({ v: edge.from, w: edge.to, name: edge.id }) as { points: Array<{ x: number; y: number }>; x?: number; y?: number };
    const mid = p.points[Math.floor(p.points.length / 2)]!;
    return { edge, points: p.points, label: { x: p.x ?? mid.x, y: p.y ?? mid.y } };
  });
  const boxes = groups.map((name) => {
    const p = dg.node(`group:${name}`) as { x: number; y: number; width: number; height: number };
    return { name, x: p.x - p.width / 2, y: p.y - p.height / 2, w: p.width, h: p.height };
  });
  return { width: Math.ceil(graph.width ?? 400), height: Math.ceil(graph.height ?? 200), nodes, edges, groups: boxes };
}

function path(points: ReadonlyArray<{ x: number; y: number }>): string {
  const [first, ...rest] = points;
  if (!first) return '';
  return `M${first.x.toFixed(1)},${first.y.toFixed(1)}` + rest.map((p) => ` L${p.x.toFixed(1)},${p.y.toFixed(1)}`).join('');
}

/** The graph as an interactive block: toolbar (search, zoom, fit), legend, SVG. Needs graphViewerScript/attachGraphViewer. */
export function serviceGraphSvg(g: ServiceGraph): string {
  if (g.nodes.length === 0) return '<p class="empty">No network connections between workloads.</p>';
  const l = layoutServiceGraph(g);
  const parts: string[] = [];
  for (const b of l.groups) {
    parts.push(`<g class="sg-group"><rect x="${b.x.toFixed(1)}" y="${b.y.toFixed(1)}" width="${b.w.toFixed(1)}" height="${b.h.toFixed(1)}" rx="8"/>`
      + `<text x="${(b.x + 8).toFixed(1)}" y="${(b.y + 16).toFixed(1)}">${escapeXml(`${g.groupBy}=${b.name}`)}</text></g>`);
  }
  for (const e of l.edges) {
    const title = `${e.edge.id} · ${e.edge.count} connection${e.edge.count === 1 ? '' : 's'}${e.edge.status === 'same' ? '' : ` · ${e.edge.status}`}`;
    parts.push(`<g class="sg-edge ${e.edge.status}" data-from="${escapeXml(e.edge.from)}" data-to="${escapeXml(e.edge.to)}"><path d="${path(e.points)}" marker-end="url(#sg-arrow-${e.edge.status})"/>`
      + `<text x="${e.label.x.toFixed(1)}" y="${(e.label.y + 4).toFixed(1)}">${escapeXml(edgeLabel(e.edge))}</text><title>${escapeXml(title)}</title></g>`);
  }
  for (const n of l.nodes) {
    const lines = nodeCaption(n.node).split('\n');
    const x = n.x - n.w / 2;
    const y = n.y - n.h / 2;
    const text = lines.map((t, i) => `<tspan x="${n.x.toFixed(1)}" dy="${i === 0 ? 0 : 14}"${i > 0 ? ' class="sg-name"' : ''}>${escapeXml(t)}</tspan>`).join('');
    const title = [n.node.id, `kind: ${n.node.kind}`, ...(n.node.names.length ? [`names: ${n.node.names.join(', ')}`] : []), ...(n.node.listens.length ? [`listens: ${n.node.listens.join(', ')}`] : []), ...(n.node.status !== 'same' ? [n.node.status] : [])].join('\n');
    parts.push(`<g class="sg-node ${n.node.kind} ${n.node.status}" data-id="${escapeXml(n.node.id)}" data-names="${escapeXml(n.node.names.join(' '))}">`
      + `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${n.w.toFixed(1)}" height="${n.h.toFixed(1)}" rx="${n.node.kind === 'workload' ? 4 : 16}"/>`
      + `<text x="${n.x.toFixed(1)}" y="${(y + 22).toFixed(1)}">${text}</text><title>${escapeXml(title)}</title></g>`);
  }
  const markers = (['same', 'added', 'removed', 'flaky'] as const).map((s) => `<marker id="sg-arrow-${s}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${STATUS_COLOR[s]}"/></marker>`).join('');
  const counts = (['added', 'removed', 'flaky'] as const).map((s) => [s, g.edges.filter((e) => e.status === s).length] as const).filter(([, n]) => n > 0);
  const summary = `${g.nodes.length} nodes, ${g.edges.length} edges${counts.length ? ` (${counts.map(([s, n]) => `${n} ${s}`).join(', ')})` : ''}. Drag to pan, scroll to zoom, click a node to highlight its edges.`;
  return `<div class="sg-root">`
    + `<div class="sg-toolbar"><input class="sg-search" type="search" placeholder="search nodes…" aria-label="search nodes">`
    + `<button type="button" data-action="in" title="zoom in">+</button><button type="button" data-action="out" title="zoom out">−</button><button type="button" data-action="fit" title="fit">fit</button>`
    + `<span class="sg-legend"><i class="added"></i>added <i class="removed"></i>removed <i class="flaky"></i>flaky</span></div>`
    + `<div class="sg-info" data-default="${escapeXml(summary)}">${escapeXml(summary)}</div>`
    + `<svg class="sg" width="100%" height="${Math.min(640, Math.max(260, l.height + 40))}" role="img" aria-label="service graph"><defs>${markers}</defs><g class="sg-viewport">${parts.join('')}</g></svg></div>`;
}

/** Styles of serviceGraphSvg's markup (the report inlines them; the dashboard's stylesheet has its own copy). */
export const SERVICE_GRAPH_CSS = `
.sg-root{border:1px solid #d1d9e0;border-radius:6px;padding:6px;background:#fff}
.sg-toolbar{display:flex;gap:6px;align-items:center;margin-bottom:4px}.sg-toolbar input{padding:3px 8px;width:240px}
.sg-toolbar button{min-width:28px;padding:2px 6px;border:1px solid #d1d9e0;background:#f6f8fa;border-radius:4px;cursor:pointer}
.sg-legend{margin-left:auto;font-size:12px;color:#59636e}.sg-legend i{display:inline-block;width:14px;height:3px;margin:0 3px 3px 10px;vertical-align:middle}
.sg-legend i.added{background:${COLORS.added}}.sg-legend i.removed{background:${COLORS.removed}}.sg-legend i.flaky{background:${FLAKY}}
.sg-info{font-size:12px;color:#59636e;margin:2px 0 4px}
svg.sg{cursor:grab;touch-action:none;user-select:none;background:#fbfcfd}svg.sg:active{cursor:grabbing}
.sg-group rect{fill:#f6f8fa;stroke:#8c959f;stroke-dasharray:4 3}.sg-group text{font-size:11px;fill:#59636e}
.sg-node rect{fill:#fff;stroke:#57606a;stroke-width:1.3}.sg-node.service rect,.sg-node.host rect,.sg-node.block rect,.sg-node.world rect{fill:#f6f8fa}
.sg-node text{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;text-anchor:middle;fill:#1f2328}.sg-node .sg-name{font-size:10px;fill:#59636e}
.sg-node.added rect{stroke:${COLORS.added};fill:${COLORS.addedFill};stroke-width:2}.sg-node.removed rect{stroke:${COLORS.removed};fill:${COLORS.removedFill};stroke-dasharray:5 3}
.sg-node{cursor:pointer}.sg-edge path{fill:none;stroke:#8c959f;stroke-width:1.4}.sg-edge text{font-size:10px;fill:#59636e;text-anchor:middle;paint-order:stroke;stroke:#fbfcfd;stroke-width:3px}
.sg-edge.added path{stroke:${COLORS.added};stroke-width:2.5}.sg-edge.added text{fill:${COLORS.added}}
.sg-edge.removed path{stroke:${COLORS.removed};stroke-width:2.5;stroke-dasharray:6 4}.sg-edge.removed text{fill:${COLORS.removed}}
.sg-edge.flaky path{stroke:${FLAKY};stroke-dasharray:2 3}
.sg-focus .sg-node:not(.sg-hi),.sg-focus .sg-edge:not(.sg-hi),.sg-focus .sg-group{opacity:.18}
.sg-node.sg-hi rect{stroke-width:2.5}.sg-node.sg-match rect{stroke:#0969da;stroke-width:3}.sg-edge.sg-hi path{stroke-width:3}
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
export function serviceGraphPage(g: ServiceGraph, title: string, viewerScript: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`
    + `<title>${escapeXml(title)}</title><style>body{font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;margin:16px;color:#1f2328}`
    + `h1{font-size:18px;margin:0 0 8px}code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}.empty{color:#59636e;font-style:italic}${SERVICE_GRAPH_CSS}</style></head>`
    + `<body><h1>${escapeXml(title)}</h1>${serviceGraphSvg(g)}<script type="application/json" id="katabot-graph">${JSON.stringify(g).replace(/</g, '\\u003c')}</script>`
    + `<script>${viewerScript}</script></body></html>\n`;
}
