import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import sharp from 'sharp';
import type { Stack } from '../harness/startStack.js';
import { type DemoWindow, sampleDataRoot, startDemoStack } from './demoStack.js';

let stack: Stack;
test.beforeAll(async () => {
  stack = await startDemoStack();
});
test.afterAll(async () => {
  await stack?.close();
});

/** Waits until every visible tile of the current level is drawn (or known missing). */
async function waitComplete(page: Page, level?: number): Promise<void> {
  await page.waitForFunction(
    (lvl) => {
      const d = (globalThis as DemoWindow).__demo;
      const f = d?.frame();
      if (!d || !f) return false;
      const c = d.camera();
      // The last frame must be of the current camera, not the view before a setCamera.
      const current = f.cam.cx === c.cx && f.cam.cy === c.cy && f.cam.zoom === c.zoom;
      return current && f.complete && f.visible > 0 && (lvl === null || f.level === lvl);
    },
    level ?? null,
    { timeout: 40_000 },
  );
}

const hook = <T>(page: Page, fn: (d: NonNullable<DemoWindow['__demo']>) => T): Promise<T> =>
  page.evaluate(`(${fn.toString()})(window.__demo)`) as Promise<T>;

/** Standard deviation of the luminance and the count of distinct coarse colours of a screenshot. */
async function pictureStats(png: Buffer): Promise<{ stdev: number; colours: number }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const colours = new Set<number>();
  let sum = 0;
  let sq = 0;
  const n = info.width * info.height;
  for (let i = 0; i < data.length; i += 3) {
    const y = 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
    sum += y;
    sq += y * y;
    colours.add(((data[i]! >> 4) << 8) | ((data[i + 1]! >> 4) << 4) | (data[i + 2]! >> 4));
  }
  return { stdev: Math.sqrt(sq / n - (sum / n) ** 2), colours: colours.size };
}

