// The shared API sunburst: the hierarchy (level → category → operation, APISnoop's order), the partition layout,
// the arcs of a zoomed view, colours, keyboard navigation as a table, and the report's copy of the view functions
// (their own source text) drawing exactly what the module draws.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  arcLabel, arcPath, arcStyle, initialState, moveFocus, partition, STATUS_LABELS, sunburstScript, sunburstTree, viewArcs, zoomTo,
  type SunburstState,
} from '../../../src/render/sunburst.ts';

const tree = sunburstTree([
  { level: 'alpha', category: 'x', name: 'opA', status: 'untested' },
  { level: 'stable', category: 'core', name: 'opB', status: 'conformance' },
  { level: 'stable', category: 'core', name: 'opC', status: 'untested' },
  { level: 'stable', category: 'apps', name: 'opD', status: 'tested' },
  { level: null, category: '', name: 'get /x', status: 'hit' },
]);
const arcs = partition(tree);
const idx = (name: string) => arcs.findIndex((a) => a.name === name);

describe('sunburst hierarchy and layout', () => {
  it('levels stable, alpha, unknown; categories sorted; leaves by status', () => {
    assert.deepEqual(tree.children!.map((c) => c.name), ['stable', 'alpha', 'unknown']);
    assert.deepEqual(tree.children![0]!.children!.map((c) => c.name), ['apps', 'core']);
    assert.deepEqual(tree.children![0]!.children![1]!.children!.map((c) => [c.name, c.status]), [['opB', 'conformance'], ['opC', 'untested']]);
    assert.equal(tree.children![2]!.children![0]!.name, 'other', 'no category: other');
  });

  it('partition: shares of the circle by leaves, depth by ring, parents and children', () => {
    assert.equal(arcs[0]!.value, 5);
    const stable = arcs[idx('stable')]!;
    assert.deepEqual([stable.x0, stable.x1, stable.depth, stable.value], [0, 0.6, 1, 3]);
    const opC = arcs[idx('opC')]!;
    assert.deepEqual([opC.depth, opC.level, opC.category], [3, 'stable', 'core']);
    assert.ok(Math.abs(opC.x1 - 0.6) < 1e-12);
    assert.equal(arcs[opC.parent]!.name, 'core');
    assert.deepEqual(arcs[idx('core')]!.children.map((c) => arcs[c]!.name), ['opB', 'opC']);
    assert.equal(arcs[idx('core')]!.categoryIndex, 1, 'apps came first');
  });

  it('a zoomed view shows the focus\'s descendants, three rings deep', () => {
    assert.equal(viewArcs(arcs, 0).length, arcs.length - 1);
    assert.deepEqual(viewArcs(arcs, idx('stable')).map((i) => arcs[i]!.name), ['apps', 'opD', 'core', 'opB', 'opC']);
    assert.deepEqual(viewArcs(arcs, 0, 1).map((i) => arcs[i]!.name), ['stable', 'alpha', 'unknown']);
  });

  it('arc paths: rings by depth relative to the focus, angles relative to it', () => {
    // the stable ring zoomed on the root: from 12 o'clock to 0.6 of the circle (less a hairline), radii 59.5..118
    const t1 = 0.6 * 2 * Math.PI - 0.002;
    const pt = (t: number, r: number) => `${(240 + r * Math.sin(t)).toFixed(2)},${(240 - r * Math.cos(t)).toFixed(2)}`;
    assert.equal(arcPath(arcs, idx('stable'), 0, 480), `M${pt(0.002, 118)}A118,118 0 1 1 ${pt(t1, 118)}L${pt(t1, 59.5)}A59.5,59.5 0 1 0 ${pt(0.002, 59.5)}Z`);
    // zoomed on core, opB is in the first ring around the centre and takes half of it
    assert.equal(arcPath(arcs, idx('opB'), idx('core'), 480), `M${pt(0.002, 118)}A118,118 0 0 1 ${pt(Math.PI - 0.002, 118)}L${pt(Math.PI - 0.002, 59.5)}A59.5,59.5 0 0 0 ${pt(0.002, 59.5)}Z`);
  });

  it('colours: APISnoop\'s level colours; leaves fade with weaker evidence; untested follows the page', () => {
    assert.deepEqual(arcStyle(arcs, idx('stable')), { fill: 'rgb(60,180,75)', opacity: 1 });
    assert.deepEqual(arcStyle(arcs, idx('opB')), { fill: '#f58231', opacity: 1 });
    assert.deepEqual(arcStyle(arcs, idx('opD')), { fill: '#4363d8', opacity: 0.6 });
    assert.deepEqual(arcStyle(arcs, idx('opC')), { fill: 'var(--sb-untested, #d0d7de)', opacity: 1 });
  });

  it('labels say what an arc holds', () => {
    assert.equal(arcLabel(arcs, idx('core'), STATUS_LABELS), 'core: 2 operations, 1 hit by a conformance test, 1 not hit');
    assert.equal(arcLabel(arcs, idx('opD'), STATUS_LABELS), 'opD: hit by an e2e test (stable, apps)');
  });
});

