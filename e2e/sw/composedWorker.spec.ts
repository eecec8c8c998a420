import path from 'node:path';
import { expect, test } from '@playwright/test';
import { build } from 'vite';
import { openControlled, type SwStack, startSwStack } from './swStack.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

let stack: SwStack | undefined;
test.afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

test('installTileAccelerator composes into an app worker and leaves its other routes alone', async ({
  page,
}) => {
  stack = await startSwStack();
  await build({
    configFile: false,
    root: ROOT,
    logLevel: 'warn',
    publicDir: false,
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: {
      outDir: stack.staticDir,
      emptyOutDir: false,
      lib: {
        entry: path.join(ROOT, 'test/support/sw/composedWorker.ts'),
        formats: ['iife'],
        name: 'composedSw',
        fileName: () => 'composed-sw.js',
      },
    },
  });
  await openControlled(page, stack.pageUrl({ swUrl: '/composed-sw.js' }));
  stack.serverRequests.length = 0;
  const result = await page.evaluate(async () => {
    const hello = await (await fetch('/app/hello')).text();
    const tile = await fetch('/api/tiles/sample/4/2/3.jpg');
    const health = await fetch('/healthz');
    const g = globalThis as unknown as { acc: { stats(): Promise<Record<string, number>> } };
    return {
      hello,
      tileStatus: tile.status,
      tileSource: tile.headers.get('X-Tile-Source'),
      healthStatus: health.status,
      healthSource: health.headers.get('X-Tile-Source'),
      stats: await g.acc.stats(),
    };
  });
  expect(result.hello).toBe('from the app worker'); // the app's own Workbox route
  expect(result.tileStatus).toBe(200);
  expect(result.tileSource).toBe('batch'); // ours
  expect(result.healthStatus).toBe(200); // untouched: straight to the server
  expect(result.healthSource).toBeNull();
  expect(result.stats['total_requests']).toBe(1);
  expect(stack.serverRequests.map((r) => r.url)).toEqual(['/api/tiles/sample/batch', '/healthz']);
});
