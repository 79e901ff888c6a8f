// The Kubernetes API usage sunburst in a real headless Chromium (Debian's, driven by playwright-core): on the
// dashboard for one traced run and for the job's last runs, and in the self-contained HTML behavior report; with
// the mouse, with the keyboard, in light and dark; APISnoop's CSV exports downloaded. katabot is complete, its
// store filled by the behavior diff of two traced runs that uploaded their audit log and /openapi/v2
// (test/integration/dashboard-scenario.ts). Screenshots land in test-artifacts/apis/.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { MAINTAINERS_SAMPLE, PRESUBMITS, REQUIRED_SAMPLE, SHARED_SPEC, type Scenario } from '../integration/dashboard-scenario.ts';
import type { Harness } from '../integration/harness.ts';
import { noChromium, startBrowserScenario, type BrowserScenario, type Open } from './browser.ts';

// What functions evaluated in the page use of its window (the project type-checks without the DOM library).
declare const getComputedStyle: (e: unknown) => { fill: string; fillOpacity: string };
declare const document: { activeElement: { getAttribute(name: string): string | null } | null };

const ARTIFACTS = new URL('../../test-artifacts/apis/', import.meta.url).pathname;
const skip = noChromium() || (!existsSync(SHARED_SPEC) ? `no Kubernetes OpenAPI spec at ${SHARED_SPEC}`
    : !existsSync(REQUIRED_SAMPLE) || !existsSync(MAINTAINERS_SAMPLE) ? `Kata's samples are not in ../shared/kata (${REQUIRED_SAMPLE})` : false);
if (skip) console.log(`# API usage e2e skipped: ${skip}`);

