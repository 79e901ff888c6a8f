// The service graph of a behavior report on the dashboard: the same SVG and interactions as the self-contained
// report (src/render/service-graph.ts, graph-viewer.ts) — pan, zoom, search, a click highlights a node's edges —
// fed by /api/behavior/<key>/graph (the graph and its layout, computed on the server: no layout library here).
import { useEffect, useRef } from 'preact/hooks';
import { attachGraphViewer } from '../../../src/render/graph-viewer.ts';
import { renderServiceGraphSvg, type ServiceGraphView } from '../../../src/render/service-graph.ts';
import { useApi } from '../api.ts';

export function ServiceGraphPanel({ id }: { id: string }) {
  const api = useApi<ServiceGraphView>(`/api/behavior/${encodeURIComponent(id)}/graph`);
  const box = useRef<HTMLDivElement>(null);
  const svg = api.data ? renderServiceGraphSvg(api.data.graph, api.data.layout) : '';
  useEffect(() => (box.current && svg ? attachGraphViewer(box.current) : undefined), [svg]);
  if (!api.data || api.data.graph.nodes.length === 0) return null;
  const g = api.data.graph;
  return (
    <section class="service-graph" aria-label="Service graph">
      <h2>
        Service graph
        {g.groupBy && <span class="muted"> · grouped by {g.groupBy}</span>}
      </h2>
      <div ref={box} dangerouslySetInnerHTML={{ __html: svg }} />
    </section>
  );
}
