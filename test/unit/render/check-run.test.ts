import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProwJob, ProwJobState, ProwJobStatus } from '../../../src/jobs/types.ts';
import {
  CHECK_ACTIONS,
  MAX_ANNOTATIONS_PER_REQUEST,
  MAX_OUTPUT_BYTES,
  annotationBatches,
  checkRunFor,
  checkRunUpdate,
  checkStateFor,
  formatDuration,
  queuedCheckRun,
  truncateUtf8,
  utf8Length,
} from '../../../src/render/check-run.ts';

const SHA = 'a'.repeat(40);

function job(status: ProwJobStatus = {}, labels: Record<string, string> = {}): ProwJob {
  return {
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: { name: 'pj-1', labels: { 'prow.k8s.io/is-optional': 'false', ...labels } },
    spec: {
      type: 'presubmit',
      job: 'e2e-kata-qemu',
      context: 'e2e-kata-qemu',
      rerun_command: '/test e2e-kata-qemu',
      report: true,
      refs: { org: 'o', repo: 'r', base_sha: 'b'.repeat(40), pulls: [{ number: 7, author: 'alice', sha: SHA }] },
    },
    status: { startTime: '2026-01-01T00:00:00Z', ...status },
  };
}

describe('checkStateFor: ProwJob state → check run', () => {
  const cases: Array<[ProwJobState | undefined, string, string | undefined]> = [
    [undefined, 'queued', undefined],
    ['scheduling', 'queued', undefined],
    ['triggered', 'queued', undefined],
    ['pending', 'in_progress', undefined],
    ['success', 'completed', 'success'],
    ['failure', 'completed', 'failure'],
    ['aborted', 'completed', 'cancelled'],
    ['error', 'completed', 'failure'],
  ];
  for (const [state, status, conclusion] of cases) {
    it(`${state ?? '(none)'} → ${status}${conclusion ? `/${conclusion}` : ''}`, () => {
      assert.deepEqual(checkStateFor(state), conclusion ? { status, conclusion } : { status });
    });
  }
});