test('the viewer renders the sample at two zoom levels, and the screenshot is not blank', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${stack.serverUrl}/`);
  await waitComplete(page);
  const first = await hook(page, (d) => d.frame());
  expect(first.rendered[first.level]).toBe(first.visible);
  const view = page.locator('#view');
  const shot1 = await pictureStats(await view.screenshot());
  expect(shot1.stdev).toBeGreaterThan(8);
  expect(shot1.colours).toBeGreaterThan(50);

  // Two levels deeper at the centre: new tiles, the parent level still drawn underneath while they load.
  await hook(page, (d) => {
    const c = { cx: 4096, cy: 3571, zoom: 4 };
    d.setCamera(c);
  });
  await waitComplete(page, 4);
  const deep = await hook(page, (d) => d.frame());
  expect(deep.rendered[4]).toBe(deep.visible);
  expect(deep.visible).toBeGreaterThanOrEqual(12);
  const shot2 = await pictureStats(await view.screenshot());
  expect(shot2.stdev).toBeGreaterThan(8);

  // The README screenshot (UPDATE_SCREENSHOT=1 rewrites docs/screenshot.png; otherwise test-results/).
  await hook(page, (d) => d.setCamera({ cx: 4096, cy: 3571, zoom: 2.6 }));
  await waitComplete(page);
  // The side panel refreshes once a second: wait for the refresh that shows this view and
  // the latency histogram, rather than a fixed sleep (this only decides what the picture shows).
  const level = (await hook(page, (d) => d.frame())).level;
  await expect(page.locator('#mode')).toContainText(`z=${level}`);
  await expect(page.locator('#latency-label')).toContainText('p50');
  const out = process.env['UPDATE_SCREENSHOT'] ? 'docs/screenshot.png' : 'test-results/demo-screenshot.png';
  await page.screenshot({ path: out });
});

// Main-thread decode calls, counted by wrapping `createImageBitmap` on the page (an init
// script runs in the page's frames only, not in the pool's dedicated workers). Canvas 2D
// keeps the comparison to one decode op: both paths turn each JPEG into an ImageBitmap.
// How long the main thread is busy is a speed figure: bench/client measures it (CPU and
// long tasks, pool against main thread side by side); this file asserts where decoding ran.
const COUNT_MAIN_DECODES = `
  window.__mainDecodes = 0;
  const original = window.createImageBitmap;
  window.createImageBitmap = function (...args) {
    window.__mainDecodes++;
    return original.apply(this, args);
  };
`;

/** Main-thread decodes, uploads and the pool's counters, read in one evaluate. */
const decodeCounters = (page: Page) =>
  page.evaluate(() => {
    const w = globalThis as DemoWindow;
    return { main: w.__mainDecodes!, uploads: w.__demo!.store().uploads, pool: w.__demo!.pool() ?? null };
  });

test.describe('where tiles decode', () => {
  test('64+ tiles decode in the worker pool and none on the main thread', async ({ page }) => {
    test.setTimeout(150_000);
    await page.setViewportSize({ width: 960, height: 600 });
    await page.addInitScript(COUNT_MAIN_DECODES);
    await page.goto(`${stack.serverUrl}/?sw=off&renderer=canvas`);
    await waitComplete(page);
    const before = await decodeCounters(page);
    expect(before.pool, 'the demo runs with its worker pool').not.toBeNull();
    // Six disjoint full-resolution views of about 16 new tiles each.
    for (const [cx, cy] of [
      [1300, 1300],
      [4096, 3571],
      [6800, 5800],
      [6800, 1300],
      [1300, 5800],
      [4096, 600],
    ] as const) {
      await page.evaluate(`window.__demo.setCamera({ cx: ${cx}, cy: ${cy}, zoom: 5 })`);
      await waitComplete(page, 5);
    }
    const after = await decodeCounters(page);
    const uploads = after.uploads - before.uploads;
    expect(uploads).toBeGreaterThanOrEqual(64);
    // Every uploaded tile is a pool job that completed (a job can also complete for a tile
    // that left the view before its upload, hence >=); none failed.
    expect(after.pool!.completed - before.pool!.completed).toBeGreaterThanOrEqual(uploads);
    expect(after.pool!.failed - before.pool!.failed).toBe(0);
    // Nothing decoded on the main thread, start-up included.
    expect(after.main).toBe(0);
  });

  test('the counter sees main-thread decodes (?decode=main, the control)', async ({ page }) => {
    // Without this the test above could pass with a counter that never counts.
    await page.setViewportSize({ width: 960, height: 600 });
    await page.addInitScript(COUNT_MAIN_DECODES);
    await page.goto(`${stack.serverUrl}/?sw=off&renderer=canvas&decode=main`);
    await waitComplete(page);
    const c = await decodeCounters(page);
    expect(c.pool).toBeNull();
    expect(c.uploads).toBeGreaterThan(0);
    expect(c.main).toBeGreaterThanOrEqual(c.uploads);
  });
});

test('the WebGL path uploads BC1 textures when WEBGL_compressed_texture_s3tc exists', async ({ page }) => {
  await page.goto(`${stack.serverUrl}/?sw=off`);
  const hasS3tc = (await page.evaluate(
    `!!document.createElement('canvas').getContext('webgl2')?.getExtension('WEBGL_compressed_texture_s3tc')`,
  )) as boolean;
  await waitComplete(page);
  const info = await hook(page, (d) => ({
    renderer: d.renderer,
    why: d.rendererReason,
    format: d.textureFormat,
    store: d.store(),
  }));
  if (!hasS3tc) {
    expect(info.renderer).not.toBe('webgl-bc1');
    return;
  }
  expect(info.renderer, info.why).toBe('webgl-bc1');
  expect(info.format).toBe('COMPRESSED_RGB_S3TC_DXT1_EXT');
  // 256 x 256 BC1 = 32 KiB per tile: 8x less than RGBA8.
  expect(info.store.ready).toBeGreaterThan(0);
  expect(info.store.textureBytes).toBe(info.store.ready * 32 * 1024);
});

test('the canvas 2D fallback works when forced with ?renderer=canvas', async ({ page }) => {
  await page.setViewportSize({ width: 1024, height: 700 });
  await page.goto(`${stack.serverUrl}/?sw=off&renderer=canvas`);
  await waitComplete(page);
  const info = await hook(page, (d) => ({ renderer: d.renderer, frame: d.frame() }));
  expect(info.renderer).toBe('canvas');
  expect(info.frame.rendered[info.frame.level]).toBe(info.frame.visible);
  const stats = await pictureStats(await page.locator('#view').screenshot());
  expect(stats.stdev).toBeGreaterThan(8);
});

test('shows a server-down state instead of failing silently', async ({ page }) => {
  // Its own stack: this test stops the server.
  const own = await startDemoStack();
  try {
    await page.goto(`${own.serverUrl}/?sw=off`);
    await waitComplete(page);
    await expect(page.locator('#status')).toBeHidden();
    await own.server.close();
    await hook(page, (d) => d.setCamera({ cx: 8000, cy: 7000, zoom: 5 }));
    await expect(page.locator('#status')).toHaveClass(/down/, { timeout: 10_000 });
    await expect(page.locator('#status')).toContainText('Server unreachable');
    expect(await hook(page, (d) => d.store().serverDown)).toBe(true);
  } finally {
    await own.close();
  }
});

test('the video sample loads and seeks through /api/video (206 ranges)', async ({ page }) => {
  const ranges: number[] = [];
  page.on('response', (r) => {
    if (r.url().includes('/api/video/sample.mp4')) ranges.push(r.status());
  });
  await page.goto(`${stack.serverUrl}/?sw=off`);
  const video = page.locator('#video');
  await expect
    .poll(() => video.evaluate((v) => (v as unknown as { readyState: number }).readyState))
    .toBeGreaterThan(0);
  await page.locator('[data-seek="0.5"]').click();
  await expect(page.locator('#video-info')).toContainText(/at [1-9]/, { timeout: 10_000 });
  expect(ranges).toContain(206);
});

test('drag pans, the wheel zooms at the cursor, and the keyboard zooms and fits', async ({ page }) => {
  await page.setViewportSize({ width: 1024, height: 700 });
  await page.goto(`${stack.serverUrl}/?sw=off&renderer=canvas`);
  await waitComplete(page);
  const cam = () => hook(page, (d) => d.camera());
  const box = (await page.locator('#view').boundingBox())!;
  const start = await cam();

  await page.mouse.move(box.x + 400, box.y + 300);
  await page.mouse.down();
  await page.mouse.move(box.x + 300, box.y + 250, { steps: 5 });
  await page.mouse.up();
  const panned = await cam();
  // Dragging left/up by (100, 50) CSS px moves the centre right/down by that many image px at this scale.
  const scale = 2 ** (start.zoom - 5);
  expect(panned.cx - start.cx).toBeCloseTo(100 / scale, 0);
  expect(panned.cy - start.cy).toBeCloseTo(50 / scale, 0);
  expect(panned.zoom).toBe(start.zoom);

  await page.mouse.wheel(0, -400);
  await expect.poll(async () => (await cam()).zoom).toBeGreaterThan(start.zoom + 0.5);

  await page.keyboard.press('0');
  await expect.poll(async () => (await cam()).zoom).toBeCloseTo(start.zoom, 5);
  await page.keyboard.press('+');
  await expect.poll(async () => (await cam()).zoom).toBeCloseTo(start.zoom + 1, 5);
  await page.keyboard.press('ArrowRight');
  const after = await cam();
  expect(after.cx).toBeGreaterThan(start.cx);
  await waitComplete(page);
});

test('an origin without level 4 shows "missing" and keeps the parent level drawn scaled', async ({
  page,
}) => {
  const src = await sampleDataRoot();
  const root = await mkdtemp(path.join(tmpdir(), 'demo-missing-'));
  for (const z of ['0', '1', '2', '3'])
    await cp(path.join(src, 'sample', z), path.join(root, 'sample', z), { recursive: true });
  const own = await startDemoStack(5, root);
  try {
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.goto(`${own.serverUrl}/?sw=off`);
    await waitComplete(page);
    await hook(page, (d) => d.setCamera({ cx: 4096, cy: 3571, zoom: 4 }));
    await waitComplete(page, 4);
    const f = await hook(
      page,
      (d) =>
        d.frame() as unknown as { missingVisible: number; visible: number; rendered: Record<number, number> },
    );
    expect(f.missingVisible).toBe(f.visible);
    expect(f.rendered[4] ?? 0).toBe(0);
    // The decoded ancestors (level 2 from the first view) stand in, scaled up.
    const coarser = Object.entries(f.rendered).filter(([z, n]) => Number(z) < 4 && n > 0);
    expect(coarser.length).toBeGreaterThan(0);
    await expect(page.locator('#status')).toHaveClass(/missing/);
    await expect(page.locator('#status')).toContainText('missing at z=4');
  } finally {
    await own.close();
    await rm(root, { recursive: true, force: true });
  }
});
