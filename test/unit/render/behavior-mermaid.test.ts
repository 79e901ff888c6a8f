// The mermaid graphs of the PR comment parse with mermaid's own parser (the one GitHub renders with), whatever
// characters the keys hold; added edges are green, removed ones red and dotted.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { networkMermaid, processMermaid } from '../../../src/render/behavior-mermaid.ts';
import { COLORS, mermaidText } from '../../../src/render/mermaid.ts';
import { renderBehaviorComment } from '../../../src/render/behavior.ts';
import { diffProfiles } from '../../../src/trace/diff.ts';
import type { TraceEvent, TraceFooter, TraceHeader } from '../../../src/trace/format.ts';
import { profileTrace } from '../../../src/trace/profile.ts';
import { loadMermaid, type Mermaid } from '../../fixtures/mermaid.ts';

let mermaid: Mermaid;
before(async () => { mermaid = await loadMermaid(); });

const header: TraceHeader = {
  type: 'header', format: 'katabot-trace', version: '1.0', katabot: '0.1.0', source: 'bpftrace', bpftrace: null, kernel: null, host: null,
  start: '2025-01-01T00:00:00.000Z', target: { mode: 'command' },
};
const footer: TraceFooter = {
  type: 'footer', counts: { exec: 0, exit: 0, open: 0, connect: 0, accept: 0, listen: 0, dns: 0 }, lost: { reported: 0, gap: 0, incomplete: 0, total: 0 },
  malformed: 0, truncated: 0, duration_ms: 1, end: '', exit_code: 0,
};
const ev = (e: Partial<TraceEvent> & Pick<TraceEvent, 'kind'>): TraceEvent => ({ type: 'event', ts: 0, pid: 10, ...e });
const profile = (events: TraceEvent[]) => profileTrace({ header, events, footer });

const nasty = ['a"b', 'x|y', '[z]', '{w}', '<tmp>', 'semi;colon', 'hash#1', 'amp&', 'back`tick', '--> arrow', 'end', 'graph TD', '%% comment', 'unicode→ü'];

const base = profile([
  ev({ kind: 'exec', pid: 1, exe: '/usr/bin/make', argv: ['make'], result: 0 }),
  ev({ kind: 'exec', pid: 2, ppid: 1, exe: '/usr/bin/sh', parent_exe: '/usr/bin/make', argv: ['sh', '-c', 'build'], result: 0 }),
  ev({ kind: 'exec', pid: 3, ppid: 2, exe: '/usr/bin/old', parent_exe: '/usr/bin/sh', argv: ['old'], result: 0 }),
  ev({ kind: 'connect', pid: 2, exe: '/usr/bin/sh', proto: 'tcp', daddr: '10.0.0.1', dport: 5432, result: 0 }),
]);
const head = profile([
  ev({ kind: 'exec', pid: 1, exe: '/usr/bin/make', argv: ['make'], result: 0 }),
  ev({ kind: 'exec', pid: 2, ppid: 1, exe: '/usr/bin/sh', parent_exe: '/usr/bin/make', argv: ['sh', '-c', 'build'], result: 0 }),
  ...nasty.map((s, i) => ev({ kind: 'exec', pid: 10 + i, ppid: 2, exe: `/opt/${s}/tool`, parent_exe: '/usr/bin/sh', argv: ['tool', s], result: 0 })),
  ev({ kind: 'dns', pid: 2, exe: '/usr/bin/sh', proto: 'udp', query: 'api.example.com', qtype: 'A' }),
  ev({ kind: 'connect', pid: 2, exe: '/usr/bin/sh', proto: 'tcp', daddr: '93.184.216.34', dport: 443, result: 0 }),
  ev({ kind: 'listen', pid: 2, exe: '/usr/bin/sh', proto: 'tcp', saddr: '0.0.0.0', sport: 8080 }),
  ev({ kind: 'accept', pid: 2, exe: '/usr/bin/sh', proto: 'tcp', saddr: '0.0.0.0', sport: 8080, daddr: '10.1.1.1', dport: 40000 }),
]);
const d = diffProfiles([base], head);

describe('mermaid graphs', () => {
  it('the process graph parses and colours added and removed edges', async () => {
    const m = processMermaid(d)!;
    await mermaid.parse(m);
    assert.match(m, /^flowchart LR\n/);
    assert.match(m, new RegExp(`linkStyle [0-9,]+ stroke:${COLORS.added},stroke-width:2px`));
    assert.match(m, new RegExp(`linkStyle [0-9,]+ stroke:${COLORS.removed},stroke-width:2px`));
    assert.match(m, /-\.->/, 'removed edges are dotted');
    assert.match(m, /class [n0-9,]+ added/);
    assert.match(m, /class [n0-9,]+ removed/);
    assert.match(m, /n\d+\["\/usr\/bin\/make"\] *\n/, 'context: the unchanged parent of a changed edge');
  });

  it('the network graph parses', async () => {
    const m = networkMermaid(d)!;
    await mermaid.parse(m);
    assert.match(m, /\|"tcp\/443"\|/);
    assert.match(m, /api\.example\.com/);
  });

  it('every graph in a rendered comment parses', async () => {
    const md = renderBehaviorComment(d, { job: 'j' });
    const blocks = [...md.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1]!);
    // the process tree, the network topology and the service graph
    assert.equal(blocks.length, 3);
    assert.match(blocks[2]!, /^flowchart LR\n[\s\S]* {2}s\d\["job"\]/);
    for (const b of blocks) await mermaid.parse(b);
  });

  it('caps the number of edges and says how many are left out', async () => {
    const many = profile(Array.from({ length: 80 }, (_, i) => ev({ kind: 'exec', pid: 100 + i, exe: `/bin/t${i}`, parent_exe: '/usr/bin/sh', argv: [`t${i}`], result: 0 })));
    const m = processMermaid(diffProfiles([profile([])], many), 20)!;
    await mermaid.parse(m);
    assert.match(m, /…and \d+ more changes/);
  });

  it('labels escape what the grammar would read', async () => {
    for (const s of nasty) {
      const t = mermaidText(s);
      assert.doesNotMatch(t, /["<>|[\]{}`]/, s);
      await mermaid.parse(`flowchart LR\n  a["${t}"] -->|"${t}"| b["x"]`);
    }
  });

  it('no changes, no graph', () => {
    const same = diffProfiles([base], base);
    assert.equal(processMermaid(same), undefined);
    assert.equal(networkMermaid(same), undefined);
  });
});
