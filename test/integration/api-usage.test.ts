// The dashboard's Kubernetes API usage (GET /api/apis/…, docs/dashboard-api.md), served by a complete katabot whose
// store the behavior diff filled: two traced runs of a job uploaded their apiserver audit log and their cluster's
// /openapi/v2 (the real spec from ../shared), so each run's usage was recorded when it was diffed. One run, the
// job's last N runs merged, APISnoop's CSV exports as downloads, and the page that shows them.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { ApiUsageView } from '../../src/dashboard/api-usage.ts';
import { MAINTAINERS_SAMPLE, PRESUBMITS, REQUIRED_SAMPLE, SHARED_SPEC, startScenarioBot, type Scenario, type ScenarioBot } from './dashboard-scenario.ts';
import type { Harness } from './harness.ts';

const skip = !existsSync(SHARED_SPEC) ? `no Kubernetes OpenAPI spec at ${SHARED_SPEC}`
  : !existsSync(REQUIRED_SAMPLE) || !existsSync(MAINTAINERS_SAMPLE) ? `Kata's samples are not in ../shared/kata (${REQUIRED_SAMPLE})` : false;

describe('dashboard: Kubernetes API usage', { skip }, () => {
  let bot: ScenarioBot;
  let h: Harness;
  let s: Scenario;
  const job = PRESUBMITS.nerdctl.job;

  before(async () => {
    bot = await startScenarioBot('api-usage', { sourcemap: false });
    ({ h, s } = bot);
  });
  after(async () => {
    await bot?.close();
  });


  async function get(path: string): Promise<{ status: number; text: string; res: Response }> {
    const res = await fetch(`${h.bot.url}${path}`);
    return { status: res.status, text: await res.text(), res };
  }

  it('one run: its requests, coverage, endpoints by caller, skipped events, the whole spec as a sunburst', async () => {
    const r = await get(`/api/apis/runs/${s.apiUsage!.head}`);
    assert.equal(r.status, 200, r.text);
    const v = JSON.parse(r.text) as ApiUsageView;
    assert.deepEqual([v.scope, v.key, v.job, v.runs.length, v.runs[0]!.pull], ['run', s.apiUsage!.head, job, 1, 103]);
    assert.deepEqual([v.totals.requests, v.totals.matched], [10, 10]);
    assert.deepEqual(v.skipped, { total: 1, reasons: [{ reason: 'bad JSON', count: 1, first: ['kube-apiserver-audit.log:11'] }] });
    const by = Object.fromEntries(v.endpoints.map((e) => [e.endpoint, [e.status, e.eligible]]));
    assert.deepEqual(by['readCoreV1NamespacedPod'], ['conformance', true]);
    assert.deepEqual(by['createAppsV1NamespacedStatefulSet'], ['tested', true]);
    assert.deepEqual(by['connectCoreV1GetNodeProxy'], ['hit', false], 'on Kubernetes\' ineligible list');
    assert.deepEqual(by['createAdmissionregistrationV1beta1MutatingAdmissionPolicy'], ['hit', false]);
    assert.equal(v.endpoints.find((e) => e.endpoint === 'connectCoreV1GetNodeProxy')!.ineligibleReason, 'Unable to be tested, and likely soon deprecated');
    assert.ok(v.coverage.eligible > 400 && v.coverage.hit === 8 && v.coverage.conformanceTested === 4, JSON.stringify(v.coverage));
    // the sunburst: every non-deprecated operation of the spec, under stable / beta / alpha
    const leaves = (n: ApiUsageView['sunburst']): number => (n.children ? n.children.reduce((a, c) => a + leaves(c), 0) : 1);
    assert.equal(leaves(v.sunburst), v.summary.reduce((a, l) => a + l.endpoints, 0));
    assert.deepEqual(v.sunburst.children!.map((c) => c.name), ['stable', 'beta', 'alpha']);
    assert.deepEqual(v.exports.map((e) => e.url), ['app-usage-categories', 'app-usage-summary', 'app-usage-endpoints', 'coverage-spreadsheet', 'endpoint-coverage']
      .map((n) => `/api/apis/runs/${s.apiUsage!.head}/${n}.csv`));
  });

  it("the job's last runs, merged", async () => {
    const r = await get(`/api/apis/jobs/${job}?runs=5`);
    assert.equal(r.status, 200, r.text);
    const v = JSON.parse(r.text) as ApiUsageView;
    assert.deepEqual(v.runs.map((x) => x.prowjob).sort(), [s.apiUsage!.base, s.apiUsage!.head].sort());
    assert.deepEqual([v.totals.requests, v.skipped.total], [19, 2]);
    assert.equal(v.exports[0]!.url, `/api/apis/jobs/${job}/app-usage-categories.csv?runs=5`);
    const one = JSON.parse((await get(`/api/apis/jobs/${job}?runs=1`)).text) as ApiUsageView;
    assert.equal(one.runs.length, 1);
  });

  it("APISnoop's exports are downloads with its columns", async () => {
    const r = await get(`/api/apis/runs/${s.apiUsage!.head}/app-usage-summary.csv`);
    assert.equal(r.status, 200);
    assert.match(r.res.headers.get('content-type')!, /^text\/csv/);
    assert.equal(r.res.headers.get('content-disposition'), `attachment; filename="${s.apiUsage!.head}-app-usage-summary.csv"`);
    assert.equal(r.text, 'app,stable,beta,alpha,total,conformance\ne2e.test,6,0,0,6,stable\nkube-controller-manager,2,0,0,2,stable\nkubectl,1,1,0,2,beta\n');
    const sheet = await get(`/api/apis/jobs/${job}/coverage-spreadsheet.csv?runs=5&app=kubectl`);
    assert.equal(sheet.text.split('\n')[0], 'level,category,method,url,conforms,apps using it,kubectl,questions');
  });

  const errors: Array<[string, string, number, RegExp]> = [
    ['an unknown run', '/api/apis/runs/nope', 404, /no Kubernetes API usage for run nope/],
    ['a job without usage', '/api/apis/jobs/pull-kata-docs-lint', 404, /no traced run of pull-kata-docs-lint has Kubernetes API usage/],
    ['an unknown export', '/api/apis/runs/nope/x.csv', 404, /no Kubernetes API usage for run nope/],
    ['a bad window', `/api/apis/jobs/${PRESUBMITS.nerdctl.job}?runs=0`, 400, /runs must be a positive integer/],
    ['another path', '/api/apis/elsewhere', 404, /no such API: GET \/api\/apis\/elsewhere/],
  ];
  for (const [name, path, code, re] of errors) {
    it(`${code} for ${name}`, async () => {
      const r = await get(path);
      assert.equal(r.status, code);
      assert.match(JSON.parse(r.text).error, re);
    });
  }

  it('the page preloads its data; the rest of the API is untouched', async () => {
    const page = await get(`/dashboard/apis/jobs/${job}?runs=5`);
    assert.equal(page.status, 200);
    assert.match(page.text, new RegExp(`<link rel="preload" as="fetch" href="/api/apis/jobs/${job}\\?runs=5"`));
    assert.equal((await get('/api/jobs/nightly')).status, 200);
  });
});
