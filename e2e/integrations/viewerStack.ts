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

/**
 * The sample stack with examples/assemble.mjs's folder (pages, bundles, /vendor)
 * as its static dir; `files` adds origin objects beside the sample (discovery on).
 */
export async function startViewerStack(files?: Record<string, Uint8Array | string>): Promise<ViewerStack> {
  const staticDir = await mkdtemp(path.join(tmpdir(), 'tile-examples-'));
  try {
    assembleExamples(staticDir);
    const stack = await startSampleStack(staticDir, files);
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

/** Opens examples/<name>.html (plus `query`); resolves once the page registered the worker and started its viewer. */
export async function openExample(
  page: Page,
  stack: ViewerStack,
  name: string,
  query = '',
): Promise<TileResponses> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const tiles = watchTiles(page);
  await page.goto(`${stack.serverUrl}/examples/${name}.html${query}`);
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

/** Which dataset a check is about: its route name and how its origin reads are told apart. */
export interface TilesOf {
  /** The dataset the page's tile URLs name (`sample`, `pic_files` for pic's Deep Zoom tiles...). */
  dataset: string;
  /** Origin requests that are this dataset's tile reads (keys, or an archive's ranges). */
  isOriginRead: (r: { key: string; range: string | undefined }) => boolean;
}

const SAMPLE: TilesOf = { dataset: 'sample', isOriginRead: (r) => r.key.startsWith('sample/') };

/**
 * The viewer displayed at least `min` tiles and they came through the worker:
 * its counters, the X-Tile-Source of the responses the page saw, batch
 * requests at the companion (no single-tile GET from the page) and origin
 * reads (each key, or each range of an archive, read at most once).
 */
export async function expectTilesThroughWorker(
  page: Page,
  stack: ViewerStack,
  tiles: TileResponses,
  min: number,
  of: TilesOf | TilesOf[] = SAMPLE,
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
  for (const d of Array.isArray(of) ? of : [of]) {
    // Dataset ids are [A-Za-z0-9_-]: nothing to escape.
    const single = new RegExp(`^/api/tiles/${d.dataset}/\\d+/`);
    const direct = stack.serverRequests.filter((u) => single.test(u));
    expect(direct, `${d.dataset} tiles fetched from the server without the worker`).toEqual([]);
    expect(stack.serverRequests.some((u) => u.startsWith(`/api/tiles/${d.dataset}/batch`))).toBe(true);
    const reads = stack.origin.requests
      .map((r) => ({ key: r.key, range: typeof r.headers.range === 'string' ? r.headers.range : undefined }))
      .filter(d.isOriginRead)
      .map((r) => `${r.key} ${r.range ?? ''}`);
    expect(reads.length, `origin reads of ${d.dataset}`).toBeGreaterThanOrEqual(1);
    // Each tile is fetched from the origin at most once, prefetches included.
    expect(new Set(reads).size, `${d.dataset}: an origin read made twice`).toBe(reads.length);
  }
  return stats!;
}
