// Custom events (trace format 1.1) in the behavior diff: read by readTraceInto, folded by identity fields into
// `<package>/<event> field=value` items, compared by key (counts shown, not compared), rendered as a section.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bufferChunks, readTraceInto } from '../../../src/behavior/read.ts';
import {
  countKinds, serializeTrace, type CustomTraceEvent, type Trace,
} from '../../../src/trace/format.ts';
import { customExec, customHeader, syscalls } from '../../fixtures/custom-trace.ts';
import { diffProfiles, diffToJson, hasChanges } from '../../../src/trace/diff.ts';
import { ProfileBuilder, profileTrace } from '../../../src/trace/profile.ts';
import { CUSTOM_TITLE, renderBehaviorComment } from '../../../src/render/behavior.ts';
import { renderBehaviorHtml } from '../../../src/render/behavior-html.ts';
import { parseIgnoreFile } from '../../../src/trace/profile-rules.ts';
import { renderProfileText } from '../../../src/cli/profile.ts';

const header = customHeader;
const exec = customExec;
const calls = syscalls;

function trace(custom: CustomTraceEvent[]): Trace {
  return {
    header: structuredClone(header) as unknown as Trace['header'],
    events: [exec],
    custom,
    footer: {
      type: 'footer', counts: countKinds([exec]), lost: { reported: 0, gap: 0, incomplete: 0, total: 0 }, malformed: 0, truncated: 0,
      duration_ms: 5, end: '2025-01-01T00:00:00.005Z', exit_code: 0, custom: { counts: { 'syscount/syscalls': custom.length }, lost: 0, malformed: 0 },
    },
  };
}

/** Through the streaming reader the behavior report uses (src/behavior/traced-run.ts). */
async function profileOf(t: Trace) {
  const b = new ProfileBuilder();
  await readTraceInto(b, bufferChunks(Buffer.from(serializeTrace(t))), 'trace');
  return b.build();
}

