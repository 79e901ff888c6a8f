// The dashboard's three views with GitHub Actions jobs named as Kata's CI names them (the check names of Kata's
// required-tests.yaml), in Debian's Chromium: recorded by the same record builder and store the workflow_job
// handler uses, shown beside the ProwJobs, with the source marker, Actions links, attempts from run_attempt and the
// PR's CI labels; then the dashboard inside another site's iframe, allowed only for the configured origin.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { parse } from 'yaml';
import { RedisResultsStore } from '../../src/adapters/results-store.ts';
import { runInfoOf, type WorkflowJobObject } from '../../src/jobs/actions.ts';
import { actionsResultOf } from '../../src/render/actions-results.ts';
import { buildWeb } from '../../web/build.ts';
import { MAINTAINERS_SAMPLE, REQUIRED_SAMPLE } from '../integration/dashboard-scenario.ts';
import { startHarness, type Harness } from '../integration/harness.ts';

const CHROMIUM = process.env.KATABOT_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = new URL('../../test-artifacts/dashboard/', import.meta.url).pathname;
const skip = !existsSync(CHROMIUM)
  ? `no Chromium at ${CHROMIUM} (Debian package chromium; scripts/katabot.sh installs it)`
  : !existsSync(REQUIRED_SAMPLE) || !existsSync(MAINTAINERS_SAMPLE)
    ? `Kata's samples are not in ../shared/kata (${REQUIRED_SAMPLE})`
    : false;
if (skip) console.log(`# dashboard Actions e2e skipped: ${skip}`);

