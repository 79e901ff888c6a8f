// The service graph's layout, with dagre (layered, left to right; label groups as compound nodes). Server side only:
// the report draws with it, the dashboard's API sends it along with the graph, so the browser bundle needs no
// layout library. Deterministic for a given graph.
import { graphlib, layout } from '@dagrejs/dagre';
import type { ServiceGraph } from '../trace/service-graph.ts';
import { edgeLabel, nodeCaption, renderServiceGraphSvg, type GraphLayout } from './service-graph.ts';

const CHAR_W = 7;
const NODE_H = 36;

export function layoutServiceGraph(g: ServiceGraph): GraphLayout {
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
    return { id: node.id, x: p.x, y: p.y, w: p.width, h: p.height };
  });
  const edges = g.edges.map((edge) => {
    const p = dg.edge({ v: edge.from, w: edge.to, name: edge.id }) as { points: Array<{ x: number; y: number }>; x?: number; y?: number };
    const mid = p.points[Math.floor(p.points.length / 2)]!;
    return { id: edge.id, points: p.points, label: { x: p.x ?? mid.x, y: p.y ?? mid.y } };
  });
  const boxes = groups.map((name) => {
    const p = dg.node(`group:${name}`) as { x: number; y: number; width: number; height: number };
    return { name, x: p.x - p.width / 2, y: p.y - p.height / 2, w: p.width, h: p.height };
  });
  return { width: Math.ceil(graph.width ?? 400), height: Math.ceil(graph.height ?? 200), nodes, edges, groups: boxes };
}

/** Laid out and drawn: the interactive block of the report. */
export function serviceGraphSvg(g: ServiceGraph): string {
  return renderServiceGraphSvg(g, layoutServiceGraph(g));
}
