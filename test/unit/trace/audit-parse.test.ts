// Lenient audit log reading: which lines are skipped and why, on a real audit.k8s.io/v1 Event (APISnoop's testdata,
// test/fixtures/k8s/README.md) cut and altered the ways real logs break (rotation mid-line, other API versions,
// missing fields, webhook batches); the counts by reason with their first places; the bounded per-request dedupe.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  AuditDeduper, auditEventsOf, eventsOfLine, SKIP_PLACES, SkipCounter, skipsText, type AuditEvent, type SkipReason,
} from '../../../src/trace/audit-parse.ts';

const REAL = JSON.parse(readFileSync(new URL('../../fixtures/k8s/apisnoop-audit-event.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const line = (o: unknown) => JSON.stringify(o);
const without = (k: string) => Object.fromEntries(Object.entries(REAL).filter(([key]) => key !== k));

describe('audit lines: read or skipped, by reason', () => {
  const cases: Array<{ name: string; line: string; events: number; skipped?: SkipReason[] }> = [
    { name: 'the real event', line: line(REAL), events: 1 },
    { name: 'the real event, pretty-printed over one line with spaces', line: JSON.stringify(REAL, null, 1).replace(/\n/g, ' '), events: 1 },
    { name: 'a line cut by log rotation', line: line(REAL).slice(0, 180), events: 0, skipped: ['bad JSON'] },
    { name: 'not JSON at all', line: 'I0203 19:34:21.841091 apiserver started', events: 0, skipped: ['bad JSON'] },
    { name: 'a JSON array', line: '[1, 2]', events: 0, skipped: ['not a JSON object'] },
    { name: 'a JSON string', line: '"Event"', events: 0, skipped: ['not a JSON object'] },
    { name: 'another kind', line: line({ ...REAL, kind: 'Status' }), events: 0, skipped: ['not an audit event'] },
    { name: 'another apiVersion', line: line({ ...REAL, apiVersion: 'v1' }), events: 0, skipped: ['wrong apiVersion'] },
    { name: 'a lone event without apiVersion', line: line(without('apiVersion')), events: 0, skipped: ['wrong apiVersion'] },
    { name: 'audit.k8s.io/v1beta1 has the same fields', line: line({ ...REAL, apiVersion: 'audit.k8s.io/v1beta1' }), events: 1 },
    { name: 'no requestURI', line: line(without('requestURI')), events: 0, skipped: ['no requestURI'] },
    { name: 'requestURI that is not a string', line: line({ ...REAL, requestURI: 42 }), events: 0, skipped: ['no requestURI'] },
    { name: 'no verb', line: line(without('verb')), events: 0, skipped: ['no verb'] },
    {
      name: 'a webhook EventList: items without apiVersion are read, an item without verb is skipped',
      line: line({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [without('apiVersion'), { ...without('apiVersion'), verb: undefined }, 7] }),
      events: 1, skipped: ['no verb', 'not a JSON object'],
    },
    { name: 'an EventList without items', line: line({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1' }), events: 0, skipped: ['EventList without items'] },
    { name: 'an EventList of another apiVersion', line: line({ kind: 'EventList', apiVersion: 'v1', items: [REAL] }), events: 0, skipped: ['wrong apiVersion'] },
    { name: 'a blank line is nothing', line: '   ', events: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const skipped: SkipReason[] = [];
      const events = eventsOfLine(c.line, (r) => skipped.push(r));
      assert.equal(events.length, c.events);
      assert.deepEqual(skipped, c.skipped ?? []);
      for (const e of events) assert.equal(e.requestURI, REAL['requestURI']);
    });
  }

  it('strict reading names the line and the reason', () => {
    assert.throws(() => auditEventsOf(without('verb'), 12), /^AuditParseError: line 12: no verb$/);
    assert.equal(auditEventsOf(REAL, 1).length, 1);
  });
});

describe('skip counts', () => {
  it('count by reason in a fixed order and keep the first places', () => {
    const s = new SkipCounter();
    for (let i = 1; i <= 8; i++) s.add('no verb', `audit.log:${i * 10}`);
    s.add('bad JSON', 'audit.log:99');
    const sum = s.summary();
    assert.equal(sum.total, 9);
    assert.deepEqual(sum.reasons.map((r) => [r.reason, r.count, r.first.length]), [['bad JSON', 1, 1], ['no verb', 8, SKIP_PLACES]]);
    assert.deepEqual(sum.reasons[1]!.first, ['audit.log:10', 'audit.log:20', 'audit.log:30', 'audit.log:40', 'audit.log:50']);
    assert.equal(skipsText(sum), '9 malformed audit events skipped: bad JSON 1 (audit.log:99), no verb 8 (audit.log:10, audit.log:20, audit.log:30, audit.log:40, audit.log:50, …)');
    assert.equal(skipsText(new SkipCounter().summary()), '');
  });

  it('merge the counts of several files', () => {
    const a = new SkipCounter();
    a.add('no verb', 'a.log:1');
    const b = new SkipCounter();
    b.add('no verb', 'b.log:2');
    b.merge(a.summary());
    assert.deepEqual(b.summary(), { total: 2, reasons: [{ reason: 'no verb', count: 2, first: ['b.log:2', 'a.log:1'] }] });
  });
});

describe('one count per request, in bounded memory', () => {
  const ev = (id: string, stage?: string): AuditEvent => ({ ...(REAL as unknown as AuditEvent), auditID: id, ...(stage ? { stage } : { stage: undefined }) });
  const cases: Array<{ name: string; events: AuditEvent[]; counted: number; open: number }> = [
    { name: 'RequestReceived then ResponseComplete', events: [ev('a', 'RequestReceived'), ev('a', 'ResponseComplete')], counted: 1, open: 0 },
    { name: 'a watch: ResponseStarted then ResponseComplete', events: [ev('w', 'ResponseStarted'), ev('w', 'ResponseComplete')], counted: 1, open: 0 },
    { name: 'all three stages', events: [ev('a', 'RequestReceived'), ev('a', 'ResponseStarted'), ev('a', 'ResponseComplete')], counted: 1, open: 0 },
    { name: 'only the final stage (APISnoop\'s policy)', events: [ev('a', 'ResponseComplete'), ev('b', 'ResponseComplete')], counted: 2, open: 0 },
    { name: 'a panic ends a request', events: [ev('p', 'RequestReceived'), ev('p', 'Panic')], counted: 1, open: 0 },
    { name: 'a log cut before a watch ended keeps only that watch', events: [ev('w', 'ResponseStarted'), ev('a', 'ResponseComplete')], counted: 2, open: 1 },
    { name: 'no auditID: every event counts', events: [ev(''), ev('')], counted: 2, open: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = new AuditDeduper();
      assert.equal(c.events.filter((e) => d.first(e)).length, c.counted);
      assert.equal(d.open, c.open);
    });
  }

  it('forgets the oldest open requests beyond its bound', () => {
    const d = new AuditDeduper(3);
    for (const id of ['a', 'b', 'c', 'd']) d.first(ev(id, 'RequestReceived'));
    assert.equal(d.open, 3);
    assert.equal(d.first(ev('a', 'ResponseComplete')), true, 'a was forgotten, so its final stage counts');
    assert.equal(d.first(ev('d', 'ResponseComplete')), false);
  });
});
