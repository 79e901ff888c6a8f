// Bounded fuzzing (fast-check): every input gets a value or a clean, typed error, never another exception.
// Comment bodies (100k, incl. huge ones, control characters, nested fences, look-alikes of '/'), job config and
// KATABOT_CONFIG files, trace JSONL and audit logs. Webhook payloads with missing or odd fields go through the
// real intake, queue and handlers in test/integration/payload-fuzz.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseCommands, commandText } from '../../src/commands/registry.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { parseKatabotConfig } from '../../src/config/katabot-config.ts';
import { parseJobConfig, parseProwConfig } from '../../src/config/prow-config.ts';
import { runtimeOptions } from '../../src/config/env.ts';
import { AuditParseError, auditEventsOf } from '../../src/trace/audit-parse.ts';
import { TraceParseError, parseTrace } from '../../src/trace/format.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20260807);

const piece = fc.oneof(
  fc.constantFrom(
    '/test all', '/test e2e-kata-qemu', '/retest', '/ok-to-test', '/ok-to-test cancel', '/ok-to-test-tdx', '/trace x', '/help',
    '```', '````', '~~~', '  ```go', '> ', '<!--', '-->', '`', '\r\n', '\r', '\n', '\u2028', '\u2029', '\u0085',
    '\uFF0F', '\u2215', '\u2044', '\u29F8', '\u0338', '\u0000', '\u001b[31m', '\t', '\v', '\f', '\u200b', '\uFEFF', '\uD800',
  ),
  fc.string({ maxLength: 16, unit: 'grapheme-composite' }),
  fc.string({ maxLength: 8, unit: 'binary' }),
);
const body = fc.array(piece, { maxLength: 30 }).map((p) => p.join(''));

function parses(text: string): void {
  const cmds = parseCommands(text);
  assert.ok(Array.isArray(cmds));
  for (const c of cmds) assert.equal(typeof c.name, 'string');
  assert.equal(typeof commandText(text), 'string');
}

describe('fuzz: comment bodies', () => {
  it('100k generated bodies parse to commands or nothing', { timeout: 120_000 }, () => {
    fc.assert(fc.property(body, (b) => parses(b)), { numRuns: 100_000, seed: SEED });
  });
  it('huge bodies (up to 1 MB, GitHub allows 65536 chars; intake allows more) parse in bounded time', () => {
    fc.assert(
      fc.property(fc.constantFrom('```\n', '/test a\n', '> /ok-to-test\n', '\uFF0Ftest all\n', 'x'.repeat(1000), '/test ' + 'a,'.repeat(500)), fc.integer({ min: 1, max: 1000 }), (unit, n) => {
        const started = Date.now();
        parses(unit.repeat(n));
        assert.ok(Date.now() - started < 2000, 'parse time');
      }),
      { numRuns: 60, seed: SEED },
    );
  });
  it('unicode look-alikes of "/" are no commands', () => {
    for (const slash of ['\uFF0F', '\u2215', '\u2044', '\u29F8', '\u2571']) assert.deepEqual(parseCommands(`${slash}test all\n${slash}ok-to-test`), []);
  });
});

const yamlish = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.array(fc.oneof(fc.constantFrom('orgs:', ' - a', 'tdx:', '  label: x', '  jobs: "(["', '  approvers: 1', 'presubmits:', '  o/r:', '  - name: j', '    trigger: "(?P<x"', '    branches: [1]', '&a', '*a', '!!binary', ': :', '\t', '---', '{', '[', 'trusted_apps: {}', 'sticky: maybe'), fc.string({ maxLength: 10 })), { maxLength: 20 }).map((l) => l.join('\n')),
);

function cleanly(fn: () => unknown, ...errors: Array<new (...a: never[]) => Error>): void {
  try {
    fn();
  } catch (err) {
    if (!errors.some((E) => err instanceof E)) throw new Error(`unexpected ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
  }
}

describe('fuzz: config files', () => {
  it('KATABOT_CONFIG: a value or ConfigError', () => {
    fc.assert(fc.property(yamlish, (t) => cleanly(() => parseKatabotConfig(t, 'katabot.yaml'), ConfigError)), { numRuns: 3000, seed: SEED });
  });
  it('prow config and job config: a value or ConfigError', () => {
    fc.assert(fc.property(yamlish, (t) => cleanly(() => parseProwConfig(t, 'config.yaml'), ConfigError)), { numRuns: 3000, seed: SEED });
    fc.assert(fc.property(fc.array(yamlish, { maxLength: 3 }), (ts) => cleanly(() => parseJobConfig(ts.map((text, i) => ({ path: `j${i}.yaml`, text }))), ConfigError)), { numRuns: 2000, seed: SEED });
  });
  it('KATABOT_MAX_BODY_BYTES exists and is validated', () => {
    assert.equal(runtimeOptions({ KATABOT_MAX_BODY_BYTES: '1024' }).maxBodyBytes, 1024);
    assert.ok(runtimeOptions({}).maxBodyBytes > 0);
    assert.throws(() => runtimeOptions({ KATABOT_MAX_BODY_BYTES: 'lots' }));
  });
});

const jsonlLine = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.record({ kind: fc.constantFrom('header', 'exec', 'file', 'net', 'footer', 'x'), ts: fc.oneof(fc.integer(), fc.string()), pid: fc.anything() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 20 }),
);

describe('fuzz: trace JSONL and audit logs', () => {
  it('parseTrace: a trace or TraceParseError', () => {
    fc.assert(fc.property(fc.array(jsonlLine, { maxLength: 12 }), (lines) => cleanly(() => parseTrace(lines.join('\n')), TraceParseError)), { numRuns: 3000, seed: SEED });
  });
  it('audit events: events or AuditParseError', () => {
    const ev = fc.oneof(fc.jsonValue(), fc.record({ kind: fc.constantFrom('Event', 'EventList'), apiVersion: fc.constantFrom('audit.k8s.io/v1', 'x'), items: fc.anything(), verb: fc.anything(), requestURI: fc.anything(), objectRef: fc.anything(), user: fc.anything() }, { requiredKeys: [] }));
    fc.assert(fc.property(ev, fc.nat(), (v, line) => cleanly(() => auditEventsOf(v, line), AuditParseError)), { numRuns: 3000, seed: SEED });
  });
});
