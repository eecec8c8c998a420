import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
// @ts-expect-error plain ESM helper shared with scripts/ensure-tools.mjs and the bench
import { findFirefox, firefoxPrefs, NO_FIREFOX } from '../../scripts/firefox.mjs';

const executablePath: string | undefined = findFirefox();
if (!executablePath) {
  // CI must run the lane: a missing Firefox fails every spec file with the reason.
  if (process.env['CI']) throw new Error(`${NO_FIREFOX}; CI runs the Firefox lane`);
  console.warn(`[firefox lane] SKIPPED on this machine: ${NO_FIREFOX}`);
}

/** `describe` when a Firefox is present, else `describe.skip` (outside CI only; see above). */
export const describeFirefox = executablePath ? describe : describe.skip;

/**
 * Headless Firefox with a fresh temporary profile (puppeteer makes one per
 * launch in the OS temp dir and removes it on close) and the lane's prefs.
 */
export function launchFirefox(): Promise<Browser> {
  if (!executablePath) throw new Error(NO_FIREFOX);
  return puppeteer.launch({
    browser: 'firefox',
    executablePath,
    headless: true,
    extraPrefsFirefox: firefoxPrefs,
  });
}

export interface FirefoxLane {
  /** A fresh browser context (own service workers, caches and storage), closed after the test. */
  newContext(): Promise<BrowserContext>;
  /** A page in `ctx` (or in a fresh context) whose uncaught errors land in `errors`. */
  newPage(ctx?: BrowserContext): Promise<Page>;
  /** Uncaught page errors of the pages this test opened (a late one of an earlier test lands in that test's list). */
  readonly errors: string[];
}

/**
 * For a spec file: one Firefox for the file (beforeAll), a fresh context per
 * test, every context closed after its test and the browser after the file,
 * failed or not.
 */
export function useFirefox(): FirefoxLane {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  let errors: string[] = [];
  beforeAll(async () => {
    browser = await launchFirefox();
  });
  beforeEach(() => {
    errors = [];
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => {})));
  });
  afterAll(async () => {
    await browser?.close().catch(() => {});
  });
  const newContext = async () => {
    if (!browser) throw new Error('Firefox did not start (see beforeAll)');
    const c = await browser.createBrowserContext();
    contexts.push(c);
    return c;
  };
  return {
    get errors() {
      return errors;
    },
    newContext,
    async newPage(ctx) {
      const page = await (ctx ?? (await newContext())).newPage();
      const list = errors;
      page.on('pageerror', (e) => list.push(e instanceof Error ? e.message : String(e)));
      return page;
    },
  };
}
