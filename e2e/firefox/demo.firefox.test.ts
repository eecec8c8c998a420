import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type DemoWindow, startDemoStack } from '../demo/demoStack.js';
import type { Stack } from '../harness/startStack.js';
import { describeFirefox, useFirefox } from './firefoxLane.js';

// The demo as a Firefox user first meets it: it renders, the worker takes
// control, and tiles of a view it has not shown come through batches, with
// no uncaught error on the page at any point.

type Frame = ReturnType<NonNullable<DemoWindow['__demo']>['frame']>;

/** Waits until every visible tile of the current camera is drawn; fails after the deadline. */
async function waitComplete(page: Page, level?: number): Promise<Frame> {
  await page.waitForFunction(
    (lvl: number | null) => {
      const d = (globalThis as DemoWindow).__demo;
      const f = d?.frame();
      if (!d || !f) return false;
      const c = d.camera();
      const current = f.cam.cx === c.cx && f.cam.cy === c.cy && f.cam.zoom === c.zoom;
      return current && f.complete && f.visible > 0 && (lvl === null || f.level === lvl);
    },
    { timeout: 40_000, polling: 100 },
    level ?? null,
  );
  return page.evaluate(() => (globalThis as DemoWindow).__demo!.frame());
}

let stack: Stack;
const requests: string[] = [];
beforeAll(async () => {
  stack = await startDemoStack();
  stack.server.server.on('request', (req) => requests.push(req.url ?? ''));
});
afterAll(async () => {
  await stack?.close();
});

describeFirefox('demo in Firefox', () => {
  const ff = useFirefox();

  test('renders, the worker takes control, a new view arrives in batches, no page errors', async () => {
    const page = await ff.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    await page.goto(`${stack.serverUrl}/`);
    const first = await waitComplete(page);
    expect(first.rendered[first.level]).toBe(first.visible);
    const renderer = await page.evaluate(() => (globalThis as DemoWindow).__demo!.renderer);
    expect(['webgl', 'webgl2', 'canvas']).toContain(renderer);
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { navigator: { serviceWorker: { controller: unknown } } }).navigator
          .serviceWorker.controller !== null,
      { timeout: 15_000 },
    );
    // A view two levels deeper, never shown before: its tiles go through the worker's batches.
    requests.length = 0;
    await page.evaluate(() => (globalThis as DemoWindow).__demo!.setCamera({ cx: 4096, cy: 3571, zoom: 4 }));
    const deep = await waitComplete(page, 4);
    expect(deep.rendered[4]).toBe(deep.visible);
    expect(deep.visible).toBeGreaterThanOrEqual(12);
    expect(requests.filter((u) => /\/api\/tiles\/[^/]+\/batch/.test(u)).length).toBeGreaterThan(0);
    expect(requests.filter((u) => /\/api\/tiles\/[^/]+\/4\//.test(u))).toEqual([]);
    expect(ff.errors).toEqual([]);
  });
});