describe('custom events in the behavior diff', () => {
  it('readTraceInto folds custom events into items by their identity fields', async () => {
    const p = await profileOf(trace([calls(3, 'sh', 3), calls(9, 'cat', 118), calls(10, 'cat', 7)]));
    assert.deepEqual(p.custom?.map((c) => [c.key, c.count]), [['syscount/syscalls comm=cat', 2], ['syscount/syscalls comm=sh', 1]]);
    assert.equal(p.processes.length, 1, 'the seven kinds are profiled as before');
  });

  it('readTraceInto still rejects a malformed custom event, naming the line', async () => {
    const text = serializeTrace(trace([calls(3, 'sh', 3)])).replace('"package":"syscount",', '');
    await assert.rejects(readTraceInto(new ProfileBuilder(), bufferChunks(Buffer.from(text)), 't'), /t: line 2: custom event without a package/);
  });

  it('a trace whose custom events differ in one item: exactly that item is added', async () => {
    const base = await profileOf(trace([calls(3, 'sh', 3), calls(9, 'cat', 118)]));
    // Different counts (measurements) for sh and cat are not changes; curl is new.
    const head = await profileOf(trace([calls(3, 'sh', 40), calls(9, 'cat', 1), calls(11, 'curl', 5)]));
    const d = diffProfiles([base], head);
    assert.deepEqual(d.custom.added.map((e) => e.item.key), ['syscount/syscalls comm=curl']);
    assert.deepEqual(d.custom.removed, []);
    assert.equal(d.custom.unchanged, 2);
    for (const c of ['processes', 'files', 'network', 'k8sApi'] as const) assert.deepEqual([d[c].added, d[c].removed], [[], []], c);
    const json = diffToJson(d);
    assert.deepEqual(Object.keys(json), ['processes', 'files', 'network', 'k8sApi', 'custom', 'summary']);
    assert.deepEqual(json.custom, { added: [{ key: 'syscount/syscalls comm=curl', count: 1, risk: [] }], removed: [], flaky: [] });
    assert.equal(json.summary.added, 1);
    assert.ok(hasChanges(d));
    const comment = renderBehaviorComment(d, { job: 'e2e' });
    assert.ok(comment.includes(CUSTOM_TITLE), comment);
    assert.ok(comment.includes('<code>syscount/syscalls comm=curl</code>'), comment);
    assert.ok(!comment.includes('No behavior changes'));
  });

  it('identical custom events: empty diff', async () => {
    const t = trace([calls(3, 'sh', 3), calls(9, 'cat', 118)]);
    const d = diffProfiles([await profileOf(t)], await profileOf(t));
    assert.deepEqual([d.custom.added, d.custom.removed, d.custom.flaky], [[], [], []]);
    assert.equal(hasChanges(d), false);
    assert.deepEqual(diffToJson(d).custom, { added: [], removed: [], flaky: [] });
    assert.ok(renderBehaviorComment(d, { job: 'e2e' }).includes('No behavior changes'));
  });

  it('profileTrace (in memory) agrees with the streaming reader', async () => {
    const t = trace([calls(3, 'sh', 3), calls(9, 'cat', 118)]);
    assert.deepEqual(profileTrace(t).custom, (await profileOf(t)).custom);
  });

  it('the HTML report shows custom events: a summary row and the items, only for traces that have them', async () => {
    const base = await profileOf(trace([calls(3, 'sh', 3)]));
    const head = await profileOf(trace([calls(3, 'sh', 40), calls(11, 'curl', 5)]));
    const html = renderBehaviorHtml(diffProfiles([base], head), { job: 'e2e' });
    assert.match(html, new RegExp(`<tr><td>${CUSTOM_TITLE.replace(/[()]/g, '\\$&')}</td><td class="num">1</td><td class="num">0</td><td class="num">0</td><td class="num">1</td></tr>`));
    assert.match(html, /<table class="items" data-cat="custom">.*<span class="badge added">added<\/span><\/td><td><code>syscount\/syscalls comm=curl<\/code>/s);
    assert.match(html, /All 2 items in head/);
    const plain = trace([]);
    const none = renderBehaviorHtml(diffProfiles([profileTrace(plain)], profileTrace(plain)), { job: 'e2e' });
    assert.ok(!none.includes(CUSTOM_TITLE), 'no custom section without custom events');
  });

  it('--ignore rules of category custom drop custom items by key', async () => {
    const base = await profileOf(trace([calls(3, 'sh', 3)]));
    const head = await profileOf(trace([calls(3, 'sh', 3), calls(11, 'curl', 5), calls(12, 'node', 2)]));
    const ignore = parseIgnoreFile('custom: syscount/syscalls comm=no*\n', false);
    const d = diffProfiles([base], head, { ignore });
    assert.deepEqual(d.custom.added.map((e) => e.item.key), ['syscount/syscalls comm=curl']);
    assert.throws(() => parseIgnoreFile('customs: x\n'), /line 1: .* \(processes, files, network, k8sApi, custom\)/);
    // The same rules when profiling (katabot profile --ignore): the item is never recorded.
    const b = new ProfileBuilder({ ignore });
    await readTraceInto(b, bufferChunks(Buffer.from(serializeTrace(trace([calls(3, 'node', 1), calls(4, 'sh', 1)])))), 'trace');
    assert.deepEqual(b.build().custom?.map((c) => c.key), ['syscount/syscalls comm=sh']);
  });

  it('katabot profile prints custom items in their own section', async () => {
    const text = renderProfileText(await profileOf(trace([calls(3, 'sh', 3), calls(9, 'cat', 118), calls(10, 'cat', 7)])));
    assert.match(text, new RegExp(`\\n${CUSTOM_TITLE.replace(/[()]/g, '\\$&')} \\(2\\)\\n  syscount/syscalls comm=cat  ×2\\n  syscount/syscalls comm=sh\\n$`));
    assert.ok(!renderProfileText(profileTrace(trace([]))).includes(CUSTOM_TITLE));
  });

  it('traces without custom events: no custom items, an empty custom category', () => {
    const t = trace([]);
    const p = profileTrace(t);
    assert.equal('custom' in p, false);
    assert.deepEqual(diffToJson(diffProfiles([p], p)).custom, { added: [], removed: [], flaky: [] });
  });
});
