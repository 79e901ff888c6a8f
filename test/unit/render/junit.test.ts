// The streaming JUnit reader on real reports (test/fixtures/junit/README.md names their sources), on broken files,
// and within its memory bounds.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { JunitReader, JunitSyntaxError, MAX_FAILURE_TEXT, MAX_KEPT_FAILURES, mergeJunit, parseJunit } from '../../../src/render/junit.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/junit/${name}`, import.meta.url));

describe('parseJunit on real reports', () => {
  const cases: Array<{ file: string; tests: number; failed: number; skipped: number; first?: { suite: string; name: string; message: string; file?: string; line?: number; text: RegExp } }> = [
    // Ginkgo v1's junit_01.xml: no suite name, the classname says "Kubernetes e2e suite"; skipped specs listed.
    { file: 'k8s-e2e-junit_01.xml', tests: 641, failed: 0, skipped: 494 },
    {
      file: 'gotestsum-report.xml', tests: 60, failed: 13, skipped: 5,
      first: { suite: 'gotest.tools/gotestsum/testjson/internal/badmain', name: 'TestMain', message: 'Failed', text: /^sometimes main can exit 2\nFAIL\t/ },
    },
    {
      file: 'pytest-beats.xml', tests: 4, failed: 2, skipped: 1,
      first: {
        suite: 'pytest', name: 'test_debug_reader', file: 'filebeat/tests/system/test_harvester.py', line: 824,
        message: "beat.beat.TimeoutError: Timeout waiting for 'cond' to be true. Waited 5 seconds.", text: /\ntests\/system\/test_harvester\.py:859:\n/,
      },
    },
  ];
  for (const c of cases) {
    it(`${c.file}: ${c.tests} cases, ${c.failed} failed, ${c.skipped} skipped`, () => {
      const r = parseJunit(fixture(c.file).toString('utf8'));
      assert.deepEqual([r.tests, r.failed, r.skipped, r.failures.length, r.dropped], [c.tests, c.failed, c.skipped, c.failed, 0]);
      if (c.first) {
        const f = r.failures[0]!;
        assert.equal(f.suite, c.first.suite);
        assert.equal(f.name, c.first.name);
        assert.equal(f.message, c.first.message);
        assert.equal(f.file, c.first.file);
        assert.equal(f.line, c.first.line);
        assert.match(f.text, c.first.text);
      }
    });
  }

  it('reads the same in chunks of any size, split inside multi-byte characters', () => {
    const doc = Buffer.from(readFileSync(new URL('../../fixtures/junit/gotestsum-report.xml', import.meta.url), 'utf8').replace('this failed', 'this failed — ünïcode ✓'));
    const whole = parseJunit(doc.toString('utf8'));
    for (const size of [1, 7, 4096]) {
      const r = new JunitReader();
      for (let i = 0; i < doc.length; i += size) r.write(doc.subarray(i, i + size));
      assert.deepEqual(r.end(), whole, `chunks of ${size}`);
    }
    assert.match(whole.failures.find((f) => f.name === 'TestFailed')!.text, /this failed — ünïcode ✓/);
  });

  it('sums several files (one per parallel e2e node)', () => {
    const a = parseJunit(fixture('gotestsum-report.xml').toString('utf8'));
    const b = parseJunit(fixture('pytest-beats.xml').toString('utf8'));
    const m = mergeJunit([a, b]);
    assert.deepEqual([m.tests, m.failed, m.skipped, m.failures.length], [64, 15, 6, 15]);
  });
});

describe('malformed files are refused whole, with a JunitSyntaxError', () => {
  const gotest = fixture('gotestsum-report.xml').toString('utf8');
  const cases: Array<{ name: string; doc: string }> = [
    { name: 'cut off mid-file (an upload that died)', doc: gotest.slice(0, Math.floor(gotest.length / 2)) },
    { name: 'mismatched tags', doc: '<testsuite><testcase name="a"></testsuite>' },
    { name: 'an HTML error page saved as junit.xml', doc: '<html><body><p>502 Bad Gateway<br></body></html>' },
    { name: 'not XML at all', doc: 'FAIL\tgithub.com/kata-containers/kata-containers/src/runtime 0.01s\n' },
    { name: 'empty', doc: '' },
    { name: 'XML, but not a test report', doc: '<?xml version="1.0"?><coverage line-rate="0.5"/>' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(() => parseJunit(c.doc), JunitSyntaxError);
    });
  }
});

describe('bounded memory', () => {
  it(`keeps at most ${MAX_KEPT_FAILURES} failing cases and ${MAX_FAILURE_TEXT} characters of each, never system-out`, () => {
    const r = new JunitReader();
    r.write('<testsuites><testsuite name="huge">');
    const big = 'x'.repeat(MAX_FAILURE_TEXT + 5000);
    for (let i = 0; i < MAX_KEPT_FAILURES + 40; i++) {
      const text = i < 3 ? big : `t${i}`;
      r.write(`<testcase classname="c" name="n${i}" time="0.5"><failure message="m">${text}</failure><system-out>${i < 3 ? big : ''}</system-out></testcase>`);
    }
    r.write('<testcase name="ok"/></testsuite></testsuites>');
    const out = r.end();
    assert.equal(out.tests, MAX_KEPT_FAILURES + 41);
    assert.equal(out.failed, MAX_KEPT_FAILURES + 40);
    assert.equal(out.failures.length, MAX_KEPT_FAILURES);
    assert.equal(out.dropped, 40);
    assert.equal(out.failures[0]!.text.length, MAX_FAILURE_TEXT);
    assert.equal(out.failures[3]!.text, 't3');
  });

  it('takes the first failure of a case that has several, and counts errors as failures', () => {
    const r = parseJunit('<testsuite name="s"><testcase name="a"><error message="boom" type="E"/><failure message="second"/></testcase><testcase name="b" status="skipped"/></testsuite>');
    assert.deepEqual(r.failures.map((f) => [f.name, f.kind, f.message, f.type]), [['a', 'error', 'boom', 'E']]);
    assert.equal(r.skipped, 1);
  });
});
