// The API sunburst (level → category → operation) as a Preact component, drawn by the same module as the HTML
// report's (src/render/sunburst.ts). Click an arc to zoom in, the centre or a breadcrumb to zoom out; Tab into the
// chart, then arrows move, Enter zooms in, Escape zooms out. Colours follow the page's light or dark theme.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  arcLabel, arcPath, arcStyle, initialState, moveFocus, partition, STATUS_LABELS, swatchStyle, viewArcs, zoomTo, type SunburstNode, type SunburstState,
} from '../../src/render/sunburst.ts';

const SIZE = 480;

export function SunburstLegend({ statuses }: { statuses: string[] }) {
  return (
    <p class="sb-legend">
      <span class="sb-legend-group">levels</span>
      {['stable', 'beta', 'alpha'].map((l) => (
        <span class="sb-key">
          <span class="sb-swatch" style={{ background: swatchStyle({ level: l }).fill }} />
          {l}
        </span>
      ))}
      <span class="sb-legend-group">operations</span>
      {statuses.map((s) => {
        const st = swatchStyle({ status: s });
        return (
          <span class="sb-key">
            <span class="sb-swatch" style={{ background: st.fill, opacity: String(st.opacity) }} />
            {STATUS_LABELS[s] ?? s}
          </span>
        );
      })}
    </p>
  );
}

export function Sunburst({ tree, label }: { tree: SunburstNode; label: string }) {
  const arcs = useMemo(() => partition(tree), [tree]);
  const [state, setState] = useState<SunburstState>(() => initialState(arcs));
  const [hover, setHover] = useState<number | undefined>(undefined);
  const svg = useRef<SVGSVGElement>(null);
  const takeFocus = useRef(false);

  // new data (a refresh, another run) starts from the whole circle again
  useEffect(() => setState(initialState(arcs)), [arcs]);
  useEffect(() => {
    if (!takeFocus.current) return;
    takeFocus.current = false;
    svg.current?.querySelector<SVGPathElement>(`[data-i="${state.current}"]`)?.focus();
  }, [state]);

  const go = (s: SunburstState) => {
    takeFocus.current = true;
    setState(s);
  };
  const focus = arcs[state.focus] ?? arcs[0]!;
  const ring = (SIZE / 2 - 2) / 4;
  const trail: number[] = [];
  for (let i = state.focus; i >= 0; i = arcs[i]!.parent) trail.unshift(i);
  const shown = hover ?? state.current;

  return (
    <div class="sunburst">
      <svg
        ref={svg}
        class="sb-svg"
        viewBox={`0 0 ${SIZE} ${SIZE}`}
        role="tree"
        aria-label={label}
        onKeyDown={(e) => {
          const n = moveFocus(arcs, state, e.key);
          if (!n) return;
          e.preventDefault();
          go(n);
        }}
      >
        <circle
          class="sb-centre"
          cx={SIZE / 2}
          cy={SIZE / 2}
          r={ring - 2}
          onClick={() => {
            const n = moveFocus(arcs, state, 'Escape');
            if (n) go(n);
          }}
        >
          <title>{focus.parent >= 0 ? 'Zoom out' : focus.name}</title>
        </circle>
        <text class="sb-centre-label" x={SIZE / 2} y={SIZE / 2 + 5} text-anchor="middle">
          {focus.name}
        </text>
        {viewArcs(arcs, state.focus).map((i) => {
          const st = arcStyle(arcs, i);
          const text = arcLabel(arcs, i, STATUS_LABELS);
          return (
            <path
              key={i}
              data-i={i}
              class="sb-arc"
              d={arcPath(arcs, i, state.focus, SIZE)}
              style={{ fill: st.fill, fillOpacity: String(st.opacity) }}
              role="treeitem"
              aria-level={arcs[i]!.depth}
              aria-label={text}
              tabIndex={i === state.current ? 0 : -1}
              onClick={() => go(zoomTo(arcs, i))}
              onFocus={() => setState((s) => (s.current === i ? s : { ...s, current: i }))}
              onMouseEnter={() => setHover(i)}
              onMouseLeave={() => setHover(undefined)}
            >
              <title>{text}</title>
            </path>
          );
        })}
      </svg>
      <div class="sb-side">
        <nav class="sb-trail" aria-label="Zoom">
          {trail.map((i, n) => (
            <>
              {n > 0 && <span aria-hidden="true"> › </span>}
              {i === state.focus ? (
                <strong>{arcs[i]!.name}</strong>
              ) : (
                <button type="button" class="link-button" onClick={() => go({ focus: i, current: trail[n + 1] ?? arcs[i]!.children[0] ?? i })}>
                  {arcs[i]!.name}
                </button>
              )}
            </>
          ))}
        </nav>
        <p class="sb-info" aria-live="polite">
          {arcs[shown] ? arcLabel(arcs, shown, STATUS_LABELS) : ''}
        </p>
      </div>
    </div>
  );
}
