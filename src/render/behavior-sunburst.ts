// The API sunburst of the behavior report (level → category → operation, as APISnoop draws it): the operations
// head called plus those it stopped calling, coloured by change (added / removed / flaky) or, switched, by who
// called them (a conformance test, another e2e test, something else). Laid out and drawn by the dashboard's own
// module (src/render/sunburst.ts): its layout is computed here, its view functions run in the page.
import {
  partition, STATUS_FILLS, STATUS_LABELS, sunburstScript, sunburstTree, swatchStyle, type Arc, type SunburstNode,
} from './sunburst.ts';
import { skipsText } from '../trace/audit-parse.ts';
import type { BehaviorDiff, DiffEntry } from '../trace/diff.ts';
import type { ApiItem } from '../trace/profile.ts';
import { escapeHtml } from './html.ts';


function statusOf(c: { added: DiffEntry[]; removed: DiffEntry[]; flaky: DiffEntry[] }): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of c.added) m.set(e.item.key, 'added');
  for (const e of c.removed) m.set(e.item.key, 'removed');
  for (const e of c.flaky) m.set(e.item.key, 'flaky');
  return m;
}

function apiItems(d: BehaviorDiff): ApiItem[] {
  const items = new Map<string, ApiItem>();
  for (const a of d.head.k8sApi) items.set(a.key, a);
  for (const e of [...d.k8sApi.removed, ...d.k8sApi.flaky]) items.set(e.item.key, e.item);
  return [...items.values()];
}

/** The hierarchy of operations, leaves by change status (one leaf per operation: a change wins over same). */
export function apiSunburst(d: BehaviorDiff): SunburstNode | undefined {
  const status = statusOf(d.k8sApi);
  const items = apiItems(d);
  if (items.length === 0) return undefined;
  const leaves = new Map<string, { level: ApiItem['level']; category: string; name: string; status: string }>();
  for (const a of items) {
    const name = a.operationId ?? a.key;
    const st = status.get(a.key) ?? 'same';
    const prev = leaves.get(name);
    if (!prev || prev.status === 'same') leaves.set(name, { level: a.level, category: a.category || a.group, name, status: st });
  }
  return sunburstTree([...leaves.values()]);
}

/**
 * Who called each operation, from the attribution of its calls (`user agent (principal)`, the e2e framework putting
 * the test in the user agent): a conformance test, another e2e test, or something else.
 */
function apiCallers(d: BehaviorDiff): Map<string, 'conformance' | 'tested' | 'hit'> {
  const rank = { hit: 0, tested: 1, conformance: 2 } as const;
  const out = new Map<string, 'conformance' | 'tested' | 'hit'>();
  for (const a of apiItems(d)) {
    const name = a.operationId ?? a.key;
    let s: 'conformance' | 'tested' | 'hit' = 'hit';
    for (const by of a.by) {
      if (by.includes('[Conformance]')) s = 'conformance';
      else if (by.startsWith('e2e.test') && s === 'hit') s = 'tested';
    }
    const prev = out.get(name);
    if (!prev || rank[s] > rank[prev]) out.set(name, s);
  }
  return out;
}

/** Which spec named the operations, and what of head's audit log could not be read. */
function notes(d: BehaviorDiff): string {
  const s = d.head.apiSpec;
  const spec = !s ? '' : s.source === 'job' ? `Operations named with the job's own /openapi/v2 (${s.name}).`
    : s.source === 'config' ? 'Operations named with KATABOT_OPENAPI.' : 'No OpenAPI spec for this run: calls are keyed by verb and resource.';
  const skipped = skipsText(d.head.auditSkipped);
  return [spec, skipped ? `Head's audit log: ${skipped}.` : ''].filter(Boolean).join(' ');
}

function swatch(fill: string, opacity: number, label: string): string {
  return `<span class="sw" style="background:${fill};opacity:${opacity}"></span>${escapeHtml(label)}`;
}

const CSS = `
#sunburst{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap}#sb-svg{max-width:100%;height:auto}
#sb-svg path{stroke:var(--sb-gap,#fff);stroke-width:1;cursor:pointer}#sb-svg path:focus{outline:none;stroke:var(--sb-focus,#0969da);stroke-width:3}
#sb-svg .sb-centre{fill:var(--sb-centre,#f6f8fa);cursor:pointer}#sb-svg text{fill:currentColor;font-size:12px;pointer-events:none}
#sb-info{min-width:280px;max-width:520px}.legend{margin:6px 0}.legend .sw{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;border-radius:2px}
.sb-colour{margin:6px 0}
@media (prefers-color-scheme:dark){:root{--sb-gap:#0d1117;--sb-centre:#161b22;--sb-untested:#30363d;--sb-focus:#58a6ff}}
`;