describe('API usage sunburst in Chromium', { skip }, () => {
  let e: BrowserScenario;
  let h: Harness;
  let s: Scenario;
  before(async () => {
    e = await startBrowserScenario('apis-e2e', ARTIFACTS, { viewport: { width: 1440, height: 1000 } });
    ({ h, s } = e);
  });
  after(() => e?.close());
  const open: Open = (path, opts) => e.open(path, opts);
  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const focused = (page: Page) => page.evaluate<string | null>('document.activeElement && document.activeElement.getAttribute("aria-label")');
  /** Waits until the focused arc's label matches (focus moves after the view re-renders). */
  const focusOn = async (page: Page, re: RegExp) => {
    await page.waitForFunction((src) => new RegExp(src).test(document.activeElement?.getAttribute('aria-label') ?? ''), re.source);
    return (await focused(page))!;
  };

  it('a run: from its behavior page to the sunburst; arcs coloured by who hit them; zoom by click', async () => {
    const { ctx, page } = await open(`/dashboard/behavior/${s.apiUsage!.head}`);
    await page.getByRole('link', { name: 'Kubernetes API usage' }).click();
    await page.waitForURL(new RegExp(`/dashboard/apis/runs/${s.apiUsage!.head}$`));
    await page.getByRole('heading', { level: 1, name: `Kubernetes API usage: ${PRESUBMITS.nerdctl.job}` }).waitFor();
    assert.equal(await page.title(), 'Kubernetes API usage · katabot CI dashboard');
    const chart = page.getByRole('tree', { name: /Kubernetes API operations of/ });
    await chart.waitFor();
    // zoomed on the whole spec: 3 levels, their categories and every operation
    const arcs = await chart.locator('path').count();
    assert.ok(arcs > 800, `${arcs} arcs`);
    const conf = chart.locator('path[aria-label^="readCoreV1NamespacedPod: hit by a conformance test"]');
    assert.equal(await conf.count(), 1);
    const style = (l: ReturnType<Page['locator']>) => l.evaluate((e) => [getComputedStyle(e).fill, getComputedStyle(e).fillOpacity]);
    const untested = chart.locator('path[aria-label^="readCoreV1Node: not hit"]');
    assert.notDeepEqual(await style(conf), await style(untested), 'a conformance-tested operation and an untested one look different');
    assert.match((await page.locator('.apis-summary').textContent())!, /10\s*requests.*1\s*malformed audit events skipped/s);
    await shot(page, 'run-light');

    // zoom into the beta ring by clicking it, out again with the centre
    await chart.locator('path[aria-label^="beta:"]').click();
    assert.equal((await chart.locator('.sb-centre-label').textContent())!.trim(), 'beta');
    const inBeta = await chart.locator('path').count();
    assert.ok(inBeta > 160 && inBeta < arcs / 3, `${inBeta} arcs in the beta view`);
    assert.match((await page.locator('.sb-trail').textContent())!, /this run › beta/);
    await chart.locator('.sb-centre').click();
    assert.equal((await chart.locator('.sb-centre-label').textContent())!.trim(), 'this run');
    await ctx.close();
  });

  it('the keyboard: Tab into the chart, arrows move, Enter zooms in, Escape zooms out', async () => {
    const { ctx, page } = await open(`/dashboard/apis/runs/${s.apiUsage!.head}`);
    const chart = page.getByRole('tree', { name: /Kubernetes API operations of/ });
    await chart.waitFor();
    await chart.locator('path[tabindex="0"]').focus();
    await focusOn(page, /^stable: \d+ operations/);
    await page.keyboard.press('ArrowRight');
    await focusOn(page, /^beta: /);
    await page.keyboard.press('ArrowLeft');
    await focusOn(page, /^stable: /);
    await page.keyboard.press('Enter');
    await focusOn(page, /^admissionregistration: /);
    assert.equal((await chart.locator('.sb-centre-label').textContent())!.trim(), 'stable', 'zoomed on stable, its first category has focus');
    await page.keyboard.press('End');
    const last = (await focusOn(page, /^(?!admissionregistration)\w+: /)).split(':')[0]!;
    await page.keyboard.press('Enter');
    await page.locator('.sb-centre-label', { hasText: last }).waitFor();
    assert.ok(await page.locator('.sb-info').textContent());
    await page.keyboard.press('Escape');
    await page.locator('.sb-centre-label', { hasText: 'stable' }).waitFor();
    await focusOn(page, new RegExp(`^${last}: `));
    await ctx.close();
  });

  it("the job's last runs, in dark mode: readable, and APISnoop's exports download", async () => {
    const { ctx, page } = await open(`/dashboard/apis/runs/${s.apiUsage!.head}`, { colorScheme: 'dark' });
    await page.getByRole('link', { name: 'Last runs of the job' }).click();
    await page.waitForURL(new RegExp(`/dashboard/apis/jobs/${PRESUBMITS.nerdctl.job}$`));
    await page.locator('.apis-scope', { hasText: '2 traced runs of the job, merged' }).waitFor();
    assert.equal(await page.evaluate<string>('getComputedStyle(document.body).backgroundColor'), 'rgb(12, 16, 22)');
    const untested = page.locator('path[aria-label^="readCoreV1Node: not hit"]');
    const fill = await untested.evaluate((e) => getComputedStyle(e).fill);
    assert.equal(fill, 'rgb(43, 52, 65)', 'untested operations use the dark theme\'s colour, not a light grey');
    await shot(page, 'job-dark');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'coverage-spreadsheet.csv' }).click()]);
    assert.equal(download.suggestedFilename(), `${PRESUBMITS.nerdctl.job}-coverage-spreadsheet.csv`);
    const csv = readFileSync((await download.path())!, 'utf8').split('\n');
    assert.equal(csv[0], 'level,category,method,url,conforms,apps using it,e2e.test,kube-controller-manager,kubectl,questions');
    await ctx.close();
  });

  it('the HTML behavior report: the same sunburst, by change or by caller, with the keyboard', async () => {
    const { ctx, page } = await open(`/dashboard/behavior/${s.apiUsage!.head}/report`);
    const chart = page.locator('#sb-svg');
    await chart.locator('path').first().waitFor();
    assert.equal(await chart.locator('path[aria-label^="createAdmissionregistrationV1beta1MutatingAdmissionPolicy: added"]').count(), 1);
    const added = chart.locator('path[aria-label^="createAdmissionregistrationV1beta1MutatingAdmissionPolicy:"]');
    const fillOf = () => added.evaluate((e) => getComputedStyle(e).fill);
    assert.equal(await fillOf(), 'rgb(45, 164, 78)');
    await page.locator('#sb-colour').selectOption('callers');
    assert.equal(await chart.locator('path[aria-label^="readCoreV1NamespacedPod: hit by a conformance test"]').count(), 1);
    assert.notEqual(await fillOf(), 'rgb(45, 164, 78)');
    await chart.locator('path[tabindex="0"]').focus();
    await page.keyboard.press('Enter');
    await chart.locator('text', { hasText: /^stable/ }).waitFor();
    await focusOn(page, /^\w+: \d+ operations?/);
    await page.keyboard.press('Escape');
    await chart.locator('text', { hasText: /^API/ }).waitFor();
    await focusOn(page, /^stable: /);
    await shot(page, 'report');
    await ctx.close();
    // the report follows a dark system theme too
    const dark = await open(`/dashboard/behavior/${s.apiUsage!.head}/report`, { colorScheme: 'dark' });
    await dark.page.locator('#sb-svg path').first().waitFor();
    assert.equal(await dark.page.evaluate<string>('getComputedStyle(document.body).backgroundColor'), 'rgb(13, 17, 23)');
    await shot(dark.page, 'report-dark');
    await dark.ctx.close();
  });

  it('no script errors on any page', () => {
    assert.deepEqual(e.errors, []);
  });
});
