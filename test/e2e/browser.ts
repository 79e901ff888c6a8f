// What the browser tests share: Debian's Chromium, launched headless by playwright-core, and pages that record
// every script error of the pages they open (each test file ends by asserting there were none).
import { existsSync, mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startScenarioBot, type Scenario } from '../integration/dashboard-scenario.ts';
import type { Harness } from '../integration/harness.ts';

export const CHROMIUM = process.env.KATABOT_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or false. */
export function noChromium(): string | false {
  return existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (Debian package chromium; scripts/katabot.sh installs it)`;
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

export type Open = (path: string, opts?: Parameters<Browser['newContext']>[0]) => Promise<{ ctx: BrowserContext; page: Page }>;

/** Opens pages of `base` in fresh contexts (1440×900 unless told), recording their script errors in `errors`. */
export function pageOpener(browser: () => Browser, base: () => string, errors: string[], defaults: Parameters<Browser['newContext']>[0] = {}): Open {
  return async (path, opts = {}) => {
    const ctx = await browser().newContext({ viewport: { width: 1440, height: 900 }, ...defaults, ...opts });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(`${path}: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${path}: console: ${m.text()}`);
    });
    page.setDefaultTimeout(8000);
    await page.goto(`${base()}${path}`);
    return { ctx, page };
  };
}

/** The dashboard scenario's katabot and a Chromium to look at it with. */
export interface BrowserScenario {
  h: Harness;
  s: Scenario;
  /** Script errors of every page opened. */
  errors: string[];
  open: Open;
  close(): Promise<void>;
}

export async function startBrowserScenario(name: string, artifacts: string, defaults: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserScenario> {
  mkdirSync(artifacts, { recursive: true });
  const bot = await startScenarioBot(name);
  const browser = await launchChromium();
  const errors: string[] = [];
  return {
    h: bot.h, s: bot.s, errors, open: pageOpener(() => browser, () => bot.h.bot.url, errors, defaults),
    async close() {
      await browser.close();
      await bot.close();
    },
  };
}