const DRIVER = `
(function(){
  var el = document.getElementById('katabot-sunburst'); if (!el) return;
  var data = JSON.parse(el.textContent), arcs = data.arcs, LABELS = data.labels, SIZE = 480, NS = 'http://www.w3.org/2000/svg';
  var svg = document.getElementById('sb-svg'), info = document.getElementById('sb-info');
  var state = { focus: 0, current: arcs[0].children[0] || 0 };
  function say(i){ info.textContent = arcLabel(arcs, i, LABELS); }
  function draw(takeFocus){
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var f = arcs[state.focus], ring = (SIZE / 2 - 2) / 4;
    var c = document.createElementNS(NS, 'circle');
    c.setAttribute('cx', SIZE / 2); c.setAttribute('cy', SIZE / 2); c.setAttribute('r', ring - 2); c.setAttribute('class', 'sb-centre');
    c.addEventListener('click', function(){ var n = moveFocus(arcs, state, 'Escape'); if (n) { state = n; draw(true); } });
    svg.appendChild(c);
    var t = document.createElementNS(NS, 'text');
    t.setAttribute('x', SIZE / 2); t.setAttribute('y', SIZE / 2 + 4); t.setAttribute('text-anchor', 'middle');
    t.textContent = f.name + ' (' + f.value + ')'; svg.appendChild(t);
    viewArcs(arcs, state.focus).forEach(function(i){
      var p = document.createElementNS(NS, 'path'), s = arcStyle(arcs, i);
      p.setAttribute('d', arcPath(arcs, i, state.focus, SIZE));
      p.setAttribute('style', 'fill:' + s.fill + ';fill-opacity:' + s.opacity);
      p.setAttribute('role', 'treeitem'); p.setAttribute('aria-level', String(arcs[i].depth));
      p.setAttribute('aria-label', arcLabel(arcs, i, LABELS)); p.setAttribute('tabindex', i === state.current ? '0' : '-1');
      p.setAttribute('data-i', String(i));
      var title = document.createElementNS(NS, 'title'); title.textContent = arcLabel(arcs, i, LABELS); p.appendChild(title);
      p.addEventListener('click', function(){ state = zoomTo(arcs, i); draw(true); });
      p.addEventListener('focus', function(){ say(i); });
      p.addEventListener('mouseover', function(){ say(i); });
      svg.appendChild(p);
    });
    if (takeFocus) { var cur = svg.querySelector('[data-i="' + state.current + '"]'); if (cur) cur.focus(); }
  }
  svg.addEventListener('keydown', function(e){
    var n = moveFocus(arcs, state, e.key); if (!n) return;
    e.preventDefault(); state = n; draw(true);
  });
  var sel = document.getElementById('sb-colour');
  if (sel) sel.addEventListener('change', function(){
    var by = data.statuses[sel.value];
    arcs.forEach(function(a, i){ if (by[i] !== null) a.status = by[i]; });
    draw(false);
  });
  draw(false);
})();
`;

export interface SunburstSection {
  html: string;
  /** The layout and its two colourings, for a `<script type="application/json" id="katabot-sunburst">`. */
  data: { arcs: Arc[]; labels: Record<string, string>; statuses: { change: Array<string | null>; callers: Array<string | null> } };
  /** The page script: the dashboard module's view functions, then the report's drawing. */
  script: string;
  css: string;
}

/** The report's Kubernetes API section with its sunburst; undefined when head and base made no API calls. */
export function apiSunburstSection(d: BehaviorDiff): SunburstSection | undefined {
  const tree = apiSunburst(d);
  if (!tree) return undefined;
  const arcs = partition(tree);
  const callers = apiCallers(d);
  const statuses = {
    change: arcs.map((a) => (a.children.length === 0 ? a.status ?? 'same' : null)),
    callers: arcs.map((a) => (a.children.length === 0 ? callers.get(a.name) ?? 'hit' : null)),
  };
  const sample = (status: string) => swatchStyle({ status });
  const legend = ['stable', 'beta', 'alpha'].map((l) => swatch(swatchStyle({ level: l }).fill, 1, l)).join('')
    + ' · operations' + ['added', 'removed', 'flaky'].map((s) => swatch(STATUS_FILLS[s]!, 1, STATUS_LABELS[s]!)).join('')
    + swatch(sample('same').fill, sample('same').opacity, 'unchanged (its category\'s colour)')
    + ' · by caller' + ['conformance', 'tested', 'hit'].map((s) => swatch(sample(s).fill, sample(s).opacity, STATUS_LABELS[s]!)).join('');
  const html = '<h2>Kubernetes API</h2><p class="muted">Level → category → operation, as APISnoop draws it. Click an arc to zoom in, the centre to zoom out; '
    + 'with the keyboard, Tab to the chart, arrows move, Enter zooms in, Escape zooms out.</p>'
    + (notes(d) ? `<p class="muted">${escapeHtml(notes(d))}</p>` : '')
    + `<div class="legend">levels${legend}</div>`
    + '<div class="sb-colour"><label>Colour operations by <select id="sb-colour"><option value="change">change</option><option value="callers">caller (conformance, e2e, other)</option></select></label></div>'
    + '<div id="sunburst"><svg id="sb-svg" viewBox="0 0 480 480" width="480" height="480" role="tree" aria-label="Kubernetes API operations, by level and category"></svg>'
    + '<div id="sb-info" class="muted" aria-live="polite">Hover or focus an arc.</div></div>';
  return { html, data: { arcs, labels: { ...STATUS_LABELS }, statuses }, script: `${sunburstScript()}\n${DRIVER}`, css: CSS };
}
