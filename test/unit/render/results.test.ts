import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryResultsStore } from '../../../src/adapters/results-store.ts';
import type { ProwJob, ProwJobState, ProwJobType } from '../../../src/jobs/types.ts';
import { attemptKeyOf, isRegression, jobResultOf } from '../../../src/render/results.ts';

function pj(name: string, state: ProwJobState, type: ProwJobType = 'presubmit', sha = 'a'.repeat(40)): ProwJob {
  const refs =
    type === 'periodic'
      ? undefined
      : { org: 'o', repo: 'r', base_ref: 'main', base_sha: 'b'.repeat(40), ...(type === 'presubmit' ? { pulls: [{ number: 3, author: 'alice', sha }] } : {}) };
  return {
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: { name, labels: { 'prow.k8s.io/retest': 'true', 'prow.k8s.io/is-optional': 'true' } },
    spec: { type, job: 'job-a', context: 'job-a', ...(refs ? { refs } : {}) },
    status: { state, startTime: '2026-01-01T00:00:00Z', ...(state === 'success' ? { completionTime: '2026-01-01T00:05:00Z' } : {}) },
  };
}

describe('jobResultOf', () => {
  it('keeps job, type, refs, state, times, URL and attempt', () => {
    const r = jobResultOf(pj('x', 'success'), 'https://deck/x', 2);
    assert.deepEqual(r, {
      name: 'x',
      job: 'job-a',
      type: 'presubmit',
      state: 'success',
      retest: true,
      traced: false,
      context: 'job-a',
      org: 'o',
      repo: 'r',
      baseRef: 'main',
      baseSha: 'b'.repeat(40),
      pull: 3,
      author: 'alice',
      sha: 'a'.repeat(40),
      start: '2026-01-01T00:00:00Z',
      end: '2026-01-01T00:05:00Z',
      url: 'https://deck/x',
      attempt: 2,
      optional: true,
    });
  });
});

describe('attemptKeyOf', () => {
  const cases: Array<[string, ProwJob, { repo: string; job: string; sha: string }]> = [
    ['presubmit: the PR head', pj('x', 'pending'), { repo: 'o/r', job: 'job-a', sha: 'a'.repeat(40) }],
    ['postsubmit: the base commit', pj('x', 'pending', 'postsubmit'), { repo: 'o/r', job: 'job-a', sha: 'b'.repeat(40) }],
    ['periodic without refs: each run alone', pj('nightly-1', 'pending', 'periodic'), { repo: '-', job: 'job-a', sha: 'run:nightly-1' }],
  ];
  for (const [name, job, want] of cases) it(name, () => assert.deepEqual(attemptKeyOf(job), want));
});

describe('isRegression', () => {
  const cases: Array<[ProwJobState, ProwJobState, boolean]> = [
    ['pending', 'triggered', true],
    ['failure', 'pending', true],
    ['triggered', 'pending', false],
    ['pending', 'success', false],
    ['aborted', 'failure', false],
  ];
  for (const [was, now, want] of cases) {
    it(`${was} → ${now}: ${want ? 'stale' : 'forward'}`, () => assert.equal(isRegression(jobResultOf(pj('x', was), undefined), jobResultOf(pj('x', now), undefined)), want));
  }
});

describe('MemoryResultsStore', () => {
  it('numbers attempts per (repo, job, commit) in order of first sight, and keeps them', async () => {
    const s = new MemoryResultsStore();
    assert.equal((await s.record(pj('a', 'triggered'), undefined)).attempt, 1);
    assert.equal((await s.record(pj('b', 'triggered'), undefined)).attempt, 2);
    assert.equal((await s.record(pj('a', 'failure'), 'https://deck/a')).attempt, 1);
    assert.equal((await s.record(pj('c', 'triggered', 'presubmit', 'c'.repeat(40)), undefined)).attempt, 1, 'another commit starts over');
    const attempts = await s.attempts('o/r', 'job-a', 'a'.repeat(40));
    assert.deepEqual(attempts.map((a) => [a.name, a.attempt, a.state]), [['a', 1, 'failure'], ['b', 2, 'triggered']]);
    assert.equal(await s.pullForSha('o/r', 'a'.repeat(40)), 3);
  });

  it('never lets an older copy of a job undo a newer record', async () => {
    const s = new MemoryResultsStore();
    await s.record(pj('a', 'success'), undefined);
    const kept = await s.record(pj('a', 'triggered'), undefined);
    assert.equal(kept.state, 'success');
  });
});
