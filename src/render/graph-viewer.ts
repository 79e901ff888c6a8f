// The service graph's interactions, for the self-contained HTML report and the dashboard alike: pan (drag), zoom
// (wheel, buttons), fit, search (dims what does not match), and a click on a node highlights its edges and
// neighbours. It works on the SVG serviceGraphSvg renders (data-id on nodes, data-from/data-to on edges).
// attachGraphViewer must stay self-contained (no imports, no module state): the report inlines its source text.

/** The DOM members the viewer uses (the server's TypeScript has no DOM library; the browser's types satisfy these). */
interface Listening {
  addEventListener(type: string, fn: (ev: any) => void, options?: { passive?: boolean }): void;
  removeEventListener(type: string, fn: (ev: any) => void): void;
}
interface DomElement extends Listening {
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
  closest?(selector: string): DomElement | null;
  classList: { add(...names: string[]): void; remove(...names: string[]): void };
  getBoundingClientRect(): { left: number; top: number; width: number; height: number };
  getBBox?(): { x: number; y: number; width: number; height: number };
  textContent: string | null;
  value?: string;
  ownerDocument: { defaultView: Listening | null } | null;
}
interface PointerLike { clientX: number; clientY: number; deltaY: number; target: DomElement; currentTarget: DomElement; preventDefault(): void }

