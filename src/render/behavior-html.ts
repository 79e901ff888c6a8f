// The full behavior report: one self-contained HTML page (no external scripts, styles or fonts) with the summary,
// an interactive process tree, the network graph, an APISnoop-style API sunburst (level → category → operation),
// and every added, removed and flaky item with a filter.
import { riskyAdditions, type BehaviorDiff, type DiffEntry } from '../trace/diff.ts';
import { ROOT_PARENT, type NetworkItem, type ProcessItem } from '../trace/profile.ts';
import { CATEGORIES, type Category } from '../trace/profile-rules.ts';
import { CATEGORY_TITLES, CUSTOM_TITLE, byPod, guestStatuses, type BehaviorRenderContext } from './behavior.ts';
import { behaviorExtras, graphHtml, policyHtml, POLICY_CSS } from './behavior-policy.ts';
import { graphViewerScript } from './graph-viewer.ts';
import { SERVICE_GRAPH_CSS } from './service-graph.ts';
import { apiSunburstSection } from './behavior-sunburst.ts';
import { escapeHtml } from './html.ts';

const NO_CUSTOM: BehaviorDiff['custom'] = { added: [], removed: [], flaky: [], unchanged: 0 };

function hasCustom(d: BehaviorDiff): boolean {
  const c = d.custom;
  return (d.head.custom?.length ?? 0) > 0 || (c !== undefined && c.added.length + c.removed.length + c.flaky.length + c.unchanged > 0);
}


/** JSON inside <script>: nothing can close the element or open a comment. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

type ItemStatus = 'added' | 'removed' | 'flaky' | 'same';

function statusMap<T extends { key: string }>(c: { added: DiffEntry[]; removed: DiffEntry[]; flaky: DiffEntry[] }): Map<string, ItemStatus> {
  const m = new Map<string, ItemStatus>();
  for (const e of c.added) m.set(e.item.key, 'added');
  for (const e of c.removed) m.set(e.item.key, 'removed');
  for (const e of c.flaky) m.set(e.item.key, 'flaky');
  return m as Map<string, ItemStatus> & { _t?: T };
}

// ---------------------------------------------------------------------------------------------------------------
// Process tree

export interface TreeNode {
  exe: string;
  status: ItemStatus;
  /** Argument variants of this parent → exe edge. */
  variants: Array<{ args: string; status: ItemStatus; count: number }>;
  children: TreeNode[];
  /** Already expanded elsewhere (a cycle, or a second parent). */
  ref?: boolean;
}

function edgeStatus(statuses: ItemStatus[]): ItemStatus {
  if (statuses.every((s) => s === 'added')) return 'added';
  if (statuses.every((s) => s === 'removed')) return 'removed';
  if (statuses.every((s) => s === 'flaky')) return 'flaky';
  return 'same';
}

/** The exec graph of head plus removed and flaky items, as a tree from the roots (cycles cut). */
export function processTree(d: BehaviorDiff): TreeNode[] {
  const status = statusMap(d.processes);
  const items = new Map<string, ProcessItem>();
  for (const p of d.head.processes) items.set(p.key, p);
  for (const e of [...d.processes.removed, ...d.processes.flaky]) items.set(e.item.key, e.item);
  const label = (scope: string | undefined, exe: string): string => (scope ? `[${scope}] ${exe}` : exe);
  const edges = new Map<string, Map<string, Array<{ args: string; status: ItemStatus; count: number }>>>();
  const children = new Set<string>();
  for (const p of items.values()) {
    const from = label(p.scope, p.parent);
    const to = label(p.scope, p.exe);
    if (from !== to) children.add(to);
    const byChild = edges.get(from) ?? new Map();
    edges.set(from, byChild);
    const variants = byChild.get(to) ?? [];
    byChild.set(to, variants);
    variants.push({ args: p.args + (p.error ? ` (${p.error})` : ''), status: status.get(p.key) ?? 'same', count: p.count });
  }
  const roots = [...edges.keys()].filter((n) => !children.has(n) || n.endsWith(ROOT_PARENT)).sort();
  const expanded = new Set<string>();
  const build = (exe: string, st: ItemStatus, variants: TreeNode['variants'], depth: number): TreeNode => {
    const node: TreeNode = { exe, status: st, variants: variants.sort((a, b) => (a.args < b.args ? -1 : 1)), children: [] };
    if (expanded.has(exe) || depth > 40) { node.ref = (edges.get(exe)?.size ?? 0) > 0; return node; }
    expanded.add(exe);
    for (const [child, vs] of [...(edges.get(exe) ?? new Map<string, TreeNode['variants']>())].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      node.children.push(build(child, edgeStatus(vs.map((v) => v.status)), vs, depth + 1));
    }
    return node;
  };
  const out = roots.map((r) => build(r, 'same', [], 0));
  // anything left unreached (a cycle without a root) still shows
  for (const n of [...edges.keys()].sort()) if (!expanded.has(n)) out.push(build(n, 'same', [], 0));
  return out;
}

