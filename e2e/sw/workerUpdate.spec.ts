import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { type SwStack, startSwStack, waitForStats } from './swStack.js';

// The lifecycle registerTileAccelerator() promises: the first install controls
// the page without a reload (skipWaiting + clients.claim); a new /tile-sw.js
// waits, the page is told (onUpdate), and it takes over on update.activate(),
// or by itself with autoActivate. A "deploy" here rewrites the stack's copy of
// /tile-sw.js: the built worker plus a line that answers its version, so the
// spec can ask which worker controls the page and which one waits.

const BUILT = path.resolve(import.meta.dirname, '../../dist/public/tile-sw.js');

async function deploy(stack: SwStack, version: string): Promise<void> {
  const src = await readFile(BUILT, 'utf8');
  const probe = `\n;self.addEventListener('message', (e) => { if (e.data && e.data.type === 'E2E_VERSION') e.ports[0].postMessage(${JSON.stringify(version)}); });\n`;
  await writeFile(path.join(stack.staticDir, 'tile-sw.js'), src + probe);
}

type Win = {
  ready: Promise<boolean>;
  loads: number;
  updates: number;
  controllerChanges: number;
  pending?: { activate(): Promise<void> };
  acc: { controlled: boolean; update(): Promise<void>; stats(): Promise<Record<string, number>> };
  swVersion(which: 'controller' | 'waiting' | 'active' | 'installing'): Promise<string | null>;
  tile(url: string): Promise<{ status: number; source: string | null }>;
};

let stack: SwStack | undefined;
test.afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function open(page: Page, autoActivate = false): Promise<void> {
  await page.goto(`${stack!.serverUrl}/update-page.html${autoActivate ? '?autoActivate=1' : ''}`);
  expect(await page.evaluate(() => (globalThis as unknown as Win).ready)).toBe(true);
}

const version = (page: Page, which: 'controller' | 'waiting' | 'active') =>
  page.evaluate((w) => (globalThis as unknown as Win).swVersion(w), which);
const tile = (page: Page, url: string) => page.evaluate((u) => (globalThis as unknown as Win).tile(u), url);

test('first install: the worker controls the first page load without a reload', async ({ page }) => {
  stack = await startSwStack();
  await deploy(stack, 'v1');
  await open(page);
  const state = await page.evaluate(() => ({
    loads: (globalThis as unknown as Win).loads,
    controllerChanges: (globalThis as unknown as Win).controllerChanges,
    controlled: (globalThis as unknown as Win).acc.controlled,
    updates: (globalThis as unknown as Win).updates,
  }));
  // One load, one controllerchange (clients.claim), no update callback for a first install.
  expect(state).toEqual({ loads: 1, controllerChanges: 1, controlled: true, updates: 0 });
  expect(await version(page, 'controller')).toBe('v1');
  stack.serverRequests.length = 0;
  expect(await tile(page, '/api/tiles/sample/4/1/1.jpg')).toEqual({ status: 200, source: 'batch' });
  expect(stack.batchRequests()).toBe(1);
});

test('an update waits, the page is told, and update.activate() hands every tab to the new worker', async ({
  context,
}) => {
  stack = await startSwStack();
  await deploy(stack, 'v1');
  const a = await context.newPage();
  await open(a);
  expect(await tile(a, '/api/tiles/sample/4/2/2.jpg')).toEqual({ status: 200, source: 'batch' });
  await waitForStats(a, (s) => Number(s['cache_size']) >= 1); // persisted, so the next worker finds it

  await deploy(stack, 'v2');
  await a.evaluate(() => (globalThis as unknown as Win).acc.update());
  await a.waitForFunction(() => (globalThis as unknown as Win).updates === 1);
  // Installed and waiting; the old worker still controls and still serves.
  expect(await version(a, 'waiting')).toBe('v2');
  expect(await version(a, 'controller')).toBe('v1');
  expect((await tile(a, '/api/tiles/sample/4/2/2.jpg')).source).toBe('sw-memory');

  // A tab opened while the update waits is told too, and is controlled by the old worker.
  const b = await context.newPage();
  await open(b);
  await b.waitForFunction(() => (globalThis as unknown as Win).updates === 1);
  expect(await version(b, 'controller')).toBe('v1');
  expect(await version(b, 'waiting')).toBe('v2');

  // Still waiting: nothing activates it but the page.
  expect(await version(a, 'controller')).toBe('v1');
  await a.evaluate(() => (globalThis as unknown as Win).pending!.activate());
  expect(await version(a, 'controller')).toBe('v2');
  expect(await version(a, 'waiting')).toBeNull();
  expect(await a.evaluate(() => (globalThis as unknown as Win).acc.controlled)).toBe(true);
  // The other tab (controlled from its load, so this is its first change) is claimed as well, without a reload.
  await b.waitForFunction(() => (globalThis as unknown as Win).controllerChanges === 1);
  expect(await version(b, 'controller')).toBe('v2');
  expect(await b.evaluate(() => (globalThis as unknown as Win).loads)).toBe(1);

  // The new worker answers acc.stats() (its counters start at zero) and keeps the old one's cache.
  stack.serverRequests.length = 0;
  stack.origin.resetCounts();
  expect(
    await a.evaluate(() => (globalThis as unknown as Win).acc.stats().then((s) => s['total_requests'])),
  ).toBe(0);
  expect(await tile(a, '/api/tiles/sample/4/2/2.jpg')).toEqual({ status: 200, source: 'sw-cache' });
  expect(stack.serverRequests.filter((r) => r.url.startsWith('/api/'))).toHaveLength(0);
  expect(stack.origin.count()).toBe(0);
});

test('with autoActivate the new worker takes over as soon as it is installed', async ({ page }) => {
  stack = await startSwStack();
  await deploy(stack, 'v1');
  await open(page, true);
  await deploy(stack, 'v2');
  await page.evaluate(() => (globalThis as unknown as Win).acc.update());
  await page.waitForFunction(() => (globalThis as unknown as Win).controllerChanges === 2);
  expect(await version(page, 'controller')).toBe('v2');
  expect(await version(page, 'waiting')).toBeNull();
  // The page was not asked, and not reloaded.
  expect(
    await page.evaluate(() => ({
      updates: (globalThis as unknown as Win).updates,
      loads: (globalThis as unknown as Win).loads,
    })),
  ).toEqual({
    updates: 0,
    loads: 1,
  });
  expect((await tile(page, '/api/tiles/sample/4/3/1.jpg')).status).toBe(200);
});