describe('checkRunFor', () => {
  const cases: Array<{ name: string; status: ProwJobStatus; check: (b: ReturnType<typeof checkRunFor>) => void }> = [
    {
      name: 'triggered: queued, identity fields, no times',
      status: { state: 'triggered' },
      check: (b) => {
        assert.equal(b.name, 'e2e-kata-qemu');
        assert.equal(b.head_sha, SHA);
        assert.equal(b.external_id, 'pj-1');
        assert.equal(b.status, 'queued');
        assert.equal(b.started_at, undefined);
        assert.equal(b.conclusion, undefined);
        assert.equal(b.output?.title, 'e2e-kata-qemu: queued');
        assert.equal(b.actions, undefined);
      },
    },
    {
      name: 'pending: in_progress from pendingTime',
      status: { state: 'pending', pendingTime: '2026-01-01T00:00:10Z', url: 'https://deck/view/1' },
      check: (b) => {
        assert.equal(b.status, 'in_progress');
        assert.equal(b.started_at, '2026-01-01T00:00:10Z');
        assert.match(b.output!.summary, /is running on `aaaaaaaaaaaa`/);
      },
    },
    {
      name: 'success: completed/success with the duration from pendingTime',
      status: { state: 'success', pendingTime: '2026-01-01T00:00:10Z', completionTime: '2026-01-01T01:02:13Z', description: 'Job succeeded.' },
      check: (b) => {
        assert.equal(b.status, 'completed');
        assert.equal(b.conclusion, 'success');
        assert.equal(b.completed_at, '2026-01-01T01:02:13Z');
        assert.match(b.output!.summary, /\| Duration \| 1h 2m 3s \|/);
        assert.equal(b.output?.title, 'e2e-kata-qemu: passed');
        assert.equal(b.actions, undefined);
      },
    },
    {
      name: 'failure: Re-run and Trace buttons',
      status: { state: 'failure', completionTime: '2026-01-01T00:10:00Z', description: 'Job failed.' },
      check: (b) => {
        assert.equal(b.conclusion, 'failure');
        assert.deepEqual(b.actions, [CHECK_ACTIONS.rerun, CHECK_ACTIONS.trace]);
        assert.match(b.output!.summary, /or the Re-run button above/);
      },
    },
    {
      name: 'aborted without completionTime: cancelled, GitHub sets the time',
      status: { state: 'aborted', description: 'Aborted by trigger plugin.' },
      check: (b) => {
        assert.equal(b.conclusion, 'cancelled');
        assert.equal(b.completed_at, undefined);
        assert.equal(b.actions, undefined);
      },
    },
    {
      name: 'error: failure, with the error description quoted',
      status: { state: 'error', completionTime: '2026-01-01T00:10:00Z', description: 'Pod scheduling timeout.' },
      check: (b) => {
        assert.equal(b.conclusion, 'failure');
        assert.equal(b.output?.title, 'e2e-kata-qemu: error');
        assert.match(b.output!.summary, /```\nPod scheduling timeout\.\n```/);
        assert.ok(b.actions?.length === 2);
      },
    },
  ];
  for (const c of cases) it(c.name, () => c.check(checkRunFor(job(c.status), { detailsUrl: 'https://deck/view/1', attempt: 1 })));

  it('summary names the Deck link, rerun command, ProwJob and attempt (rerun marked)', () => {
    const b = checkRunFor(job({ state: 'pending' }, { 'prow.k8s.io/retest': 'true' }), { detailsUrl: 'https://deck/view/1', attempt: 3 });
    assert.match(b.output!.summary, /\| Deck \| \[e2e-kata-qemu\]\(https:\/\/deck\/view\/1\) \|/);
    assert.match(b.output!.summary, /\| Rerun \| `\/test e2e-kata-qemu` \|/);
    assert.match(b.output!.summary, /\| ProwJob \| `pj-1` \|/);
    assert.match(b.output!.summary, /\| Attempt \| 3 \(rerun\) \|/);
    assert.equal(b.details_url, 'https://deck/view/1');
  });

  it('a huge error description stays within the Checks API limit', () => {
    const b = checkRunFor(job({ state: 'error', description: '€'.repeat(200_000) }));
    assert.ok(utf8Length(b.output!.summary) <= MAX_OUTPUT_BYTES);
  });

  it('the update body drops name, head_sha and external_id', () => {
    const u = checkRunUpdate(job({ state: 'failure' }));
    assert.deepEqual(Object.keys(u).filter((k) => ['name', 'head_sha', 'external_id'].includes(k)), []);
    assert.equal(u.conclusion, 'failure');
  });

  it('queuedCheckRun is the triggered body, whatever the object says', () => {
    const q = queuedCheckRun(job({ state: 'pending' }), 'https://deck/x', 2);
    assert.equal(q.status, 'queued');
    assert.match(q.output!.summary, /Attempt \| 2/);
  });

  it('requested actions respect GitHub’s limits', () => {
    const actions = Object.values(CHECK_ACTIONS);
    assert.ok(actions.length <= 3);
    for (const a of actions) {
      assert.ok(a.label.length <= 20, a.label);
      assert.ok(a.identifier.length <= 20, a.identifier);
      assert.ok(a.description.length <= 40, a.description);
    }
  });
});

describe('limits and helpers', () => {
  const truncations: Array<[string, number, string]> = [
    ['short', 10, 'short'],
    ['abcdefghij', 10, 'abcdefghij'],
    ['abcdefghijk', 10, 'abcdefg…'],
    ['ééééé', 6, 'é…'],
    ['ééééé', 7, 'éé…'],
  ];
  for (const [input, max, want] of truncations) {
    it(`truncateUtf8(${JSON.stringify(input)}, ${max})`, () => {
      const got = truncateUtf8(input, max);
      assert.equal(got, want);
      assert.ok(utf8Length(got) <= max);
    });
  }
  const durations: Array<[number, string]> = [
    [0, '0s'],
    [12_400, '12s'],
    [240_000, '4m 0s'],
    [3_723_000, '1h 2m 3s'],
  ];
  for (const [ms, want] of durations) it(`formatDuration(${ms}) = ${want}`, () => assert.equal(formatDuration(ms), want));

  it('annotations go out 50 per request', () => {
    const batches = annotationBatches(Array.from({ length: 120 }, (_, i) => i));
    assert.deepEqual(batches.map((b) => b.length), [MAX_ANNOTATIONS_PER_REQUEST, 50, 20]);
  });
});
