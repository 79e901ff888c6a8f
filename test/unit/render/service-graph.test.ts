// The service graph: workloads and their connections from profiles (peers matched by address), its diff against
// base runs, grouping by a pod label, and its renderings (DOT, mermaid that mermaid's parser accepts, the SVG the
// viewer drives, the JSON the report embeds for the dashboard).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { renderBehaviorHtml } from '../../../src/render/behavior-html.ts';
import { graphFromReportHtml, serviceGraphDot, serviceGraphMermaid } from '../../../src/render/service-graph.ts';
import { serviceGraphSvg } from '../../../src/render/service-graph-layout.ts';
import { diffProfiles } from '../../../src/trace/diff.ts';
import { serviceGraph, serviceGraphJson } from '../../../src/trace/service-graph.ts';
import { shopProfile } from '../../fixtures/policy/shop.ts';
import { loadMermaid, type Mermaid } from '../../fixtures/mermaid.ts';

let mermaid: Mermaid;
before(async () => { mermaid = await loadMermaid(); });

const base = shopProfile(0);
const variant = shopProfile(2, { variant: true });

describe('service graph', () => {
  const g = serviceGraph(base);
  it('workloads are nodes, peers matched by address; the names they were reached by are labels', () => {
    assert.deepEqual(g.nodes.map((n) => [n.id, n.kind, n.names]), [
      ['api.github.com', 'host', ['api.github.com']],
      ['shop/backend', 'workload', ['backend.shop.svc.cluster.local']],
      ['shop/db', 'workload', ['db.shop.svc.cluster.local']],
      ['shop/frontend', 'workload', []],
    ]);
  });
  it('connections are edges with protocol, port and count; one edge per connection seen from both ends', () => {
    assert.deepEqual(g.edges.map((e) => [e.id, e.count, e.status]), [
      ['shop/backend → shop/db tcp/5432', 1, 'same'],
      ['shop/frontend → api.github.com tcp/443', 1, 'same'],
      ['shop/frontend → shop/backend tcp/8080', 1, 'same'],
    ]);
    assert.deepEqual(g.nodes.find((n) => n.id === 'shop/db')!.listens, ['tcp/5432']);
  });
  it('the same job traced twice changes no edge', () => {
    const d = serviceGraph(shopProfile(1), [base]);
    assert.deepEqual(d.edges.filter((e) => e.status !== 'same'), []);
    assert.deepEqual(d.nodes.filter((n) => n.status !== 'same'), []);
  });
  it('one added outbound connection is exactly one added edge', () => {
    const d = serviceGraph(variant, [base]);
    assert.deepEqual(d.edges.filter((e) => e.status !== 'same').map((e) => [e.id, e.status]), [['shop/frontend → shop/db tcp/5432', 'added']]);
  });
  it('an edge in only some base runs is flaky, one in every base run and not in head removed', () => {
    const d = serviceGraph(base, [variant, base]);
    assert.deepEqual(d.edges.filter((e) => e.status !== 'same').map((e) => [e.id, e.status]), [['shop/frontend → shop/db tcp/5432', 'flaky']]);
    const r = serviceGraph(base, [variant]);
    assert.deepEqual(r.edges.filter((e) => e.status !== 'same').map((e) => [e.id, e.status]), [['shop/frontend → shop/db tcp/5432', 'removed']]);
  });
  it('groups workloads by a pod label', () => {
    const grouped = serviceGraph(base, [], { groupBy: 'app.kubernetes.io/part-of' });
    assert.deepEqual(grouped.nodes.map((n) => n.group ?? null), [null, 'shop', 'shop', 'shop']);
  });
});

describe('service graph renderings', () => {
  const d = serviceGraph(variant, [base], { groupBy: 'app.kubernetes.io/part-of' });
  it('DOT: a cluster per group, changes coloured', () => {
    const dot = serviceGraphDot(d);
    assert.match(dot, /subgraph cluster_0 \{\n {4}label="app.kubernetes.io\/part-of=shop";/);
    assert.match(dot, /"shop\/frontend" -> "shop\/db" \[label="tcp\/5432", color="#1a7f37"/);
    assert.match(dot, /"shop\/frontend" -> "shop\/backend" \[label="tcp\/8080"\];/);
  });
  it('mermaid parses, keeps changed edges first when cut and says what it left out', async () => {
    const full = serviceGraphMermaid(d)!;
    await mermaid.parse(full);
    assert.match(full, /subgraph g0\["app.kubernetes.io\/part-of=shop"\]/);
    const cut = serviceGraphMermaid(d, { maxEdges: 1, link: 'https://x' })!;
    await mermaid.parse(cut);
    assert.match(cut, /-->\|"tcp\/5432"\|/);
    assert.match(cut, /…3 more edges in the full report/);
  });
  it('SVG: every node and edge addressable by the viewer, the added edge marked', () => {
    const svg = serviceGraphSvg(d);
    for (const n of d.nodes) assert.ok(svg.includes(`data-id="${n.id}"`), n.id);
    assert.match(svg, /<g class="sg-edge added" data-from="shop\/frontend" data-to="shop\/db">/);
    assert.match(svg, /<input class="sg-search"/);
  });
  it('the HTML report embeds the graph for the dashboard, and the JSON export is the same graph', () => {
    const html = renderBehaviorHtml(diffProfiles([base], variant), { job: 'shop' });
    const embedded = graphFromReportHtml(html)!;
    assert.deepEqual(embedded.edges.filter((e) => e.status === 'added').map((e) => e.id), ['shop/frontend → shop/db tcp/5432']);
    assert.deepEqual(JSON.parse(serviceGraphJson(d)), d);
    assert.match(html, /<h2>Policy<\/h2>.*Should <code>shop\/frontend<\/code> connect to <code>shop\/db<\/code> on TCP 5432\?/s);
  });
});