function hasChange(n: TreeNode): boolean {
  return n.status !== 'same' || n.variants.some((v) => v.status !== 'same') || n.children.some(hasChange);
}

function renderTree(nodes: TreeNode[]): string {
  const li = (n: TreeNode): string => {
    const badge = n.status === 'same' ? '' : `<span class="badge ${n.status}">${n.status}</span> `;
    const variants = n.variants.length > 0
      ? `<ul class="args">${n.variants.map((v) => `<li class="${v.status}">${v.status === 'same' ? '' : `<span class="badge ${v.status}">${v.status}</span> `}<code>${escapeHtml(v.args || '(no arguments)')}</code> <span class="count">×${v.count}</span></li>`).join('')}</ul>`
      : '';
    const changed = hasChange(n) ? ' data-changed="1"' : '';
    const title = `${badge}<code class="exe">${escapeHtml(n.exe)}</code>${n.ref ? ' <span class="ref">(expanded above)</span>' : ''}`;
    if (n.children.length === 0) return `<li class="node ${n.status}"${changed}>${title}${variants}</li>`;
    return `<li class="node ${n.status}"${changed}><details open><summary>${title}</summary>${variants}<ul>${n.children.map(li).join('')}</ul></details></li>`;
  };
  return `<ul class="tree">${nodes.map(li).join('')}</ul>`;
}

// ---------------------------------------------------------------------------------------------------------------
// Network graph (SVG, laid out here: sources left, peers right)

