// The views from recorded job results: nightly rows, PR checks (reruns, flakiness), one PR.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Requirement } from '../../../src/dashboard/types.ts';
import { isFlaky, nightlyRow, nightlyView, prChecksView, pullView, recentPulls, type Classifier, type ViewContext } from '../../../src/dashboard/views.ts';
import type { ProwJobState } from '../../../src/jobs/types.ts';
import type { RunRecord } from '../../../src/render/results.ts';

const classifier: Classifier = {
  requirement: (r): Requirement => (r.job.includes('req') ? { required: true, by: ['required_tests'] } : { required: false, by: [] }),
  maintainers: (job) => (job.includes('tdx') ? ['Intel'] : []),
  group: (name) => (name === 'Intel' ? { group: 'Intel', regexes: ['.*tdx.*'], owners: [{ fullname: 'Mikko', github: 'mythi' }] } : undefined),
};
const ctx: ViewContext = { now: new Date('2026-01-20T00:00:00Z'), classifier, githubWebUrl: 'https://github.com' };

const S: Record<string, ProwJobState> = { P: 'success', F: 'failure', E: 'error', A: 'aborted', R: 'pending' };
let seq = 0;

function periodic(job: string, pattern: string): RunRecord[] {
  // newest first; day i ago
  return pattern.split(' ').map((l, i) => ({
    name: `pj-${seq++}`, job, type: 'periodic', state: S[l]!, retest: false, traced: false, attempt: 1,
    start: new Date(Date.UTC(2026, 0, 19 - i, 2)).toISOString(), ...(l === 'R' ? {} : { end: new Date(Date.UTC(2026, 0, 19 - i, 3)).toISOString() }),
    url: `https://deck/${seq}`,
  }));
}

function presubmit(job: string, pull: number, sha: string, pattern: string, hour: number, extra: Partial<RunRecord> = {}): RunRecord[] {
  return pattern.split(' ').map((l, i) => ({
    name: `pj-${seq++}`, job, type: 'presubmit', state: S[l]!, retest: i > 0, traced: false, attempt: i + 1, org: 'kata-containers', repo: 'kata-containers',
    pull, sha, author: 'alice', baseRef: 'main', start: new Date(Date.UTC(2026, 0, 10, hour + i)).toISOString(), buildId: String(1000 + seq), ...extra,
  }));
}

describe('nightly', () => {
  const cases: Array<[pattern: string, want: Partial<ReturnType<typeof nightlyRow> & object>]> = [
    ['P P P P P P P P P P', { runs: 10, passes: 10, fails: 0, skips: 0, weather: 'sunny', failStreak: 0 }],
    ['F F P F F F F F F F', { runs: 10, fails: 9, weather: 'stormy', failStreak: 2 }],
    ['R F A F P', { runs: 4, passes: 1, fails: 2, skips: 1, weather: 'cloudy', failStreak: 2 }],
    ['E P P P P', { runs: 5, fails: 1, weather: 'partially-sunny', failStreak: 1 }],
    ['R', { runs: 0, failRate: null, weather: 'stormy' }],
  ];
  for (const [pattern, want] of cases) {
    it(`${pattern} (newest first)`, () => {
      const row = nightlyRow(periodic('periodic-x', pattern), 10, classifier)!;
      for (const [k, v] of Object.entries(want)) assert.deepEqual(row[k as keyof typeof row], v, k);
    });
  }

  it('the window counts finished runs; a running run is shown first', () => {
    const row = nightlyRow(periodic('periodic-x', 'R P P F F F'), 3, classifier)!;
    assert.deepEqual([row.runs, row.passes, row.fails], [3, 2, 1]);
    assert.deepEqual(row.last.map((r) => r.outcome), ['running', 'pass', 'pass', 'fail']);
  });

  it('periodics only, worst first, with their maintainers', () => {
    const h = new Map([
      ['periodic-ok', periodic('periodic-ok', 'P P P P')],
      ['periodic-tdx', periodic('periodic-tdx', 'F F F P')],
      ['periodic-meh', periodic('periodic-meh', 'F P P P')],
      ['pull-x', presubmit('pull-x', 1, 'a', 'F', 1)],
    ]);
    const v = nightlyView(h, 10, ctx);
    assert.deepEqual(v.jobs.map((j) => [j.job, j.weather]), [['periodic-tdx', 'rainy'], ['periodic-meh', 'partially-sunny'], ['periodic-ok', 'sunny']]);
    assert.deepEqual(Object.keys(v.groups), ['Intel']);
    assert.equal(v.totals.failing, 2, 'the newest run failed');
    assert.equal(v.totals.weather.sunny, 1);
  });
});

