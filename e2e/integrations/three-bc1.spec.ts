import { expect, test } from '@playwright/test';
import { openExample, startViewerStack, type ViewerStack, webglLaunchOptions } from './viewerStack.js';

test.use({ launchOptions: await webglLaunchOptions() });

let stack: ViewerStack | undefined;
test.afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

interface Result {
  s3tc: boolean;
  uploads: Array<{ x: number; y: number; format: string; bytes: number }>;
  samples: number[][];
  glError: number;
}

test('three.js uploads tiles as BC1 textures from acc.decode and renders them', async ({ page }) => {
  stack = await startViewerStack();
  const tiles = await openExample(page, stack, 'three-bc1');
  await page.waitForFunction(() => 'result' in globalThis, undefined, { timeout: 20_000 });
  const r = (await page.evaluate(() => (globalThis as unknown as { result: Result }).result)) as Result;

  // SwiftShader exposes s3tc, so the compressed path is the one under test here.
  expect(r.s3tc).toBe(true);
  expect(r.uploads).toHaveLength(4);
  for (const u of r.uploads) {
    expect(u.format).toBe('bc1');
    // z=1 tiles are 256 x 256 (the bottom row is cut at the image's edge but still a full tile).
    expect(u.bytes).toBe((256 / 4) * (256 / 4) * 8);
  }
  expect(r.glError).toBe(0);
  // Rendered texels are the image (the Hubble field: dark, not uniform), not a blank or black quad.
  const lum = r.samples.map(([red, green, blue]) => red! + green! + blue!);
  expect(lum.some((l) => l > 0)).toBe(true);
  expect(new Set(r.samples.map((s) => s.join())).size).toBeGreaterThan(1);

  // The tile bytes came through the worker.
  for (const [url, source] of tiles.sources)
    expect(['batch', 'network', 'sw-memory', 'sw-cache'], url).toContain(source);
  expect(tiles.sources.size).toBe(4);
  expect(stack.originTileGets()).toBeGreaterThanOrEqual(4);
});