/** Wires the controls inside `root`; returns a function that removes the listeners. */
export function attachGraphViewer(root: DomElement): () => void {
  const svg = root.querySelector('svg.sg');
  const view = root.querySelector('g.sg-viewport');
  const win = root.ownerDocument?.defaultView;
  if (!svg || !view || !win) return () => {};
  const search = root.querySelector('input.sg-search');
  const info = root.querySelector('.sg-info');
  const box = view.getBBox ? view.getBBox() : { x: 0, y: 0, width: 800, height: 400 };
  const state = { x: 0, y: 0, k: 1, dragging: false, moved: false, lastX: 0, lastY: 0, selected: '' };
  const apply = (): void => { view.setAttribute('transform', `translate(${state.x},${state.y}) scale(${state.k})`); };
  const size = (): { w: number; h: number } => {
    const r = svg.getBoundingClientRect();
    return { w: r.width || 800, h: r.height || 480 };
  };
  const fit = (): void => {
    const { w, h } = size();
    const k = Math.min(2, Math.max(0.1, Math.min(w / (box.width + 40), h / (box.height + 40))));
    state.k = k;
    state.x = (w - box.width * k) / 2 - box.x * k;
    state.y = (h - box.height * k) / 2 - box.y * k;
    apply();
  };
  const zoomAt = (factor: number, cx: number, cy: number): void => {
    const k = Math.min(8, Math.max(0.05, state.k * factor));
    state.x = cx - ((cx - state.x) * k) / state.k;
    state.y = cy - ((cy - state.y) * k) / state.k;
    state.k = k;
    apply();
  };
  const nodes = (): DomElement[] => Array.from(root.querySelectorAll('g.sg-node'));
  const edges = (): DomElement[] => Array.from(root.querySelectorAll('g.sg-edge'));
  // dimming is an attribute, not a stylesheet rule: the dashboard's CSP allows no inline styles
  const dim = (): void => { for (const el of [...nodes(), ...edges(), ...Array.from(root.querySelectorAll('g.sg-group'))]) el.setAttribute('opacity', '0.18'); };
  const lit = (el: DomElement): void => { el.classList.add('sg-hi'); el.removeAttribute('opacity'); };
  const clear = (): void => {
    state.selected = '';
    for (const el of [...nodes(), ...edges(), ...Array.from(root.querySelectorAll('g.sg-group'))]) el.removeAttribute('opacity');
    for (const el of [...nodes(), ...edges()]) el.classList.remove('sg-hi', 'sg-match');
    if (info) info.textContent = info.getAttribute('data-default') ?? '';
  };
  const select = (id: string): void => {
    clear();
    state.selected = id;
    dim();
    const near = new Set([id]);
    let out = 0;
    let inbound = 0;
    for (const e of edges()) {
      const from = e.getAttribute('data-from');
      const to = e.getAttribute('data-to');
      if (from !== id && to !== id) continue;
      lit(e);
      if (from === id) out++; else inbound++;
      near.add(from ?? '');
      near.add(to ?? '');
    }
    for (const n of nodes()) if (near.has(n.getAttribute('data-id') ?? '')) lit(n);
    if (info) info.textContent = `${id}: ${out} outgoing, ${inbound} incoming`;
  };
  const onWheel = (ev: PointerLike): void => {
    ev.preventDefault();
    const r = svg.getBoundingClientRect();
    zoomAt(ev.deltaY < 0 ? 1.15 : 1 / 1.15, ev.clientX - r.left, ev.clientY - r.top);
  };
  const onDown = (ev: PointerLike): void => {
    state.dragging = true;
    state.moved = false;
    state.lastX = ev.clientX;
    state.lastY = ev.clientY;
  };
  const onMove = (ev: PointerLike): void => {
    if (!state.dragging) return;
    const dx = ev.clientX - state.lastX;
    const dy = ev.clientY - state.lastY;
    if (Math.abs(dx) + Math.abs(dy) > 2) state.moved = true;
    state.x += dx;
    state.y += dy;
    state.lastX = ev.clientX;
    state.lastY = ev.clientY;
    if (state.moved) apply();
  };
  const onUp = (): void => { state.dragging = false; };
  const onClick = (ev: PointerLike): void => {
    if (state.moved) return;
    const node = ev.target.closest ? ev.target.closest('g.sg-node') : null;
    const id = node?.getAttribute('data-id') ?? '';
    if (id && id !== state.selected) select(id); else clear();
  };
  const onSearch = (): void => {
    const q = (search?.value ?? '').trim().toLowerCase();
    clear();
    if (!q) return;
    dim();
    let first: DomElement | undefined;
    for (const n of nodes()) {
      const text = `${n.getAttribute('data-id') ?? ''} ${n.getAttribute('data-names') ?? ''}`.toLowerCase();
      if (!text.includes(q)) continue;
      n.classList.add('sg-match');
      lit(n);
      first ??= n;
    }
    if (info) info.textContent = first ? `${root.querySelectorAll('g.sg-node.sg-match').length} match` : 'no match';
  };
  const onButton = (ev: PointerLike): void => {
    const what = ev.currentTarget.getAttribute('data-action');
    const { w, h } = size();
    if (what === 'in') zoomAt(1.25, w / 2, h / 2);
    else if (what === 'out') zoomAt(0.8, w / 2, h / 2);
    else fit();
  };
  const listeners: Array<[Listening, string, (ev: any) => void]> = [
    [svg, 'wheel', onWheel], [svg, 'pointerdown', onDown], [win, 'pointermove', onMove], [win, 'pointerup', onUp],
    [svg, 'click', onClick], ...(search ? [[search, 'input', onSearch] as [Listening, string, (ev: any) => void]] : []),
    ...Array.from(root.querySelectorAll('button[data-action]')).map((b) => [b, 'click', onButton] as [Listening, string, (ev: any) => void]),
  ];
  // wheel must be able to preventDefault (zoom instead of scrolling the page)
  for (const [target, type, fn] of listeners) target.addEventListener(type, fn, type === 'wheel' ? { passive: false } : undefined);
  fit();
  return () => {
    for (const [target, type, fn] of listeners) target.removeEventListener(type, fn);
  };
}

/** The viewer as a script for a self-contained page: every `.sg-root` on it gets one. */
export function graphViewerScript(): string {
  return `(function(){var attach=${attachGraphViewer.toString()};document.querySelectorAll('.sg-root').forEach(function(r){attach(r);});})();`;
}
