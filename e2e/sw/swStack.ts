import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import sharp from 'sharp';
import { type Stack, type StackOptions, startStack } from '../harness/startStack.js';
import type { MockOriginOptions } from '../mockOrigin/MockOrigin.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DIST = path.join(ROOT, 'dist/public');

/** Small, distinct JPEG per tile (colour from the coordinates), made once per process. */
let tileCache: Promise<Record<string, Uint8Array>> | undefined;
export function sampleTiles(dataset = 'sample', z = 4): Promise<Record<string, Uint8Array>> {
  tileCache ??= (async () => {
    const files: Record<string, Uint8Array> = {};
    const n = 2 ** z;
    const jobs: Promise<void>[] = [];
    for (let x = 0; x < n; x++) {
      for (let y = 0; y < n; y++) {
        jobs.push(
          sharp({
            create: { width: 64, height: 64, channels: 3, background: { r: x * 16, g: y * 16, b: 128 } },
          })
            .jpeg({ quality: 80 })
            .toBuffer()
            .then((b) => {
              files[`${dataset}/${z}/${x}/${y}.jpg`] = new Uint8Array(b);
            }),
        );
      }
    }
    await Promise.all(jobs);
    return files;
  })();
  return tileCache;
}

export interface SwStack extends Stack {
  /** Requests the companion server saw (method and path with query). */
  serverRequests: Array<{ method: string; url: string }>;
  batchRequests(): number;
  staticDir: string;
  pageUrl(config?: Record<string, unknown>): string;
}

/**
 * The e2e stack for the worker: mocked origin + companion, whose static dir
 * holds the built bundles (dist/public) plus the fixture page, so the page,
 * /tile-sw.js and /api/* are all one origin.
 */
export async function startSwStack(
  opts: { origin?: MockOriginOptions; stack?: StackOptions } = {},
): Promise<SwStack> {
  if (!existsSync(path.join(DIST, 'tile-sw.js'))) {
    throw new Error('dist/public/tile-sw.js is missing: run `npm run build` first');
  }
  const staticDir = await mkdtemp(path.join(tmpdir(), 'tile-sw-e2e-'));
  await cp(DIST, staticDir, { recursive: true });
  await cp(path.join(import.meta.dirname, 'fixtures'), staticDir, { recursive: true });
  const files = { ...(await sampleTiles()), ...(opts.origin?.files ?? {}) };
  let stack: Stack;
  try {
    stack = await startStack({
      ...opts.stack,
      origin: { ...opts.origin, files },
      config: { ...opts.stack?.config, staticDir },
    });
  } catch (e) {
    await rm(staticDir, { recursive: true, force: true });
    throw e;
  }
  const serverRequests: Array<{ method: string; url: string }> = [];
  stack.server.server.on('request', (req) =>
    serverRequests.push({ method: req.method ?? '', url: req.url ?? '' }),
  );
  return {
    ...stack,
    serverRequests,
    staticDir,
    batchRequests: () => serverRequests.filter((r) => /\/api\/tiles\/[^/]+\/batch/.test(r.url)).length,
    pageUrl: (config) =>
      `${stack.serverUrl}/sw-page.html${config ? `?config=${encodeURIComponent(JSON.stringify(config))}` : ''}`,
    close: async () => {
      await stack.close();
      await rm(staticDir, { recursive: true, force: true });
    },
  };
}

/** Opens the fixture page and waits until the worker controls it. */
export async function openControlled(page: Page, url: string): Promise<void> {
  await page.goto(url);
  const controlled = await page.evaluate(() => (globalThis as unknown as { ready: Promise<boolean> }).ready);
  if (!controlled) throw new Error('the service worker did not take control of the fixture page');
}

export type SwStatsLike = Record<string, number | string>;

export function stats(page: Page): Promise<SwStatsLike> {
  return page.evaluate(() =>
    (globalThis as unknown as { acc: { stats(): Promise<SwStatsLike> } }).acc.stats(),
  );
}

/** Polls the worker's stats until `done` holds or the deadline passes. */
export async function waitForStats(
  page: Page,
  done: (s: SwStatsLike) => boolean,
  timeoutMs = 10_000,
): Promise<SwStatsLike> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await stats(page);
    if (done(s)) return s;
    if (Date.now() > end) throw new Error(`stats did not settle: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function sampleVideo(): Promise<Uint8Array> {
  return new Uint8Array(await readFile(path.join(ROOT, 'fixtures/video/sample.mp4')));
}
