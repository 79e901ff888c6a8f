// Failing tests → check-run summary, details and annotations (src/render/test-report.ts), on real JUnit reports
// (test/fixtures/junit/README.md) and one row per location rule.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { annotationBatches, checkRunFor, MAX_OUTPUT_BYTES, utf8Length } from '../../../src/render/check-run.ts';
import { parseJunit, type JunitFailure } from '../../../src/render/junit.ts';
import { headline, locate, MAX_ANNOTATIONS, MAX_SUMMARY_ROWS, testReportFor } from '../../../src/render/test-report.ts';
import type { ProwJob } from '../../../src/jobs/types.ts';

const read = (name: string) => parseJunit(readFileSync(new URL(`../../fixtures/junit/${name}`, import.meta.url), 'utf8'));
const KATA = { org: 'kata-containers', repo: 'kata-containers' };

function failure(p: Partial<JunitFailure>): JunitFailure {
  return { suite: 's', classname: '', name: 't', kind: 'failure', message: '', type: '', text: '', ...p };
}

describe('locate: where a failure is in the repository', () => {
  const cases: Array<{ name: string; f: Partial<JunitFailure>; ref?: { org: string; repo: string }; want: { path: string; line: number } | undefined }> = [
    {
      name: "Go: a test's base name, its directory from the import path",
      f: { classname: 'github.com/kata-containers/kata-containers/src/runtime/virtcontainers', text: '=== RUN   TestQemu\n    qemu_test.go:123: unexpected machine type\n--- FAIL: TestQemu (0.01s)\n' },
      want: { path: 'src/runtime/virtcontainers/qemu_test.go', line: 123 },
    },
    {
      name: 'Go: a panic frame inside the repository, not the runtime frames before it',
      f: { classname: 'github.com/kata-containers/kata-containers/src/runtime/pkg/katautils', text: 'panic: runtime error: index out of range [recovered]\n\t/usr/local/go/src/testing/testing.go:1632 +0x3c\n\t/home/prow/go/src/github.com/kata-containers/kata-containers/src/runtime/pkg/katautils/create.go:88 +0x1d\n' },
      want: { path: 'src/runtime/pkg/katautils/create.go', line: 88 },
    },
    {
      name: "Ginkgo v2: 'In [It] at:' with a vanity import path (k8s.io/kubernetes)",
      ref: { org: 'kubernetes', repo: 'kubernetes' },
      f: { classname: 'Kubernetes e2e suite', text: '[FAILED] Timed out after 300.000s.\nIn [It] at: /home/prow/go/src/k8s.io/kubernetes/test/e2e/network/service.go:1457 @ 02/17/26 11:39:16.134\n' },
      want: { path: 'test/e2e/network/service.go', line: 1457 },
    },
    {
      name: 'pytest: the frame in the test file, its directory taken from the file attribute',
      f: { suite: 'pytest', file: 'filebeat/tests/system/test_json.py', line: 154, text: '>           max_timeout=10)\n\ntests/system/test_json.py:175: \n_ _ _\n\n../libbeat/tests/system/beat/beat.py:363: TimeoutError' },
      want: { path: 'filebeat/tests/system/test_json.py', line: 175 },
    },
    {
      name: 'no frame in the test file: a relative path is read from the repository root',
      f: { suite: 'pytest', file: 'filebeat/tests/system/test_json.py', text: 'tests/system/helper.py:20: in x\n../libbeat/tests/system/beat/beat.py:363: TimeoutError' },
      want: { path: 'tests/system/helper.py', line: 20 },
    },
    {
      name: "pytest: no frame, so the file and line attributes (pytest's lines are 0-based)",
      f: { suite: 'pytest', file: 'tests/test_agent.py', line: 41, text: 'E   assert 1 == 2' },
      want: { path: 'tests/test_agent.py', line: 42 },
    },
    {
      name: "another producer's line attribute is taken as it is",
      f: { suite: 'bats', file: 'tests/integration/cri.bats', line: 12, text: 'not ok 3 cri' },
      want: { path: 'tests/integration/cri.bats', line: 12 },
    },
    {
      name: 'only paths outside the repository (GOROOT): nothing',
      f: { classname: 'github.com/kata-containers/kata-containers/src/runtime', text: '/usr/local/go/src/runtime/panic.go:770 +0x132' },
      want: undefined,
    },
    {
      name: 'host:port and IP:port are not locations',
      f: { text: 'dial tcp 10.88.0.14:39251: i/o timeout; Get "https://api.kata.example:443/healthz" from proxy.example.io:8080' },
      want: undefined,
    },
    {
      name: "a bare Java file name without the test's file: nothing to point at",
      f: { classname: 'com.example.Tests', text: 'at com.example.Tests.test_fail(Tests.java:42)' },
      want: undefined,
    },
    {
      name: 'a path that climbs out of the repository: nothing',
      f: { text: '../../../etc/thing.sh:3: boom' },
      want: undefined,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(locate(failure(c.f), c.ref ?? KATA), c.want);
    });
  }
});

