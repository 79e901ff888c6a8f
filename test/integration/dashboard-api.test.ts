// The dashboard's JSON API (docs/dashboard-api.md) and pages, served by a complete katabot on a real Redis that the
// reporter's recording code (RedisResultsStore.record) filled: a fortnight of nightly runs, five PRs with reruns
// and flaky jobs, one traced PR run with its behavior diff. Kata's own required-tests.yaml and maintainers.yml.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobRunsView, NightlyView, PrChecksView, PullSummary, PullView, RunDetail, BehaviorInfo, JobCatalogue } from '../../src/dashboard/types.ts';
import type { ServiceGraphView } from '../../src/render/service-graph.ts';
import { buildWeb } from '../../web/build.ts';
import { MAINTAINERS_SAMPLE, PRESUBMITS, REQUIRED_SAMPLE, seedScenario, writeRequiredTests, type Scenario } from './dashboard-scenario.ts';
import { startHarness, type Harness } from './harness.ts';

const skip = existsSync(REQUIRED_SAMPLE) && existsSync(MAINTAINERS_SAMPLE) ? false : `Kata's samples are not in ../shared/kata (${REQUIRED_SAMPLE})`;

describe('dashboard API', { skip }, () => {
  let h: Harness;
  let s: Scenario;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'katabot-dashboard-api-'));
    const web = await buildWeb(join(dir, 'web'), { sourcemap: false });
    h = await startHarness({
      env: {
        KATABOT_REPORTER: 'false',
        KATABOT_REQUIRED_TESTS: writeRequiredTests(dir),
        KATABOT_MAINTAINERS: MAINTAINERS_SAMPLE,
        KATABOT_DASHBOARD_ASSETS: web.outDir,
      },
    });
    s = await seedScenario(h.redis.url, h.redis.prefix, join(dir, 'bucket'));
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function get<T>(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T; res: Response }> {
    const res = await fetch(`${h.bot.url}${path}`, { headers });
    const text = await res.text();
    return { status: res.status, body: (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T, res };
  }

  describe('GET /api/jobs/nightly', () => {
    it('periodic jobs, worst first, with weather, counts, the running run, required and maintainers', async () => {
      const { status, body } = await get<NightlyView>('/api/jobs/nightly');
      assert.equal(status, 200);
      assert.equal(body.window, 10);
      assert.deepEqual(
        body.jobs.map((j) => [j.job, j.weather, `${j.passes}/${j.fails}/${j.skips}`]),
        [
          ['periodic-run-k8s-tests-on-tdx-qemu-tdx', 'stormy', '2/8/0'],
          ['periodic-run-k8s-tests-on-aks-dragonball', 'rainy', '4/6/0'],
          ['periodic-run-k8s-tests-on-zvsi-qemu', 'cloudy', '6/4/0'],
          ['periodic-run-nerdctl-tests-qemu-runtime-rs', 'partially-sunny', '7/2/1'],
          ['periodic-run-k8s-tests-on-arm64-qemu', 'sunny', '9/1/0'],
          ['periodic-run-containerd-stability-qemu', 'sunny', '10/0/0'],
          ['periodic-run-kata-agent-apis', 'sunny', '9/0/1'],
        ],
      );
      const tdx = body.jobs[0]!;
      assert.equal(tdx.last.length, 11, 'the running run, then 10 finished');
      assert.equal(tdx.last[0]!.outcome, 'running');
      assert.equal(tdx.failStreak, 4);
      assert.deepEqual(tdx.requirement, { required: true, by: ['required_regexps'] });
      assert.deepEqual(tdx.maintainers, ['Intel']);
      assert.equal(body.groups.Intel!.owners[0]!.github, 'mythi');
      assert.match(tdx.last[1]!.url!, /^https:\/\/prow\.kata\.example\/view\/s3\/kata-prow-logs\/logs\/periodic-run-k8s-tests-on-tdx-qemu-tdx\/\d+$/);
      assert.deepEqual(body.jobs.find((j) => j.job.includes('zvsi'))!.maintainers, ['Arch-s390x']);
      assert.deepEqual(body.jobs.find((j) => j.job.includes('runtime-rs'))!.maintainers, ['Rust']);
      assert.deepEqual(body.jobs.find((j) => j.job.includes('arm64'))!.maintainers, ['ARM64']);
      assert.equal(body.totals.failing, 2, 'tdx and aks failed their newest run');
    });

    const filters: Array<[string, string[]]> = [
      ['?job=dragonball', ['periodic-run-k8s-tests-on-aks-dragonball']],
      ['?job=TDX%7Czvsi', ['periodic-run-k8s-tests-on-tdx-qemu-tdx', 'periodic-run-k8s-tests-on-zvsi-qemu']],
      ['?required=1', ['periodic-run-k8s-tests-on-tdx-qemu-tdx', 'periodic-run-containerd-stability-qemu']],
      ['?required=1&job=stability', ['periodic-run-containerd-stability-qemu']],
    ];
    for (const [query, want] of filters) {
      it(`filters ${query}`, async () => {
        const { body } = await get<NightlyView>(`/api/jobs/nightly${query}`);
        assert.deepEqual(body.jobs.map((j) => j.job), want);
      });
    }

    it('?runs=3: the weather of the last 3 runs', async () => {
      const { body } = await get<NightlyView>('/api/jobs/nightly?runs=3');
      const aks = body.jobs.find((j) => j.job.includes('aks'))!;
      assert.deepEqual([aks.runs, aks.fails, aks.weather], [3, 2, 'rainy']);
    });

    const bad: Array<[string, RegExp]> = [
      ['?job=(', /^job: Invalid regular expression/],
      ['?runs=-1', /^runs must be a positive integer$/],
      ['?job=' + encodeURIComponent('^([a-z-]+)+[0-9]$'), /took longer than 50 ms/],
    ];
    for (const [query, want] of bad) {
      it(`400 for ${decodeURIComponent(query)}`, async () => {
        const t = Date.now();
        const { status, body } = await get<{ error: string }>(`/api/jobs/nightly${query}`);
        assert.equal(status, 400);
        assert.match(body.error, want);
        assert.ok(Date.now() - t < 2000, 'a catastrophic regex is stopped, not run to the end');
      });
    }
  });

  describe('GET /api/jobs/presubmits', () => {
    it('by job over recent PRs: runs, failures, reruns, flaky commits; flakiest first', async () => {
      const { body } = await get<PrChecksView>('/api/jobs/presubmits');
      assert.deepEqual(body.pulls.map((p) => p.pull), [105, 104, 103, 102, 101]);
      const rows = Object.fromEntries(body.jobs.map((j) => [j.job, [j.prs, j.commits, j.runs, j.failures, j.reruns, j.flakyCommits]]));
      assert.deepEqual(rows, {
        'pull-kata-cri-containerd-dragonball': [5, 6, 10, 3, 4, 2],
        'pull-kata-nerdctl-qemu': [5, 6, 7, 2, 1, 1],
        'pull-kata-k8s-tdx': [3, 4, 5, 2, 1, 0],
        'pull-kata-commit-message-check': [5, 6, 6, 1, 0, 0],
        'pull-kata-docs-lint': [4, 5, 5, 0, 0, 0],
      });
      assert.equal(body.jobs[0]!.job, 'pull-kata-cri-containerd-dragonball');
      assert.equal(body.jobs[0]!.flakiness, 2 / 5, 'flaky commits of those with a finished attempt (PR 105 still runs)');
      assert.deepEqual(body.totals, { jobs: 5, flaky: 2, reruns: 6, failures: 8 });
    });

    it('required from required-tests.yaml and Prow, maintainers from maintainers.yml', async () => {
      const { body } = await get<PrChecksView>('/api/jobs/presubmits');
      const by = Object.fromEntries(body.jobs.map((j) => [j.job, j.requirement.by]));
      assert.deepEqual(by, {
        'pull-kata-cri-containerd-dragonball': ['mapping:test', 'prow'],
        'pull-kata-nerdctl-qemu': ['mapping:test', 'prow'],
        'pull-kata-k8s-tdx': [],
        'pull-kata-commit-message-check': ['required_tests', 'prow'],
        'pull-kata-docs-lint': [],
      });
      assert.deepEqual(body.jobs[0]!.maintainers, ['Dragonball']);
      const required = await get<PrChecksView>('/api/jobs/presubmits?required=1&job=' + encodeURIComponent('run-cri|commit'));
      assert.deepEqual(required.body.jobs.map((j) => j.job), ['pull-kata-cri-containerd-dragonball', 'pull-kata-commit-message-check'], 'the regex finds contexts too');
    });

    it('history links every attempt of the flaky job on PR 102', async () => {
      const { body } = await get<PrChecksView>('/api/jobs/presubmits?prs=2');
      assert.deepEqual(body.pulls.map((p) => p.pull), [105, 104]);
      const all = await get<PrChecksView>('/api/jobs/presubmits');
      const pr102 = all.body.jobs[0]!.history.find((c) => c.pull === 102)!;
      assert.deepEqual(pr102.attempts.map((a) => [a.attempt, a.outcome]), [[1, 'fail'], [2, 'fail'], [3, 'pass']]);
      assert.equal(pr102.flaky, true);
      assert.equal(pr102.attempts[0]!.prowjob, s.names.get(`102:${PRESUBMITS.cri.job}:1`));
    });
  });

  describe('GET /api/prs and /api/prs/:number', () => {
    it('recent PRs with the state of their newest commit', async () => {
      const { body } = await get<{ pulls: PullSummary[] }>('/api/prs');
      assert.deepEqual(body.pulls.map((p) => [p.pull, p.author, p.failing, p.running, p.passing]), [
        [105, 'erin', 0, 2, 1],
        [104, 'dave', 1, 0, 3],
        [103, 'carol', 0, 0, 5],
        [102, 'bob', 0, 1, 4],
        [101, 'alice', 1, 0, 4],
      ]);
    });

    it('one PR: its newest commit, every job with each attempt', async () => {
      const { status, body } = await get<PullView>('/api/prs/101');
      assert.equal(status, 200);
      assert.equal(body.repo, 'kata-containers/kata-containers');
      assert.equal(body.sha, s.shas[101]![1]);
      assert.deepEqual(body.commits.map((c) => c.sha), [s.shas[101]![1], s.shas[101]![0]]);
      assert.deepEqual(body.jobs.map((j) => [j.job, j.outcome, j.attempts.map((a) => a.outcome).join(' '), j.flaky]), [
        ['pull-kata-k8s-tdx', 'fail', 'fail fail', false],
        ['pull-kata-cri-containerd-dragonball', 'pass', 'fail pass', true],
        ['pull-kata-commit-message-check', 'pass', 'pass', false],
        ['pull-kata-docs-lint', 'pass', 'pass', false],
        ['pull-kata-nerdctl-qemu', 'pass', 'pass', false],
      ]);
      const cri = body.jobs[1]!;
      assert.match(cri.attempts[1]!.url!, /\/pr-logs\/pull\/kata-containers_kata-containers\/101\/pull-kata-cri-containerd-dragonball\/\d+$/);
      assert.equal(body.links.pull, 'https://github.com/kata-containers/kata-containers/pull/101');
      assert.deepEqual(body.totals, { jobs: 5, passing: 4, failing: 1, running: 0, skipped: 0, flaky: 1, reruns: 2 });
    });

    it('an older commit by SHA prefix; repo given explicitly', async () => {
      const { body } = await get<PullView>(`/api/prs/101?repo=kata-containers/kata-containers&sha=${s.shas[101]![0]!.slice(0, 7)}`);
      assert.equal(body.sha, s.shas[101]![0]);
      assert.equal(body.jobs.find((j) => j.job === PRESUBMITS.nerdctl.job)!.outcome, 'fail');
    });

    it('a traced attempt links its behavior page', async () => {
      const { body } = await get<PullView>('/api/prs/103');
      const nerdctl = body.jobs.find((j) => j.job === PRESUBMITS.nerdctl.job)!;
      assert.equal(nerdctl.attempts[0]!.behavior, `/dashboard/behavior/${s.traced.prowjob}`);
    });

    const errors: Array<[string, number, RegExp]> = [
      ['/api/prs/999', 404, /no results for PR #999/],
      ['/api/prs/abc', 400, /positive integer/],
      ['/api/prs/101?repo=nope', 400, /org\/repo/],
      ['/api/prs/101?sha=zz', 400, /commit SHA/],
      ['/api/nope', 404, /no such API: GET \/api\/nope/],
    ];
    for (const [path, code, want] of errors) {
      it(`${code} for ${path}`, async () => {
        const { status, body } = await get<{ error: string }>(path);
        assert.equal(status, code);
        assert.match(body.error, want);
      });
    }
  });

  describe('GET /api/runs, /api/jobs/:job/runs, /api/jobs', () => {
    it('one run with every attempt of its job on its commit', async () => {
      const name = s.names.get(`102:${PRESUBMITS.cri.job}:2`)!;
      const { body } = await get<RunDetail>(`/api/runs/${name}`);
      assert.equal(body.run.prowjob, name);
      assert.equal(body.run.attempt, 2);
      assert.equal(body.run.retest, true);
      assert.deepEqual(body.attempts.map((a) => [a.attempt, a.outcome]), [[1, 'fail'], [2, 'fail'], [3, 'pass']]);
      assert.deepEqual(body.maintainers, ['Dragonball']);
      assert.equal((await get(`/api/runs/nope`)).status, 404);
    });

    it('a job history pages back with `before`', async () => {
      const job = 'periodic-run-k8s-tests-on-aks-dragonball';
      const first = await get<JobRunsView>(`/api/jobs/${job}/runs?limit=4`);
      assert.equal(first.body.runs.length, 4);
      assert.ok(first.body.next);
      const second = await get<JobRunsView>(`/api/jobs/${job}/runs?limit=4&before=${encodeURIComponent(first.body.next!)}`);
      assert.equal(second.body.runs.length, 4);
      assert.ok(Date.parse(second.body.runs[0]!.start!) < Date.parse(first.body.runs[3]!.start!));
      assert.deepEqual(first.body.maintainers, ['Dragonball']);
    });

    it('the job catalogue, by type', async () => {
      const { body } = await get<JobCatalogue>('/api/jobs?type=presubmit');
      assert.deepEqual(body.jobs.map((j) => j.job).sort(), Object.values(PRESUBMITS).map((p) => p.job).sort());
      const all = await get<JobCatalogue>('/api/jobs');
      assert.equal(all.body.jobs.filter((j) => j.type === 'periodic').length, 7);
    });
  });

  describe('behavior', () => {
    it('a traced PR run: the diff report, served sandboxed', async () => {
      const { body } = await get<BehaviorInfo>(`/api/behavior/${s.traced.prowjob}`);
      assert.equal(body.available, true);
      assert.equal(body.run!.job, PRESUBMITS.nerdctl.job);
      assert.equal(body.reportUrl, `/dashboard/behavior/${s.traced.prowjob}/report`);
      const report = await get<string>(body.reportUrl!);
      assert.equal(report.status, 200);
      assert.match(report.res.headers.get('content-security-policy')!, /^sandbox allow-scripts/);
      assert.match(report.body, /^<!doctype html>/i);
      assert.match(report.body, /\/usr\/bin\/curl/);
      assert.match(report.body, /\/etc\/sudoers\.d\/ci/);
      // the id the behavior comment links resolves too
      const byId = await get<BehaviorInfo>(`/api/behavior/${encodeURIComponent(body.id!)}`);
      assert.equal(byId.body.available, true);
      assert.equal(byId.body.run?.prowjob, s.traced.prowjob, 'the run is found from the id');
    });

    it('its service graph, for the dashboard\'s interactive graph', async () => {
      const { status, body } = await get<ServiceGraphView>(`/api/behavior/${s.traced.prowjob}/graph`);
      assert.equal(status, 200);
      assert.deepEqual(body.graph.nodes.map((n) => [n.id, n.kind]), [['job', 'workload'], ['quay.io', 'host']]);
      assert.deepEqual(body.graph.edges.map((e) => [e.id, e.status]), [['job → quay.io tcp/443', 'same']]);
      // laid out on the server: every node and edge has a place
      assert.deepEqual(body.layout.nodes.map((n) => n.id), ['job', 'quay.io']);
      assert.ok(body.layout.nodes[1]!.x > body.layout.nodes[0]!.x, 'left to right');
      assert.equal(body.layout.edges[0]!.points.length >= 2, true);
      assert.equal((await get(`/api/behavior/${s.tracedWaiting}/graph`)).status, 404, 'no report yet, no graph');
    });

    const missing: Array<[string, () => string, RegExp]> = [
      ['a traced run that was aborted has no report', () => s.tracedWaiting, /No report yet/],
      ['an untraced run', () => s.names.get(`101:${PRESUBMITS.cri.job}:1`)!, /was not traced/],
      ['an unknown run', () => 'nope', /no run named nope/],
    ];
    for (const [name, key, want] of missing) {
      it(name, async () => {
        const { body } = await get<BehaviorInfo>(`/api/behavior/${key()}`);
        assert.equal(body.available, false);
        assert.match(body.reason!, want);
        assert.equal((await get(`/dashboard/behavior/${key()}/report`)).status, 404);
      });
    }
  });

  describe('HTTP', () => {
    it('ETag: an unchanged view is a 304; large bodies are compressed', async () => {
      const first = await get<NightlyView>('/api/jobs/nightly');
      const etag = first.res.headers.get('etag')!;
      assert.match(etag, /^W\/"/);
      assert.equal(first.res.headers.get('cache-control'), 'no-cache');
      const again = await fetch(`${h.bot.url}/api/jobs/nightly`, { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304);
      // fetch decodes the body; the header says how it travelled
      const raw = await fetch(`${h.bot.url}/api/jobs/presubmits`, { headers: { 'accept-encoding': 'br' } });
      assert.equal(raw.headers.get('content-encoding'), 'br');
      assert.ok(JSON.parse(await raw.text()).jobs.length === 5);
    });

    it('the page: an HTML shell that preloads its API call, with a strict CSP; hashed assets are immutable and precompressed', async () => {
      const page = await get<string>('/dashboard?display=prchecks&prs=50&job=tdx');
      assert.equal(page.status, 200);
      assert.match(page.res.headers.get('content-type')!, /text\/html/);
      assert.match(page.res.headers.get('content-security-policy')!, /script-src 'self'/);
      assert.match(page.body, /<link rel="preload" as="fetch" href="\/api\/jobs\/presubmits\?prs=50" crossorigin="anonymous">/);
      const js = /<script type="module" src="([^"]+)"/.exec(page.body)![1]!;
      const res = await fetch(`${h.bot.url}${js}`, { headers: { 'accept-encoding': 'br' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(res.headers.get('content-encoding'), 'br');
      const sent = Number(res.headers.get('content-length'));
      assert.ok(sent > 0 && sent < 24 * 1024, `the whole front end is ${sent} bytes as sent`);
      const behavior = await get<string>(`/dashboard/behavior/${s.traced.prowjob}`);
      assert.match(behavior.body, new RegExp(`href="/api/behavior/${s.traced.prowjob}"`));
      assert.equal((await get('/dashboard/assets/nope.js')).status, 404);
    });

    it('webhooks still reach the intake at /api/github/webhooks', async () => {
      const res = await h.send('ping', { zen: 'Keep it logically awesome.', hook_id: 1 });
      assert.equal(res.status, 200);
      assert.doesNotMatch(await res.text(), /no such API/);
    });
  });
});
