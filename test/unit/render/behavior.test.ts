// The behavior diff as a PR comment, a check run and an HTML report: summary table, collapsible sections, lost-events
// warning, discovery hidden, risk → action_required, and the 65,535-character limit with a link to the full report.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  behaviorCheckRun, behaviorCheckRunName, behaviorCommentMarker, GITHUB_TEXT_LIMIT, renderBehaviorComment,
} from '../../../src/render/behavior.ts';
import { processTree, renderBehaviorHtml } from '../../../src/render/behavior-html.ts';
import { apiSunburst } from '../../../src/render/behavior-sunburst.ts';
import { diffProfiles, type BehaviorDiff } from '../../../src/trace/diff.ts';
import type { TraceEvent, TraceFooter, TraceHeader } from '../../../src/trace/format.ts';
import { ProfileBuilder, profileTrace, type BehaviorProfile } from '../../../src/trace/profile.ts';

const header: TraceHeader = {
  type: 'header', format: 'katabot-trace', version: '1.0', katabot: '0.1.0', source: 'bpftrace', bpftrace: 'v0.17.0', kernel: '6.1', host: 'h',
  start: '2025-01-01T00:00:00.000Z', target: { mode: 'command' },
};
const footer = (lost = 0): TraceFooter => ({
  type: 'footer', counts: { exec: 0, exit: 0, open: 0, connect: 0, accept: 0, listen: 0, dns: 0 }, lost: { reported: lost, gap: 0, incomplete: 0, total: lost },
  malformed: 0, truncated: 0, duration_ms: 1, end: '', exit_code: 0,
});
const ev = (e: Partial<TraceEvent> & Pick<TraceEvent, 'kind'>): TraceEvent => ({ type: 'event', ts: 0, pid: 10, ...e });
const exec = (parent: string, exe: string, ...args: string[]): TraceEvent => ev({ kind: 'exec', exe, parent_exe: parent, argv: [exe, ...args], result: 0 });
const open = (path: string, write = false): TraceEvent => ev({ kind: 'open', exe: '/usr/bin/sh', path, flags: write ? ['write', 'create'] : ['read'], result: 3 });
const connect = (daddr: string, dport: number): TraceEvent => ev({ kind: 'connect', exe: '/usr/bin/sh', proto: 'tcp', daddr, dport, result: 0 });

const common = [exec('/usr/bin/make', '/usr/bin/sh', '-c', 'build'), open('/etc/hosts'), connect('127.0.0.1', 8080)];
const profile = (events: TraceEvent[], lost = 0): BehaviorProfile => profileTrace({ header, events: [...common, ...events], footer: footer(lost) });

function withApi(p: BehaviorProfile, items: Array<[string, boolean]>): BehaviorProfile {
  const b = new ProfileBuilder();
  for (const [key, discovery] of items) {
    b.addApi({ key, verb: key.split(' ')[0]!, apiVersion: 'v1', resource: key.split(' ')[2] ?? '', operationId: null, level: 'stable', group: 'core', category: 'core', discovery }, 'kubectl (sa:ns/x)');
  }
  return { ...p, k8sApi: b.build().k8sApi, auditEvents: items.length };
}

const ctx = { job: 'kata-e2e', baseRef: 'main', baseSha: '0123456789abcdef', headSha: 'fedcba9876543210', reportUrl: 'https://katabot.example/behavior/r1' };

