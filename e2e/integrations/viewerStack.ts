import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, type Page } from '@playwright/test';
// @ts-expect-error plain ESM helper (examples/assemble.mjs), no declarations
import { assembleExamples } from '../../examples/assemble.mjs';
// @ts-expect-error plain ESM helper shared with the Playwright config
import { chromiumArgs, requireChromium } from '../../scripts/chromium.mjs';
import {
  type SampleStack,
  startSampleStack,
  type TileResponses,
  WORKER_SOURCES,
  watchTiles,
} from './sampleStack.js';

/**
 * Launch options with WebGL (MapLibre and three.js need it): SwiftShader,
 * Chromium's software GL, in place of the shared `--disable-gpu`.
 */
export async function webglLaunchOptions() {
  const executablePath: string = await requireChromium();
  const args = (chromiumArgs as string[]).filter((a) => a !== '--disable-gpu');
  return { executablePath, args: [...args, '--use-angle=swiftshader', '--enable-unsafe-swiftshader'] };
}

export interface ViewerStack extends SampleStack {
  staticDir: string;
}

/** The sample stack with examples/assemble.mjs's folder (pages, bundles, /vendor) as its static dir. */
export async function startViewerStack(): Promise<ViewerStack> {
  const staticDir = await mkdtemp(path.join(tmpdir(), 'tile-examples-'));
  try {
    assembleExamples(staticDir);
    const stack = await startSampleStack(staticDir);
    return {
      ...stack,
      staticDir,
      close: async () => {
        await stack.close();
        await rm(staticDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(staticDir, { recursive: true, force: true });
    throw e;
  }
}

type Win = { acc?: { controlled: boolean; stats(): Promise<Record<string, number>> }; tilesLoaded?: number };

/** Opens examples/<name>.html; resolves once the page registered the worker and started its viewer. */
export async function openExample(page: Page, stack: ViewerStack, name: string): Promise<TileResponses> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const tiles = watchTiles(page);
  await page.goto(`${stack.serverUrl}/examples/${name}.html`);
  await page
    .waitForFunction(() => (globalThis as unknown as Win).tilesLoaded !== undefined, undefined, {
      timeout: 15_000,
    })
    .catch((e: unknown) => {
      throw new Error(`${name}: the viewer did not start (${errors.join('; ') || String(e)})`);
    });
  expect(errors).toEqual([]);
  return tiles;
}

/**
 * The viewer displayed at least `min` tiles and they came through the worker:
 * its counters, the X-Tile-Source of the responses the page saw, batch
 * requests at the companion (no single-tile GET from the page) and origin GETs.
 */
export async function expectTilesThroughWorker(
  page: Page,
  stack: ViewerStack,
  tiles: TileResponses,
  min: number,
): Promise<Record<string, number>> {
  await page.waitForFunction((n) => ((globalThis as unknown as Win).tilesLoaded ?? 0) >= n, min, {
    timeout: 20_000,
  });
  const stats = await page.evaluate(async () => {
    const acc = (globalThis as unknown as Win).acc;
    if (!acc?.controlled) return undefined;
    return acc.stats();
  });
  expect(stats, 'the worker controls the page').toBeDefined();
  expect(stats!.total_requests).toBeGreaterThanOrEqual(min);
  expect(stats!.batches).toBeGreaterThanOrEqual(1);
  expect(stats!.fallbacks).toBe(0);
  for (const [url, source] of tiles.sources) {
    expect(WORKER_SOURCES, `X-Tile-Source of ${url}`).toContain(source);
  }
  const direct = stack.serverRequests.filter((u) => /^\/api\/tiles\/sample\/\d+\//.test(u));
  expect(direct, 'tiles fetched from the server without the worker').toEqual([]);
  expect(stack.serverRequests.some((u) => u.startsWith('/api/tiles/sample/batch'))).toBe(true);
  const originGets = stack.originTileGets();
  expect(originGets).toBeGreaterThanOrEqual(1);
  // Each tile is fetched from the origin at most once, prefetches included.
  const keys = stack.origin.requests.filter((r) => r.key.startsWith('sample/')).map((r) => r.key);
  expect(new Set(keys).size).toBe(keys.length);
  return stats!;
}
