// The dashboard URL: view and filters survive a copied link.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiUrlFor, filterRows, jobRegex, pageRows, pageUrl, parseQuery, sortRows } from '../../../src/dashboard/query.ts';

const q = (search: string, path = '/dashboard') => parseQuery(new URLSearchParams(search), path);

describe('parseQuery / pageUrl', () => {
  const roundTrips = [
    '/dashboard',
    '/dashboard?job=tdx%7Csnp&required=1',
    '/dashboard?runs=20',
    '/dashboard?display=prchecks&prs=50',
    '/dashboard?display=prsingle&pr=101&repo=kata-containers%2Fkata-containers&sha=abc1234&job=qemu',
    '/dashboard?display=prchecks&sort=-reruns',
    '/dashboard/behavior/e2e0001-abc',
  ];
  for (const url of roundTrips) {
    it(`round trip: ${url}`, () => {
      const u = new URL(url, 'http://x');
      assert.equal(pageUrl(parseQuery(u.searchParams, u.pathname)), url);
    });
  }

  const cases: Array<[string, Partial<ReturnType<typeof q>>]> = [
    ['display=bogus', { display: 'nightly' }],
    ['pr=kata-containers/kata-containers%23123', { display: 'prsingle', pr: 123, repo: 'kata-containers/kata-containers' }],
    ['pr=12x', { display: 'nightly' }],
    ['runs=0', { runs: 10 }],
    ['runs=999', { runs: 50 }],
    ['required=true', { requiredOnly: true }],
    ['sha=not-a-sha', {}],
    ['sort=%3Cscript%3E', { sort: '' }],
  ];
  for (const [search, want] of cases) {
    it(`?${search}`, () => {
      const got = q(search);
      for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof typeof got], v, k);
      if (search.startsWith('sha=')) assert.equal(got.sha, undefined);
    });
  }

  it('the API call of each page', () => {
    assert.equal(apiUrlFor(q('')), '/api/jobs/nightly?runs=10');
    assert.equal(apiUrlFor(q('display=prchecks&prs=5')), '/api/jobs/presubmits?prs=5');
    assert.equal(apiUrlFor(q('display=prsingle')), '/api/prs');
    assert.equal(apiUrlFor(q('pr=7&repo=o/r&sha=abcd')), '/api/prs/7?repo=o%2Fr&sha=abcd');
    assert.equal(apiUrlFor(q('', '/dashboard/behavior/x~y')), '/api/behavior/x~y');
  });
});

describe('filters', () => {
  const rows = [
    { job: 'periodic-tdx', requirement: { required: true } },
    { job: 'pull-e2e', context: 'Kata CI / run-k8s-tests-on-tdx', requirement: { required: false } },
    { job: 'pull-lint', requirement: { required: false } },
  ];
  it('regex on name or context, case-insensitive', () => {
    const { re } = jobRegex('TDX');
    assert.deepEqual(filterRows(rows, { matches: (n) => re!.test(n) }).map((r) => r.job), ['periodic-tdx', 'pull-e2e']);
  });
  it('required only', () => assert.deepEqual(filterRows(rows, { requiredOnly: true }).map((r) => r.job), ['periodic-tdx']));
  it('an invalid regex is reported', () => assert.match(jobRegex('(').error!, /Unterminated group/));
  const byLength = { len: (a: { job: string }, b: { job: string }) => a.job.length - b.job.length };
  it('sorts by a column, descending with "-", ties by job name; an unknown column keeps the order', () => {
    assert.deepEqual(sortRows(rows, 'len', byLength).map((r) => r.job), ['pull-e2e', 'pull-lint', 'periodic-tdx']);
    assert.deepEqual(sortRows(rows, '-len', byLength).map((r) => r.job), ['periodic-tdx', 'pull-lint', 'pull-e2e']);
    assert.deepEqual(sortRows(rows, 'nope', byLength).map((r) => r.job), rows.map((r) => r.job));
  });
  it('a page\'s rows: filter, required-only and order together; a bad pattern filters nothing and says why', () => {
    assert.deepEqual(pageRows(rows, { job: 'pull', requiredOnly: false, sort: '-len' }, byLength), { rows: [rows[2], rows[1]] });
    assert.deepEqual(pageRows(rows, { job: '', requiredOnly: true, sort: '' }).rows.map((r) => r.job), ['periodic-tdx']);
    const bad = pageRows(rows, { job: '(', requiredOnly: false, sort: '' });
    assert.equal(bad.rows.length, 3);
    assert.match(bad.error!, /Unterminated group/);
  });
});