describe('keyboard navigation', () => {
  const s0 = initialState(arcs);
  const name = (s: SunburstState | undefined) => s && [arcs[s.focus]!.name, arcs[s.current]!.name];
  const cases: Array<[string, SunburstState, string, [string, string] | undefined]> = [
    ['starts on the first level', s0, 'Tab', undefined],
    ['right arrow: next sibling', s0, 'ArrowRight', ['API', 'alpha']],
    ['left arrow wraps', s0, 'ArrowLeft', ['API', 'unknown']],
    ['End: last sibling', s0, 'End', ['API', 'unknown']],
    ['Enter zooms in', s0, 'Enter', ['stable', 'apps']],
    ['Space zooms in', s0, ' ', ['stable', 'apps']],
    ['Escape zooms out to where it was', { focus: idx('core'), current: idx('opC') }, 'Escape', ['stable', 'core']],
    ['Escape at the root stays', s0, 'Escape', ['API', 'stable']],
    ['Enter on an operation stays', { focus: idx('core'), current: idx('opB') }, 'Enter', ['core', 'opB']],
    ['other keys are left alone', s0, 'a', undefined],
  ];
  for (const [label, s, key, want] of cases) it(label, () => assert.deepEqual(name(moveFocus(arcs, s, key)), want));
  it('a click zooms into a ring, or onto an operation\'s category', () => {
    assert.deepEqual(name(zoomTo(arcs, idx('core'))), ['core', 'opB']);
    assert.deepEqual(name(zoomTo(arcs, idx('opC'))), ['core', 'opC']);
  });
});

describe('the report\'s copy of the view functions', () => {
  it('is the module\'s own code: the same paths, styles, labels and moves', () => {
    const run = new Function('arcs', 'labels', `${sunburstScript()}
      return { paths: viewArcs(arcs, 0).map(function(i){ return arcPath(arcs, i, 0, 480); }),
               styles: arcs.map(function(a, i){ return i === 0 ? null : arcStyle(arcs, i); }),
               label: arcLabel(arcs, 1, labels), move: moveFocus(arcs, { focus: 0, current: 1 }, 'Enter') };`) as (a: unknown, l: unknown) => Record<string, unknown>;
    const got = run(structuredClone(arcs), STATUS_LABELS);
    assert.deepEqual(got['paths'], viewArcs(arcs, 0).map((i) => arcPath(arcs, i, 0, 480)));
    assert.deepEqual(got['styles'], arcs.map((_, i) => (i === 0 ? null : arcStyle(arcs, i))));
    assert.equal(got['label'], arcLabel(arcs, 1, STATUS_LABELS));
    assert.deepEqual(got['move'], moveFocus(arcs, { focus: 0, current: 1 }, 'Enter'));
  });
});