const ORG = 'kata-containers';
const REPO = 'kata-containers';
const DAY = 24 * 3600_000;
const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('dashboard in Chromium: GitHub Actions jobs', { skip }, () => {
  let h: Harness;
  let dir: string;
  let browser: Browser;
  let embedder: Server;
  let embedderUrl = '';
  const errors: string[] = [];
  /** Kata's required check names, split into workflow and job as GitHub shows them. */
  let checks: Array<{ workflow: string; job: string }>;
  const tee = () => checks.find((c) => c.job.includes('run-k8s-tests-on-tee (sev-snp, qemu-snp)'))!;
  const nerdctl = () => checks.find((c) => c.job.endsWith('run-nerdctl-tests (qemu)'))!;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'katabot-actions-e2e-'));
    mkdirSync(ARTIFACTS, { recursive: true });
    const doc = parse(readFileSync(REQUIRED_SAMPLE, 'utf8')) as { mapping: Record<string, { names?: string[] }> };
    checks = (doc.mapping.test?.names ?? []).map((n) => {
      const [workflow, ...job] = n.split(' / ');
      return { workflow: workflow!, job: job.join(' / ') };
    });
    // Another site that embeds the dashboard (Kata's CoCo dashboard embeds Kata's).
    embedder = createServer((req, res) => {
      const src = decodeURIComponent((req.url ?? '/').slice(1));
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><title>embedder</title><iframe id="f" src="${src}" width="1200" height="800"></iframe>`);
    });
    await new Promise<void>((r) => embedder.listen(0, '127.0.0.1', r));
    embedderUrl = `http://127.0.0.1:${(embedder.address() as AddressInfo).port}`;
    const web = await buildWeb(join(dir, 'web'));
    h = await startHarness({
      env: {
        KATABOT_REPORTER: 'false',
        KATABOT_REQUIRED_TESTS: REQUIRED_SAMPLE,
        KATABOT_MAINTAINERS: MAINTAINERS_SAMPLE,
        KATABOT_DASHBOARD_ASSETS: web.outDir,
        KATABOT_DASHBOARD_FRAME_ANCESTORS: embedderUrl,
      },
    });
    await seed();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'] });
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    embedder?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Ten nights of Kata's nightly CI, and PR 7001 whose nerdctl job failed, then passed on run_attempt 2. */
  async function seed(): Promise<void> {
    const redis = new Redis(h.redis.url);
    const store = new RedisResultsStore(redis, `${h.redis.prefix}:`);
    let id = 9_000_000;
    const job = (runId: number, name: string, workflow: string, sha: string, at: number, conclusion: string | null, attempt = 1): WorkflowJobObject => ({
      id: ++id,
      run_id: runId,
      run_attempt: attempt,
      name,
      workflow_name: workflow,
      head_sha: sha,
      status: conclusion ? 'completed' : 'in_progress',
      conclusion,
      created_at: iso(at),
      started_at: iso(at + 60_000),
      completed_at: conclusion ? iso(at + 50 * 60_000) : null,
      html_url: `https://github.com/${ORG}/${REPO}/actions/runs/${runId}/job/${id}`,
      labels: ['ubuntu-24.04'],
    });
    const now = Date.now();
    for (let night = 1; night <= 10; night++) {
      const at = now - night * DAY;
      const sha = `${night}`.padStart(40, 'a');
      const runId = 17_000_000 + night;
      const run = runInfoOf({ id: runId, name: 'Kata Containers Nightly CI', path: '.github/workflows/ci-nightly.yaml', workflow_id: 1, event: 'schedule', status: 'completed', conclusion: 'failure', head_sha: sha, head_branch: 'main', created_at: iso(at), html_url: `https://github.com/${ORG}/${REPO}/actions/runs/${runId}` });
      const ctx = { owner: ORG, repo: REPO, run, nightlyWorkflows: [] };
      await store.put(actionsResultOf(job(runId, tee().job, run.name, sha, at, night <= 6 ? 'failure' : 'success'), ctx));
      await store.put(actionsResultOf(job(runId, nerdctl().job, run.name, sha, at, night === 3 ? 'cancelled' : 'success'), ctx));
    }
    const head = 'c0ffee'.padEnd(40, '0');
    const runId = 18_000_001;
    const run = runInfoOf({ id: runId, name: nerdctl().workflow, path: '.github/workflows/ci-on-push.yaml', workflow_id: 2, event: 'pull_request_target', status: 'completed', conclusion: 'success', head_sha: head, head_branch: 'topic', created_at: iso(now - DAY), html_url: `https://github.com/${ORG}/${REPO}/actions/runs/${runId}`, pull_requests: [{ number: 7001, head: { sha: head }, base: { ref: 'main' } }] });
    const ctx = { owner: ORG, repo: REPO, run, pull: 7001, author: 'a-contributor', nightlyWorkflows: [] };
    await store.put(actionsResultOf(job(runId, nerdctl().job, run.name, head, now - DAY, 'failure', 1), ctx));
    await store.put(actionsResultOf(job(runId, nerdctl().job, run.name, head, now - DAY + 3600_000, 'success', 2), ctx));
    await store.put(actionsResultOf(job(runId, tee().job, run.name, head, now - DAY, 'success', 1), ctx));
    await store.setPullMeta(`${ORG}/${REPO}`, 7001, { author: 'a-contributor', labels: ['ok-to-test', 'lgtm'], headSha: head, at: iso(now) });
    await redis.quit();
  }

  async function open(path: string): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(`${path}: ${e.message}`));
    page.setDefaultTimeout(8000);
    await page.goto(`${h.bot.url}${path}`);
    return page;
  }
  const name = (c: { workflow: string; job: string }) => `${c.workflow.replace('Kata Containers CI', 'Kata Containers Nightly CI')} / ${c.job}`;

  it('Nightly: scheduled Actions jobs by <workflow> / <job>, with weather, the Actions marker and run links', async () => {
    const page = await open('/dashboard?job=Nightly');
    const row = page.locator(`tr.row[data-job="${name(tee())}"]`);
    await row.waitFor();
    assert.equal(await row.locator('.badge.source-actions').textContent(), 'Actions');
    assert.equal(await row.getByRole('img', { name: /^Rainy: 6 of 10 runs failed \(60%\)$/ }).count(), 1);
    assert.match((await row.locator('.typeable').textContent())!, /^ci-nightly\.kata-containers-ci-on-push\.run-kata-coco-tests\.run-k8s-tests-on-tee-sev-snp-qemu-snp$/);
    assert.match((await row.locator('.c-owners').textContent())!, /AMD/);
    assert.match((await row.locator('a.sq').first().getAttribute('href'))!, /\/actions\/runs\/\d+\/job\/\d+$/);
    // worst first: the TDX/SNP job before nerdctl, whose one cancelled night is a skip
    const jobs = await page.locator('tr.row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job')));
    assert.deepEqual(jobs, [name(tee()), name(nerdctl())]);
    const n = page.locator(`tr.row[data-job="${name(nerdctl())}"]`);
    assert.deepEqual(await n.locator('td.c-count').allTextContents(), ['10', '9', '0', '1']);
    await row.getByRole('button', { name: name(tee()) }).click();
    assert.match((await page.locator('tr.details .run-list').textContent())!, /Run 17000001/);
    await page.screenshot({ path: join(ARTIFACTS, 'actions-nightly.png') });
    await page.context().close();
  });

  it('PR checks: the Actions job with its rerun and flakiness', async () => {
    const page = await open('/dashboard?display=prchecks');
    const row = page.locator(`tr.row[data-job="${nerdctl().workflow} / ${nerdctl().job}"]`);
    await row.waitFor();
    assert.equal(await row.locator('.badge.source-actions').count(), 1);
    assert.equal((await row.locator('.flake-pct').textContent())!.trim(), '100%');
    assert.match((await row.locator('.tags').textContent())!, /Required/);
    await page.screenshot({ path: join(ARTIFACTS, 'actions-prchecks.png') });
    await page.context().close();
  });

  it('Single PR: attempts from run_attempt with their Actions links, and the ok-to-test label', async () => {
    const page = await open('/dashboard?display=prsingle&pr=7001');
    const row = page.locator(`tr.row[data-job="${nerdctl().workflow} / ${nerdctl().job}"]`);
    await row.waitFor();
    assert.deepEqual(await row.locator('.attempt-main').allTextContents(), ['#1 failed', '#2 passed']);
    assert.match((await row.locator('.attempt-main').first().getAttribute('title'))!, /open in GitHub Actions/);
    assert.match((await row.locator('a.attempt-main').first().getAttribute('href'))!, /\/actions\/runs\/18000001\/job\/\d+$/);
    assert.deepEqual(await page.locator('.pr-labels .label-chip').allTextContents(), ['ok-to-test']);
    assert.match((await page.getByRole('heading', { level: 1 }).textContent())!, /#7001/);
    await page.screenshot({ path: join(ARTIFACTS, 'actions-prsingle.png') });
    await page.context().close();
  });

  it('embedded in an iframe by the allowed origin; refused for any other', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${embedderUrl}/${encodeURIComponent(`${h.bot.url}/dashboard?display=prsingle&pr=7001`)}`);
    const frame = page.frameLocator('#f');
    await frame.locator('tr.row').first().waitFor();
    assert.match((await frame.getByRole('heading', { level: 1 }).textContent())!, /#7001/);
    // The same page from another origin (localhost is not 127.0.0.1) is not allowed to frame it.
    const other = embedderUrl.replace('127.0.0.1', 'localhost');
    await page.goto(`${other}/${encodeURIComponent(`${h.bot.url}/dashboard`)}`);
    await page.waitForTimeout(1000);
    const frames = page.frames().filter((f) => f !== page.mainFrame());
    const shown = await frames[0]!.locator('tr.row').count().catch(() => 0);
    assert.equal(shown, 0, 'another origin sees no dashboard');
    await ctx.close();
  });

  it('no script errors', () => {
    assert.deepEqual(errors, []);
  });
});