describe('headline: the line that says why', () => {
  const cases: Array<{ name: string; f: Partial<JunitFailure>; want: string }> = [
    { name: 'an informative message', f: { message: 'AssertionError: boom\nmore', text: 'trace' }, want: 'AssertionError: boom' },
    { name: "gotestsum's generic 'Failed': the first telling line of Go's output", f: { message: 'Failed', text: '=== RUN   TestX\n=== PAUSE TestX\n=== CONT  TestX\n    x_test.go:9: wrong\n--- FAIL: TestX (0.00s)' }, want: 'x_test.go:9: wrong' },
    { name: 'only framing lines: the message after all', f: { message: 'Failed', text: '=== RUN   TestX\n--- FAIL: TestX (0.00s)\n' }, want: 'Failed' },
    { name: 'a message equal to its type says nothing', f: { message: 'Failure', type: 'Failure', text: 'test/e2e/e2e.go:137 BeforeSuite on Node 1 failed' }, want: 'test/e2e/e2e.go:137 BeforeSuite on Node 1 failed' },
    { name: 'long lines are cut', f: { message: 'y'.repeat(500) }, want: `${'y'.repeat(199)}…` },
  ];
  for (const c of cases) it(c.name, () => assert.equal(headline(failure(c.f)), c.want));
});

describe('testReportFor on real reports', () => {
  it('gotestsum: every failure listed, annotations at the real lines of gotestsum’s test files', () => {
    const r = testReportFor(read('gotestsum-report.xml'), { org: 'gotestyourself', repo: 'gotestsum' }, 1);
    assert.match(r.summary, /^### Tests: 13 failed, 5 skipped, 60 in total\n/);
    assert.match(r.summary, /\| gotest\.tools\/gotestsum\/testjson\/internal\/withfails \| TestFailed \| 0s \| fails_test\.go:34: this failed \|/);
    // fails_test.go:34 is `t.Fatal("this failed")` in testjson/internal/withfails at the fixture's commit.
    const failed = r.annotations.find((a) => a.title?.endsWith('TestFailed'))!;
    assert.deepEqual([failed.path, failed.start_line, failed.end_line, failed.annotation_level], ['testjson/internal/withfails/fails_test.go', 34, 34, 'failure']);
    assert.equal(r.annotations.length, 10, 'TestMain and the two parents print no location');
    assert.match(r.text, /#### gotest\.tools\/gotestsum\/testjson\/internal\/withfails › TestFailed\n\n```\n=== RUN   TestFailed\n/);
  });

  it('pytest (Beats): both failures annotated on the failing line of the test', () => {
    const r = testReportFor(read('pytest-beats.xml'), { org: 'elastic', repo: 'beats' }, 1);
    assert.deepEqual(r.annotations.map((a) => [a.path, a.start_line]), [['filebeat/tests/system/test_harvester.py', 859], ['filebeat/tests/system/test_json.py', 175]]);
    assert.match(r.summary, /\| pytest \| filebeat\.tests\.system\.test_harvester\.Test\.test_debug_reader \| 5\.18s \| beat\.beat\.TimeoutError: Timeout waiting for 'cond' to be true\. Waited 5 seconds\. \|/);
    assert.match(r.annotations[0]!.raw_details!, /def test_debug_reader/);
  });

  it('Kubernetes e2e with nothing failed: counts only, no table, no annotations', () => {
    const r = testReportFor(read('k8s-e2e-junit_01.xml'), { org: 'kubernetes', repo: 'kubernetes' }, 1);
    assert.equal(r.summary, '### Tests: 0 failed, 494 skipped, 641 in total');
    assert.deepEqual([r.annotations, r.text], [[], '']);
  });

  it('files that could not be read are named', () => {
    const r = testReportFor(read('pytest-beats.xml'), KATA, 1, [{ key: 'artifacts/junit_02.xml', reason: 'not JUnit XML: Unexpected end' }]);
    assert.match(r.summary, /1 JUnit file not read: `artifacts\/junit_02\.xml` \(not JUnit XML: Unexpected end\)\./);
  });

  it(`many failures: ${MAX_SUMMARY_ROWS} rows, the rest counted; at most ${MAX_ANNOTATIONS} annotations, in batches of 50; within GitHub's limits`, () => {
    const failures = Array.from({ length: 260 }, (_, i) =>
      failure({ suite: 'github.com/kata-containers/kata-containers/src/runtime', classname: 'github.com/kata-containers/kata-containers/src/runtime', name: `TestCase${i}`, message: 'Failed', text: `    main_test.go:${i + 1}: ${'why '.repeat(400)}` }),
    );
    const r = testReportFor({ tests: 300, failed: 260, skipped: 0, failures, dropped: 0 }, KATA, 1);
    assert.equal(r.summary.split('\n').filter((l) => l.startsWith('| github.com')).length, MAX_SUMMARY_ROWS);
    assert.match(r.summary, /…and 210 more failed tests\.$/);
    assert.equal(r.annotations.length, MAX_ANNOTATIONS);
    assert.deepEqual(annotationBatches(r.annotations).map((b) => b.length), [50, 50, 50, 50]);
    const pj = { apiVersion: 'prow.k8s.io/v1', kind: 'ProwJob', metadata: { name: 'pj' }, spec: { type: 'presubmit', job: 'unit', refs: { org: 'kata-containers', repo: 'kata-containers', base_ref: 'main', pulls: [{ number: 1, author: 'a', sha: 'a'.repeat(40) }] } }, status: { state: 'failure' } } as ProwJob;
    const body = checkRunFor(pj, { tests: r });
    assert.ok(utf8Length(body.output!.summary) <= MAX_OUTPUT_BYTES && utf8Length(body.output!.text!) <= MAX_OUTPUT_BYTES);
    assert.match(body.output!.summary, /\*\*unit\*\* failed[\s\S]*### Tests: 260 failed/);
    const running = checkRunFor({ ...pj, status: { state: 'pending' } }, { tests: r });
    assert.doesNotMatch(running.output!.summary, /### Tests/, 'a running job shows no test results');
    assert.equal(running.output!.text, undefined);
  });
});