describe('PR checks', () => {
  const flaky: Array<[string, boolean]> = [
    ['F P', true],
    ['P F', false],
    ['F F', false],
    ['E A P', true],
    ['A P', false],
    ['F R', false],
  ];
  for (const [pattern, want] of flaky) {
    it(`flaky: ${pattern} → ${want}`, () => assert.equal(isFlaky(pattern.split(' ').map((l) => ({ state: S[l]! }))), want));
  }

  const results = {
    1: [...presubmit('pull-req-e2e', 1, 'aaa', 'F P', 1), ...presubmit('pull-lint', 1, 'aaa', 'P', 1), ...presubmit('pull-req-e2e', 1, 'bbb', 'P', 5)],
    2: [...presubmit('pull-req-e2e', 2, 'ccc', 'F F P', 8), ...presubmit('pull-lint', 2, 'ccc', 'F', 8)],
    3: [...presubmit('pull-tdx', 3, 'ddd', 'F F', 9)],
  };
  const pulls = Object.entries(results).map(([n, r]) => ({ repo: 'kata-containers/kata-containers', pull: Number(n), results: r }));

  it('runs, failures, reruns and flaky commits per job; flakiest first', () => {
    const v = prChecksView(pulls, ctx);
    const rows = v.jobs.map((j) => ({ job: j.job, prs: j.prs, commits: j.commits, runs: j.runs, failures: j.failures, reruns: j.reruns, flaky: j.flakyCommits }));
    assert.deepEqual(rows, [
      { job: 'pull-req-e2e', prs: 2, commits: 3, runs: 6, failures: 3, reruns: 3, flaky: 2 },
      { job: 'pull-tdx', prs: 1, commits: 1, runs: 2, failures: 2, reruns: 1, flaky: 0 },
      { job: 'pull-lint', prs: 2, commits: 2, runs: 2, failures: 1, reruns: 0, flaky: 0 },
    ]);
    assert.equal(v.jobs[0]!.flakiness, 2 / 3);
    assert.deepEqual(v.jobs[0]!.requirement, { required: true, by: ['required_tests'] });
    assert.deepEqual(v.totals, { jobs: 3, flaky: 1, reruns: 4, failures: 6 });
    assert.deepEqual(v.pulls.map((p) => [p.pull, p.passing, p.failing]), [[1, 1, 0], [2, 1, 1], [3, 0, 1]]);
    assert.equal(v.pulls[0]!.link, 'https://github.com/kata-containers/kata-containers/pull/1');
  });

  it('history: newest commit first, attempts in order', () => {
    const h = prChecksView(pulls, ctx).jobs[0]!.history;
    assert.deepEqual(h.map((c) => [c.pull, c.sha, c.attempts.map((a) => `${a.attempt}${a.outcome}`).join(' '), c.flaky]), [
      [2, 'ccc', '1fail 2fail 3pass', true],
      [1, 'bbb', '1pass', false],
      [1, 'aaa', '1fail 2pass', true],
    ]);
  });

  it('recent PRs, newest activity first', () => {
    const h = new Map(Object.values(results).flat().map((r) => [r.job, [] as RunRecord[]]));
    for (const r of Object.values(results).flat()) h.get(r.job)!.push(r);
    assert.deepEqual(recentPulls(h.values(), 2).map((p) => p.pull), [3, 2]);
  });
});

describe('single PR', () => {
  const results = [
    ...presubmit('pull-req-e2e', 7, 'aaa1111', 'F', 1),
    ...presubmit('pull-req-e2e', 7, 'bbb2222', 'F P', 5),
    ...presubmit('pull-tdx', 7, 'bbb2222', 'P', 5, { traced: true }),
    ...presubmit('pull-lint', 7, 'bbb2222', 'F', 5),
    ...presubmit('pull-slow', 7, 'bbb2222', 'R', 6),
  ];

  it('the newest commit by default: failures first, each attempt with its links', () => {
    const v = pullView('kata-containers/kata-containers', 7, results, undefined, ctx)!;
    assert.equal(v.sha, 'bbb2222');
    assert.deepEqual(v.commits.map((c) => [c.sha, c.jobs, c.failing]), [['bbb2222', 4, 1], ['aaa1111', 1, 1]]);
    assert.deepEqual(v.jobs.map((j) => [j.job, j.outcome, j.attempts.length, j.flaky]), [
      ['pull-lint', 'fail', 1, false],
      ['pull-slow', 'running', 1, false],
      ['pull-req-e2e', 'pass', 2, true],
      ['pull-tdx', 'pass', 1, false],
    ]);
    const traced = v.jobs.find((j) => j.job === 'pull-tdx')!.attempts[0]!;
    assert.match(traced.behavior!, /^\/dashboard\/behavior\/pj-\d+$/);
    assert.equal(v.jobs.find((j) => j.job === 'pull-lint')!.attempts[0]!.behavior, undefined);
    assert.deepEqual(v.totals, { jobs: 4, passing: 2, failing: 1, running: 1, skipped: 0, flaky: 1, reruns: 1 });
    assert.equal(v.links.commit, 'https://github.com/kata-containers/kata-containers/commit/bbb2222');
  });

  it('another commit by its SHA prefix', () => {
    const v = pullView('kata-containers/kata-containers', 7, results, 'aaa1', ctx)!;
    assert.equal(v.sha, 'aaa1111');
    assert.deepEqual(v.jobs.map((j) => j.job), ['pull-req-e2e']);
  });

  it('no results: undefined', () => assert.equal(pullView('o/r', 1, [], undefined, ctx), undefined));
});
