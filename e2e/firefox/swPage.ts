import type { Page } from 'puppeteer-core';
import type { SwStatsLike } from '../sw/swStack.js';

// The fixture page's hooks (e2e/sw/fixtures/sw-page.html) driven through
// puppeteer-core: the Playwright helpers in e2e/sw/swStack.ts take
// Playwright's Page, these take puppeteer's.

export type Shown = Array<{ x: number; y: number; ok: boolean }>;
export type Info = {
  status?: number;
  source?: string | null;
  contentRange?: string | null;
  length?: number;
  sum?: number;
  decodes?: boolean;
  error?: string;
};
type Hooks = {
  ready: Promise<boolean>;
  showTiles(...a: unknown[]): Promise<Shown>;
  fetchInfo(url: string, init?: RequestInit): Promise<Info>;
  acc: { stats(): Promise<SwStatsLike> };
};

/** The digest the fixture page computes over a body. */
export const digest = (b: Uint8Array) => b.reduce((a, v) => (a * 31 + v) >>> 0, 7);

/** Opens the fixture page and waits until the worker controls it. */
export async function openControlled(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await controlled(page);
}

/** After a navigation or reload: the page's registration settled with the worker in control. */
export async function controlled(page: Page): Promise<void> {
  const ok = await page.evaluate(() => (globalThis as unknown as Hooks).ready);
  if (!ok) throw new Error('the service worker did not take control of the fixture page');
}

/** Inserts <img>s for a block of level-4 sample tiles; resolves when each has loaded or failed. */
export const show = (page: Page, x0: number, y0: number, cols: number, rows: number): Promise<Shown> =>
  page.evaluate(
    (a, b, c, d) => (globalThis as unknown as Hooks).showTiles('sample', 4, a, b, c, d),
    x0,
    y0,
    cols,
    rows,
  );

export const fetchInfo = (page: Page, url: string, init: RequestInit = {}): Promise<Info> =>
  page.evaluate((u, i) => (globalThis as unknown as Hooks).fetchInfo(u, i), url, init as object);

export const stats = (page: Page): Promise<SwStatsLike> =>
  page.evaluate(() => (globalThis as unknown as Hooks).acc.stats());

/** Polls the worker's stats until `done` holds; fails after the deadline with `what` and the last stats. */
export async function waitForStats(
  page: Page,
  what: string,
  done: (s: SwStatsLike) => boolean,
  timeoutMs = 15_000,
): Promise<SwStatsLike> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await stats(page);
    if (done(s)) return s;
    if (Date.now() > end) throw new Error(`waited ${timeoutMs} ms for ${what}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