describe('PR comment', () => {
  it('no changes: marker, heading, counts, no sections', () => {
    const d = diffProfiles([profile([])], profile([]));
    const md = renderBehaviorComment(d, ctx);
    assert.ok(md.startsWith(behaviorCommentMarker('kata-e2e')));
    assert.match(md, /### Behavior diff · `kata-e2e`/);
    assert.match(md, /Compared with `main` @ `0123456789ab` · head `fedcba987654`\./);
    assert.match(md, /\*\*No behavior changes\.\*\*/);
    assert.match(md, /\| Processes \| 0 \| 0 \| 1 \|/);
    assert.doesNotMatch(md, /<details>/);
    assert.doesNotMatch(md, /WARNING/);
  });

  it('changes: summary table, risky additions, collapsible sections with mermaid and escaped keys', () => {
    const d = diffProfiles([profile([exec('/usr/bin/sh', '/usr/bin/old-tool')])], profile([
      exec('/usr/bin/sh', '/usr/bin/sudo', 'id'), open('/etc/app|x.conf', true), connect('8.8.8.8', 53),
    ]));
    const md = renderBehaviorComment(d, ctx);
    assert.match(md, /\| Processes \| 1 \| 1 \| 1 \|/);
    assert.match(md, /\*\*Risky additions \(3\)\*\*/);
    assert.match(md, /<details><summary><b>Processes<\/b> · \+1 −1<\/summary>/);
    assert.match(md, /```mermaid\nflowchart LR/);
    assert.match(md, /\| \+ \| <code>\/usr\/bin\/sh → \/usr\/bin\/sudo id<\/code> \| 1 \| setuid\/privileged exec \|/);
    assert.match(md, /\| − \| <code>\/usr\/bin\/sh → \/usr\/bin\/old-tool<\/code> \| 1 \|/);
    assert.match(md, /<code>write \/etc\/app&#124;x\.conf<\/code>/, 'pipes must not break the table');
    assert.match(md, /\[Full behavior report\]\(https:\/\/katabot\.example\/behavior\/r1\)/);
  });

  it('warns when either side lost events', () => {
    const md = renderBehaviorComment(diffProfiles([profile([], 0)], profile([], 12)), ctx);
    assert.match(md, /> \[!WARNING\]\n> \*\*Lost events:\*\* the head trace lost 12 events\./);
    const both = renderBehaviorComment(diffProfiles([profile([], 1)], profile([], 2)), ctx);
    assert.match(both, /the head trace lost 2 events and the base trace lost 1 event/);
  });

  it('hides API discovery unless asked', () => {
    const base = withApi(profile([]), [['get v1 pods', false]]);
    const head = withApi(profile([]), [['get v1 pods', false], ['get /apis', true], ['create v1 configmaps', false]]);
    const d = diffProfiles([base], head);
    const md = renderBehaviorComment(d, ctx);
    assert.match(md, /\| Kubernetes API \| 1 \| 0 \| 1 \|/);
    assert.doesNotMatch(md, /get \/apis/);
    assert.match(md, /1 API discovery change .* not shown/);
    assert.match(renderBehaviorComment(d, { ...ctx, showDiscovery: true }), /<code>get \/apis<\/code>/);
  });

  it('flaky items are listed apart, with their presence in the base runs', () => {
    const b1 = profile([open('/var/cache/x')]);
    const b2 = profile([]);
    const md = renderBehaviorComment(diffProfiles([b1, b2], profile([open('/var/cache/x')])), ctx);
    assert.match(md, /Compared with `main` @ `0123456789ab` \(2 base runs\)/);
    assert.match(md, /<b>Flaky<\/b> · 1 item varied between base runs/);
    assert.match(md, /\| Files \| <code>read \/var\/cache\/x<\/code> \| 1\/2 \| yes \|/);
  });

  describe('truncation at GitHub\'s limit', () => {
    // one file per top-level directory: nothing to collapse
    const many = (n: number, tag: string) => Array.from({ length: n }, (_, i) => open(`/${tag}-dir${i}/${'x'.repeat(60)}-${i}.dat`));
    const big = diffProfiles([profile(many(3000, 'old'))], profile(many(3000, 'new')));

    it('stays within 65,535 characters and links the full report', () => {
      const md = renderBehaviorComment(big, ctx);
      assert.ok(md.length <= GITHUB_TEXT_LIMIT, String(md.length));
      assert.match(md, /This comment was shortened to fit GitHub's limit; see the \[full report\]\(https:\/\/katabot\.example\/behavior\/r1\)/);
      assert.match(md, /…and \d+ more; see the \[full report\]/);
      assert.match(md, /\| Files \| 3000 \| 3000 \| 2 \|/, 'the summary keeps the real counts');
      assert.ok(md.startsWith(behaviorCommentMarker('kata-e2e')));
    });

    it('honours any limit exactly, down to the last resort cut', () => {
      for (const limit of [40_000, 5_000, 1_200]) {
        const md = renderBehaviorComment(big, { ...ctx, limit });
        assert.ok(md.length <= limit, `${md.length} > ${limit}`);
        assert.match(md, /shortened to fit/);
      }
    });

    it('a diff that fits is not shortened', () => {
      const md = renderBehaviorComment(diffProfiles([profile([])], profile(many(5, 'a'))), ctx);
      assert.doesNotMatch(md, /shortened/);
    });
  });
});

describe('check run', () => {
  it('neutral when nothing changed; its summary matches the comment', () => {
    const d = diffProfiles([profile([])], profile([]));
    const run = behaviorCheckRun(d, ctx);
    assert.equal(run.name, 'katabot / behavior (kata-e2e)');
    assert.equal(run.name, behaviorCheckRunName('kata-e2e'));
    assert.deepEqual([run.status, run.conclusion, run.output.title], ['completed', 'neutral', 'No behavior changes']);
    assert.ok(renderBehaviorComment(d, ctx).includes(run.output.summary));
    assert.equal(run.output.text, undefined);
  });
  it('neutral for harmless changes, action_required for risky additions', () => {
    const harmless = behaviorCheckRun(diffProfiles([profile([])], profile([open('/srv/data')])), ctx);
    assert.deepEqual([harmless.conclusion, harmless.output.title], ['neutral', '1 added, 0 removed']);
    const risky = behaviorCheckRun(diffProfiles([profile([])], profile([open('/etc/shadow'), open('/srv/x')])), ctx);
    assert.deepEqual([risky.conclusion, risky.output.title], ['action_required', '1 risky addition, 2 added, 0 removed']);
    assert.match(risky.output.summary, /reads a secret/);
    assert.match(risky.output.text!, /<details>/);
    assert.ok(risky.output.summary.length <= GITHUB_TEXT_LIMIT);
  });
});

describe('HTML report', () => {
  const base = withApi(profile([exec('/usr/bin/sh', '/usr/bin/old-tool')]), [['get v1 pods', false]]);
  const head = withApi(profile([exec('/usr/bin/sh', '/usr/bin/curl', '<script>alert(1)</script>'), connect('10.0.0.9', 443)]), [['get v1 pods', false], ['create v1 secrets', false]]);
  const d: BehaviorDiff = diffProfiles([base], head, {});
  const html = renderBehaviorHtml(d, ctx);

  it('is self-contained: no external scripts, styles, images or fonts', () => {
    assert.ok(html.startsWith('<!doctype html>'));
    assert.doesNotMatch(html, /<script[^>]+src=/i);
    assert.doesNotMatch(html, /<link[^>]+href=/i);
    assert.doesNotMatch(html, /url\(\s*['"]?https?:/i);
    assert.doesNotMatch(html, /<img /i);
  });

  it('escapes item text and embeds data safely', () => {
    assert.doesNotMatch(html, /<script>alert\(1\)<\/script>/);
    assert.match(html, /&lt;script&gt;alert\(&lt;n&gt;\)&lt;\/script&gt;/);
    const data = /<script type="application\/json" id="katabot-data">(.*?)<\/script>/s.exec(html)![1]!;
    assert.doesNotMatch(data, /<\//);
    assert.equal(JSON.parse(data).job, 'kata-e2e');
  });

  it('has the process tree, the network graph and the API sunburst', () => {
    assert.match(html, /<ul class="tree">/);
    assert.match(html, /<svg class="net"/);
    assert.match(html, /id="sb-svg"/);
    const tree = processTree(d);
    const sh = tree.find((n) => n.exe === '/usr/bin/make')!.children.find((c) => c.exe === '/usr/bin/sh')!;
    assert.deepEqual(sh.children.map((c) => [c.exe, c.status]), [['/usr/bin/curl', 'added'], ['/usr/bin/old-tool', 'removed']]);
    const sb = apiSunburst(d)!;
    assert.deepEqual(sb.children![0]!.children![0]!.children!.map((l) => [l.name, l.status]), [['create v1 secrets', 'added'], ['get v1 pods', 'same']]);
  });

  it('is deterministic', () => {
    assert.equal(renderBehaviorHtml(diffProfiles([base], head), ctx), html);
  });
});