function networkSvg(d: BehaviorDiff): string {
  const status = statusMap(d.network);
  const items = new Map<string, NetworkItem>();
  for (const n of d.head.network) items.set(n.key, n);
  for (const e of [...d.network.removed, ...d.network.flaky]) items.set(e.item.key, e.item);
  if (items.size === 0) return '<p class="empty">No network activity.</p>';
  const left = new Set<string>();
  const right = new Set<string>();
  const edges: Array<{ from: string; to: string; label: string; status: ItemStatus; key: string }> = [];
  for (const it of [...items.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    const self = it.scope ?? 'job';
    const st = status.get(it.key) ?? 'same';
    // one right-hand node per endpoint (peer and port), so edges never overlap
    const from = self;
    let to = `${it.peer}:${it.port}`;
    let label = it.proto;
    if (it.direction === 'ingress') { to = `:${it.port} ← ${it.peer}`; label = `${it.proto} in`; }
    if (it.direction === 'listen') { to = `listen ${it.peer}:${it.port}`; }
    if (it.direction === 'dns') { to = it.peer; label = 'dns'; }
    left.add(from);
    right.add(to);
    edges.push({ from, to, label, status: st, key: it.key });
  }
  const L = [...left].sort();
  const R = [...right].sort();
  const rowH = 30;
  const height = Math.max(L.length, R.length) * rowH + 20;
  const width = 900;
  const xl = 200;
  const xr = 640;
  const yOf = (list: string[], name: string): number => {
    const off = ((Math.max(L.length, R.length) - list.length) * rowH) / 2;
    return 20 + off + list.indexOf(name) * rowH;
  };
  const parts: string[] = [`<svg class="net" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="network graph">`];
  for (const e of edges) {
    const y1 = yOf(L, e.from);
    const y2 = yOf(R, e.to);
    const mx = (xl + xr) / 2;
    parts.push(`<g class="edge ${e.status}"><path d="M${xl},${y1} C${mx},${y1} ${mx},${y2} ${xr},${y2}"/>`
      + `<text x="${xr - 70}" y="${y2 - 4}">${escapeHtml(e.label)}</text><title>${escapeHtml(e.key)} (${e.status})</title></g>`);
  }
  for (const n of L) parts.push(`<g class="vertex"><circle cx="${xl}" cy="${yOf(L, n)}" r="6"/><text x="${xl - 12}" y="${yOf(L, n) + 4}" text-anchor="end">${escapeHtml(n)}</text></g>`);
  for (const n of R) {
    const st = edges.filter((e) => e.to === n).map((e) => e.status);
    const cls = edgeStatus(st);
    parts.push(`<g class="vertex ${cls}"><circle cx="${xr}" cy="${yOf(R, n)}" r="6"/><text x="${xr + 12}" y="${yOf(R, n) + 4}">${escapeHtml(n)}</text></g>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------------------------

/** A behaviour category, or the custom events of eBPF packages. */
type Section = Category | 'custom';

function diffOf(cat: Section, d: BehaviorDiff): BehaviorDiff[Category] | BehaviorDiff['custom'] {
  return cat === 'custom' ? (d.custom ?? NO_CUSTOM) : d[cat];
}

function itemTable(cat: Section, d: BehaviorDiff): string {
  const c = diffOf(cat, d);
  const rows: string[] = [];
  const add = (status: ItemStatus, e: DiffEntry): void => {
    const p = e.presence ? `${e.presence.base}/${e.presence.of} base runs${e.presence.head ? ', head' : ''}` : '';
    rows.push(`<tr class="${status}"><td><span class="badge ${status}">${status}</span></td><td><code>${escapeHtml(e.item.key)}</code></td>`
      + `<td class="num">${e.count}</td><td>${escapeHtml(e.risk.join(', '))}</td><td>${escapeHtml(p)}</td></tr>`);
  };
  const entries: Array<[ItemStatus, DiffEntry]> = [
    ...c.added.map((e) => ['added', e] as [ItemStatus, DiffEntry]), ...c.removed.map((e) => ['removed', e] as [ItemStatus, DiffEntry]),
    ...c.flaky.map((e) => ['flaky', e] as [ItemStatus, DiffEntry]),
  ];
  // a node's trace: grouped by pod, each group under a row naming it
  for (const row of byPod(entries)) {
    if (typeof row === 'string') rows.push(`<tr class="pod"><td colspan="5"><b>${row ? `<code>${escapeHtml(row)}</code>` : 'outside pods'}</b></td></tr>`);
    else add(row[0], row[1]);
  }
  if (rows.length === 0) return `<p class="empty">No changes (${c.unchanged} unchanged).</p>`;
  return `<table class="items" data-cat="${cat}"><thead><tr><th></th><th>Item</th><th>Count</th><th>Risk</th><th>Presence</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
    + `<p class="muted">${c.unchanged} unchanged.</p>`;
}

function allItems(cat: Section, d: BehaviorDiff): string {
  const items = (cat === 'custom' ? (d.head.custom ?? []) : d.head[cat]) as Array<{ key: string; count: number }>;
  if (items.length === 0) return '';
  return `<details><summary>All ${items.length} items in head</summary><table class="items all"><tbody>${items.map((i) => `<tr><td><code>${escapeHtml(i.key)}</code></td><td class="num">${i.count}</td></tr>`).join('')}</tbody></table></details>`;
}

const CSS = `
:root{--add:#1a7f37;--addbg:#dafbe1;--rem:#cf222e;--rembg:#ffebe9;--flaky:#9a6700;--flakybg:#fff8c5;--muted:#59636e;--line:#d1d9e0}
body{font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1f2328;background:#fff}
header{padding:16px 24px;border-bottom:1px solid var(--line);background:#f6f8fa}
main{padding:8px 24px 48px;max-width:1400px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
table{border-collapse:collapse}td,th{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}.num{text-align:right}
.badge{display:inline-block;font-size:11px;padding:0 6px;border-radius:10px;border:1px solid}
.badge.added{color:var(--add);background:var(--addbg)}.badge.removed{color:var(--rem);background:var(--rembg)}.badge.flaky{color:var(--flaky);background:var(--flakybg)}
tr.added td:nth-child(2){background:var(--addbg)}tr.removed td:nth-child(2){background:var(--rembg)}tr.flaky td:nth-child(2){background:var(--flakybg)}
.warn{border-left:4px solid #d4a72c;background:#fff8c5;padding:8px 12px;margin:12px 0}
.risk{border-left:4px solid var(--rem);background:var(--rembg);padding:8px 12px;margin:12px 0}
.muted,.count,.ref{color:var(--muted)}.empty{color:var(--muted);font-style:italic}
ul.tree,ul.tree ul{list-style:none;padding-left:18px;margin:0}ul.tree li{margin:1px 0}ul.args{list-style:none;padding-left:22px;margin:0 0 2px}
ul.args li code{color:var(--muted)}li.node.added>code.exe,li.node.added>details>summary>code.exe{color:var(--add);font-weight:600}
li.node.removed>code.exe,li.node.removed>details>summary>code.exe{color:var(--rem);text-decoration:line-through}
body.changes-only li.node:not([data-changed]){display:none}
svg.net path{fill:none;stroke:#8c959f;stroke-width:1.2}svg.net g.edge.added path{stroke:var(--add);stroke-width:2.5}
svg.net g.edge.removed path{stroke:var(--rem);stroke-width:2.5;stroke-dasharray:6 4}svg.net g.edge.flaky path{stroke:var(--flaky);stroke-dasharray:2 3}
svg.net g.edge text{font-size:10px;fill:var(--muted);text-anchor:middle}svg.net g.edge:hover path{stroke-width:4}
svg.net circle{fill:#fff;stroke:#57606a;stroke-width:1.5}svg.net .vertex.added circle{fill:var(--addbg);stroke:var(--add)}
svg.net .vertex.removed circle{fill:var(--rembg);stroke:var(--rem)}svg.net text{font-size:12px}
.filter{margin:8px 0}.filter input{padding:4px 8px;width:320px}
@media (prefers-color-scheme:dark){:root{color-scheme:dark;--add:#3fb950;--addbg:#12301c;--rem:#f85149;--rembg:#3a1618;--flaky:#d29922;--flakybg:#3a2d0c;--muted:#9198a1;--line:#3d444d}
body{color:#e6edf3;background:#0d1117}header{background:#161b22}.warn{background:#3a2d0c}svg.net circle{fill:#0d1117;stroke:#9198a1}svg.net text{fill:#e6edf3}}
`;

const SCRIPT = `
(function(){
  var f = document.getElementById('filter');
  if (f) f.addEventListener('input', function(){
    var q = f.value.toLowerCase();
    document.querySelectorAll('table.items tbody tr').forEach(function(tr){ tr.style.display = tr.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none'; });
  });
  var t = document.getElementById('changes-only');
  if (t) t.addEventListener('change', function(){ document.body.classList.toggle('changes-only', t.checked); });
})();
`;

export interface HtmlContext extends BehaviorRenderContext {
  /** Page title suffix, e.g. the PR. */
  title?: string;
}

/** The whole report as one HTML document. Deterministic: the same diff renders the same bytes. */
export function renderBehaviorHtml(d: BehaviorDiff, ctx: HtmlContext): string {
  const risky = riskyAdditions(d);
  const api = apiSunburstSection(d);
  const { base, head } = d.lostEvents;
  // Custom events only for traces that have them, so other reports stay as they were.
  const sections: Section[] = hasCustom(d) ? [...CATEGORIES, 'custom'] : [...CATEGORIES];
  const title = (c: Section) => (c === 'custom' ? CUSTOM_TITLE : CATEGORY_TITLES[c]);
  const summaryRows = sections
    .map((c) => {
      const x = diffOf(c, d);
      return `<tr><td>${title(c)}</td><td class="num">${x.added.length}</td><td class="num">${x.removed.length}</td><td class="num">${x.flaky.length}</td><td class="num">${x.unchanged}</td></tr>`;
    })
    .join('');
  const compared = [ctx.baseRef ? `base <code>${escapeHtml(ctx.baseRef)}</code>` : 'base', ctx.baseSha ? `@ <code>${escapeHtml(ctx.baseSha.slice(0, 12))}</code>` : '',
    d.baseRuns > 1 ? `(${d.baseRuns} runs)` : '', ctx.headSha ? `· head <code>${escapeHtml(ctx.headSha.slice(0, 12))}</code>` : ''].filter(Boolean).join(' ');
  const body: string[] = [];
  body.push(`<header><h1>Behavior diff · ${escapeHtml(ctx.job)}${ctx.title ? ` · ${escapeHtml(ctx.title)}` : ''}</h1><div class="muted">Compared with ${compared}. `
    + `Head: ${d.head.events} events${d.head.auditEvents ? `, ${d.head.auditEvents} audit events` : ''}.</div></header><main>`);
  if (base > 0 || head > 0) {
    body.push(`<div class="warn"><b>Lost events:</b> head ${head}, base ${base}. The tracer dropped events; items may be missing and the diff is low confidence.</div>`);
  }
  const guests = guestStatuses(d);
  if (guests.length > 0) {
    body.push(`<h2>Kata guests</h2><ul>${guests.map((g) => `<li><code>${escapeHtml(g.pod)}</code>${g.side === 'base' ? ' (base)' : ''}: ${escapeHtml(g.text)}</li>`).join('')}</ul>`);
  }
  body.push(`<h2>Summary</h2><table><thead><tr><th></th><th>Added</th><th>Removed</th><th>Flaky</th><th>Unchanged</th></tr></thead><tbody>${summaryRows}</tbody></table>`);
  if (risky.length > 0) {
    body.push(`<div class="risk"><b>Risky additions (${risky.length})</b><ul>${risky.map(({ category, entry }) => `<li>${CATEGORY_TITLES[category]}: <code>${escapeHtml(entry.item.key)}</code> — ${escapeHtml(entry.risk.join(', '))}</li>`).join('')}</ul></div>`);
  }
  body.push(`<h2>Process tree</h2><label><input type="checkbox" id="changes-only"> show changed branches only</label>${renderTree(processTree(d))}`);
  body.push(`<h2>Network</h2>${networkSvg(d)}`);
  const extras = behaviorExtras(d, ctx.groupBy);
  body.push(`<h2>Service graph</h2><p class="muted">Workloads and what they connected to; edges labelled protocol/port ×connections${extras.graph.groupBy ? `, grouped by <code>${escapeHtml(extras.graph.groupBy)}</code>` : ''}. `
    + `Export: <code>katabot graph --format dot|json</code>.</p>${graphHtml(extras.graph)}`);
  body.push(`<h2>Policy</h2>${policyHtml(extras.policy)}`);
  if (api) body.push(api.html);
  body.push('<h2>Items</h2><div class="filter"><input id="filter" type="search" placeholder="filter items…"></div>');
  for (const c of sections) body.push(`<h3>${title(c)}</h3>${itemTable(c, d)}${allItems(c, d)}`);
  body.push('</main>');
  const data = { job: ctx.job };
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`
    + `<title>katabot behavior · ${escapeHtml(ctx.job)}</title><style>${CSS}${SERVICE_GRAPH_CSS}${POLICY_CSS}${api?.css ?? ''}</style></head><body>${body.join('\n')}`
    + `<script type="application/json" id="katabot-data">${scriptJson(data)}</script>`
    + `<script type="application/json" id="katabot-graph">${scriptJson(extras.graph)}</script><script>${SCRIPT}</script><script>${graphViewerScript()}</script>`
    + (api ? `<script type="application/json" id="katabot-sunburst">${scriptJson(api.data)}</script><script>${api.script}</script>` : '')
    + '</body></html>\n';
}
