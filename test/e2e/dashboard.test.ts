// The dashboard in a real headless Chromium (Debian's, driven by playwright-core), served by a complete katabot
// whose Redis the reporter's recording code filled (test/integration/dashboard-scenario.ts). Each view is opened,
// filtered and followed the way a maintainer would, and what the page shows is asserted. Screenshots land in
// test-artifacts/dashboard/ (desktop, phone, 4k, dark).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { MAINTAINERS_SAMPLE, PRESUBMITS, REQUIRED_SAMPLE, type Scenario } from '../integration/dashboard-scenario.ts';
import type { Harness } from '../integration/harness.ts';
import { noChromium, startBrowserScenario, type BrowserScenario, type Open } from './browser.ts';

const ARTIFACTS = new URL('../../test-artifacts/dashboard/', import.meta.url).pathname;
const skip = noChromium()
  || (!existsSync(REQUIRED_SAMPLE) || !existsSync(MAINTAINERS_SAMPLE) ? `Kata's samples are not in ../shared/kata (${REQUIRED_SAMPLE})` : false);
if (skip) console.log(`# dashboard e2e skipped: ${skip}`);

describe('dashboard in Chromium', { skip }, () => {
  let e: BrowserScenario;
  let h: Harness;
  let s: Scenario;
  before(async () => {
    e = await startBrowserScenario('dashboard-e2e', ARTIFACTS);
    ({ h, s } = e);
  });
  after(() => e?.close());
  const open: Open = (path, opts) => e.open(path, opts);

  const shot = (page: Page, name: string, fullPage = false) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
  const rowJobs = (page: Page) => page.locator('tr.row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job')));
  const path = (page: Page) => {
    const u = new URL(page.url());
    return decodeURIComponent(u.pathname + u.search);
  };

  it('Nightly: worst first with weather and owners; filter by regex and required, kept in the URL', async () => {
    const t0 = Date.now();
    const { ctx, page } = await open('/dashboard');
    await page.locator('tr.row').first().waitFor();
    const firstPaint = Date.now() - t0;
    assert.equal(await page.title(), 'Nightly · katabot CI dashboard');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Nightly jobs');
    const jobs = await rowJobs(page);
    assert.equal(jobs.length, 7);
    assert.equal(jobs[0], 'periodic-run-k8s-tests-on-tdx-qemu-tdx', 'worst first');
    const tdx = page.locator('tr.row').first();
    assert.equal(await tdx.getByRole('img', { name: /^Stormy: 8 of 10 runs failed \(80%\)$/ }).count(), 1);
    assert.match((await tdx.locator('.c-owners').textContent())!, /Intel · @mythi/);
    assert.match((await tdx.locator('.tags').textContent())!, /Required.*failed 4× in a row.*running/);
    assert.equal(await tdx.locator('.sq').count(), 11, 'the running run and the 10 of the window');
    assert.match((await tdx.locator('a.sq').nth(1).getAttribute('href'))!, /^https:\/\/prow\.kata\.example\/view\/s3\/kata-prow-logs\/logs\/periodic-run-k8s-tests-on-tdx-qemu-tdx\//);
    assert.deepEqual(await page.locator('tr.row').nth(6).locator('.c-weather svg').getAttribute('data-weather'), 'sunny');
    await shot(page, 'nightly-desktop');

    // who owns the failing job: the maintainers panel
    await tdx.getByRole('button', { name: /periodic-run-k8s-tests-on-tdx-qemu-tdx/ }).click();
    const panel = page.locator('tr.details .owners-panel');
    await panel.waitFor();
    assert.match((await panel.textContent())!, /Intel.*Mikko Ylinen/);
    assert.equal(await panel.getByRole('link', { name: '@mythi' }).getAttribute('href'), 'https://github.com/mythi');
    assert.match((await page.locator('tr.details').textContent())!, /always required \(required_regexps\)/);
    await shot(page, 'nightly-expanded');

    // filter: regex, then required only; both in the URL
    await page.getByRole('searchbox', { name: 'Job regex' }).fill('dragon|zvsi');
    await page.waitForURL(/job=dragon/);
    assert.deepEqual(await rowJobs(page), ['periodic-run-k8s-tests-on-aks-dragonball', 'periodic-run-k8s-tests-on-zvsi-qemu']);
    await page.getByRole('searchbox', { name: 'Job regex' }).fill('');
    await page.getByText('Required only').click();
    await page.waitForURL(/required=1/);
    assert.deepEqual(await rowJobs(page), ['periodic-run-k8s-tests-on-tdx-qemu-tdx', 'periodic-run-containerd-stability-qemu']);
    // an invalid regex says so and keeps the rows
    await page.getByRole('searchbox', { name: 'Job regex' }).fill('tdx(');
    assert.match((await page.getByRole('alert').textContent())!, /Not a valid regex/);
    await ctx.close();

    // a shared link opens the same filtered page
    const shared = await open('/dashboard?job=TDX&required=1&runs=5');
    await shared.page.locator('tr.row').first().waitFor();
    assert.deepEqual(await rowJobs(shared.page), ['periodic-run-k8s-tests-on-tdx-qemu-tdx']);
    assert.equal(await shared.page.getByRole('searchbox', { name: 'Job regex' }).inputValue(), 'TDX');
    assert.equal(await shared.page.getByRole('checkbox', { name: 'Required only' }).isChecked(), true);
    assert.equal(await shared.page.locator('select[name=runs]').inputValue(), '5');
    assert.equal(await shared.page.locator('tr.row .sq').count(), 6);
    await shared.ctx.close();
    console.log(`# nightly: first row after ${firstPaint} ms`);
    assert.ok(firstPaint < 5000);
  });

  it('PR checks: the flaky job first; following a PR opens its Single PR view', async () => {
    const { ctx, page } = await open('/dashboard');
    await page.getByRole('link', { name: 'PR checks' }).click();
    await page.waitForURL(/display=prchecks/);
    await page.locator('tr.row').first().waitFor();
    assert.equal(await page.title(), 'PR checks · katabot CI dashboard');
    const jobs = await rowJobs(page);
    assert.deepEqual(jobs.slice(0, 2), [PRESUBMITS.cri.job, PRESUBMITS.nerdctl.job]);
    const cri = page.locator('tr.row').first();
    assert.equal((await cri.locator('.flake-pct').textContent())!.trim(), '40%');
    assert.match((await cri.locator('.tags').textContent())!, /Required.*flaky on 2 commits/);
    assert.deepEqual(await cri.locator('td.c-count').allTextContents(), ['5', '10', '3', '4']);
    assert.match((await cri.locator('.c-owners').textContent())!, /Dragonball · @bergwolf/);
    assert.match((await page.locator('.summary').textContent())!, /5\s*jobs\s*2\s*flaky\s*6\s*reruns\s*8\s*failures/);
    await shot(page, 'prchecks-desktop');

    // sort by reruns, kept in the URL
    await page.getByRole('link', { name: 'Reruns' }).click();
    await page.waitForURL(/sort=-reruns/);
    assert.equal((await rowJobs(page))[0], PRESUBMITS.cri.job);

    // the attempts of PR 102, then its page
    await cri.getByRole('button', { name: PRESUBMITS.cri.job }).click();
    const details = page.locator('tr.details');
    await details.waitFor();
    const pr102 = details.locator('tr', { hasText: '#102' });
    assert.match((await pr102.textContent())!, /#1 failed.*#2 failed.*#3 passed/);
    await pr102.getByRole('link', { name: '#102' }).click();
    await page.waitForURL(/display=prsingle&pr=102/);
    await page.locator('tr.row').first().waitFor();
    assert.match((await page.getByRole('heading', { level: 1 }).textContent())!, /kata-containers\/kata-containers\s*#102/);
    const criRow = page.locator(`tr.row[data-job="${PRESUBMITS.cri.job}"]`);
    assert.deepEqual(await criRow.locator('.attempt-main').allTextContents(), ['#1 failed', '#2 failed', '#3 passed']);

    // the browser's back button returns to the table
    await page.goBack();
    await page.waitForURL(/display=prchecks/);
    await page.locator('tr.row').first().waitFor();
    await ctx.close();
  });

  it('Single PR: every job with each attempt and its Deck link; another commit of the PR', async () => {
    const { ctx, page } = await open('/dashboard?display=prsingle');
    await page.locator('.pull-card').first().waitFor();
    assert.deepEqual(await page.locator('.pull-num').allTextContents(), ['#105', '#104', '#103', '#102', '#101']);
    await shot(page, 'prsingle-list');
    await page.getByRole('textbox', { name: 'Pull request' }).fill('kata-containers/kata-containers#101');
    await page.getByRole('button', { name: 'Show PR' }).click();
    await page.waitForURL(/pr=101/);
    await page.locator('tr.row').first().waitFor();
    assert.equal(await page.title(), 'PR #101 · katabot CI dashboard');
    const first = page.locator('tr.row').first();
    assert.equal(await first.getAttribute('data-job'), PRESUBMITS.tdx.job, 'failures first');
    assert.match((await first.locator('.result').textContent())!, /failed/);
    const deck = first.getByRole('link', { name: /#2 failed/ });
    assert.match((await deck.getAttribute('href'))!, /\/pr-logs\/pull\/kata-containers_kata-containers\/101\/pull-kata-k8s-tdx\/\d+$/);
    assert.equal(await deck.getAttribute('target'), '_blank');
    assert.match((await page.locator('.summary').textContent())!, /1\s*failing\s*0\s*running\s*4\s*passing\s*1\s*flaky\s*2\s*reruns/);
    await shot(page, 'prsingle-desktop');

    // the first push of the PR: nerdctl failed there
    const older = s.shas[101]![0]!;
    await page.locator('.commit-chip', { hasText: older.slice(0, 7) }).click();
    await page.waitForURL(new RegExp(`sha=${older}`));
    await page.locator(`tr.row[data-job="${PRESUBMITS.nerdctl.job}"] .result-fail`).waitFor();
    await ctx.close();
  });

  it('Behavior: a traced attempt links the behavior diff, embedded', async () => {
    const { ctx, page } = await open(`/dashboard?display=prsingle&pr=103`);
    const row = page.locator(`tr.row[data-job="${PRESUBMITS.nerdctl.job}"]`);
    await row.waitFor();
    await row.getByRole('link', { name: 'Behavior' }).click();
    await page.waitForURL(new RegExp(`/dashboard/behavior/${s.traced.prowjob}$`));
    assert.equal(await page.title(), 'Behavior diff · katabot CI dashboard');
    await page.getByRole('heading', { level: 1, name: 'Behavior diff: pull-kata-nerdctl-qemu' }).waitFor();
    const frame = page.frameLocator('iframe.report-frame');
    await frame.getByText('/usr/bin/curl').first().waitFor();
    assert.match((await frame.locator('body').textContent())!, /\/etc\/sudoers\.d\/ci/);
    // the service graph above the report: the same interactions as in the report
    const graph = page.locator('.service-graph');
    await graph.locator('g.sg-node[data-id="job"]').click();
    assert.equal(await graph.locator('g.sg-edge.sg-hi').count(), 1);
    await graph.locator('input.sg-search').fill('quay');
    assert.equal(await graph.locator('g.sg-node.sg-match').count(), 1);
    await page.waitForTimeout(200);
    await shot(page, 'behavior-desktop');
    await page.getByRole('link', { name: /kata-containers\/kata-containers #103/ }).click();
    await page.waitForURL(/pr=103/);

    // a traced run without a report says why
    await page.goto(`${h.bot.url}/dashboard/behavior/${s.tracedWaiting}`);
    assert.match((await page.locator('.notice').textContent())!, /No behavior report for this run.*No report yet/);
    await ctx.close();
  });

  it('a phone: rows become cards, nothing scrolls sideways, the filters still work', async () => {
    const { ctx, page } = await open('/dashboard', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await page.locator('tr.row').first().waitFor();
    assert.equal(await page.locator('thead').first().isVisible(), false, 'no table header on a phone');
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
    const box = (await page.locator('tr.row').first().boundingBox())!;
    assert.ok(box.width <= 390 && box.x >= 0, 'a card fits the screen');
    await shot(page, 'nightly-phone');
    await page.getByRole('link', { name: 'Single PR' }).tap();
    await page.locator('.pull-card').first().tap();
    await page.locator('tr.row').first().waitFor();
    assert.ok((await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')) <= 0);
    await shot(page, 'prsingle-phone');
    await ctx.close();
  });

  it('a 4k screen and a dark one: larger type, no overflow', async () => {
    const { ctx, page } = await open('/dashboard?display=prchecks', { viewport: { width: 3840, height: 2160 } });
    await page.locator('tr.row').first().waitFor();
    assert.equal(await page.evaluate<string>('getComputedStyle(document.documentElement).fontSize'), '20px');
    assert.ok((await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')) <= 0);
    await shot(page, 'prchecks-4k');
    await ctx.close();
    const dark = await open('/dashboard', { colorScheme: 'dark' });
    await dark.page.locator('tr.row').first().waitFor();
    const bg = await dark.page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    assert.equal(bg, 'rgb(12, 16, 22)');
    await shot(dark.page, 'nightly-dark');
    await dark.ctx.close();
  });

  it('no script errors on any page', () => {
    assert.deepEqual(e.errors, []);
  });
});
