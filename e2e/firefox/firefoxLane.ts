import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { firefoxPath, launchFirefox, noFirefox } from './launchFirefox.js';

if (!firefoxPath) {
  // CI must run the lane: a missing Firefox fails every spec file with the reason.
  if (process.env['CI']) throw new Error(`${noFirefox}; CI runs the Firefox lane`);
  console.warn(`[firefox lane] SKIPPED on this machine: ${noFirefox}`);
}

/** `describe` when a Firefox is present, else `describe.skip` (outside CI only; see above). */
export const describeFirefox = firefoxPath ? describe : describe.skip;

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
