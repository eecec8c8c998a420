import path from 'node:path';
import type { Page, Response } from '@playwright/test';
import { ensureSampleDataset } from '../../server/tiler/sampleDataset.js';
import { type Stack, startStack } from '../harness/startStack.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface SampleStack extends Stack {
  /** Paths (with query) the companion server saw. */
  serverRequests: string[];
  /** Origin GETs for keys under `sample/`. */
  originTileGets(): number;
}

/**
 * Mocked origin over the bundled `sample` dataset (data/sample, levels 0..5,
 * built on first use) and a companion server whose static dir is `staticDir`,
 * so pages, their worker and /api/* share one origin. `files` adds objects
 * beside it (DZI trees, PMTiles archives) and turns dataset discovery on.
 */
export async function startSampleStack(
  staticDir: string,
  files?: Record<string, Uint8Array | string>,
): Promise<SampleStack> {
  const dataDir = path.join(ROOT, 'data');
  await ensureSampleDataset(dataDir, { log: () => {} });
  const stack = await startStack({
    origin: { root: dataDir, ...(files ? { files } : {}) },
    config: { staticDir, ...(files ? { datasetDiscovery: 'auto' as const } : {}) },
  });
  const serverRequests: string[] = [];
  stack.server.server.on('request', (req) => serverRequests.push(req.url ?? ''));
  return {
    ...stack,
    serverRequests,
    originTileGets: () => stack.origin.requests.filter((r) => r.key.startsWith('sample/')).length,
  };
}

export interface TileResponses {
  /** X-Tile-Source of every /api/tiles response the page saw, by URL path. */
  sources: Map<string, string | null>;
  /** How many of them were answered by a service worker. */
  fromWorker(): number;
}

/** Records the tile responses a page sees (page.on('response')), with the worker's X-Tile-Source. */
export function watchTiles(page: Page): TileResponses {
  const sources = new Map<string, string | null>();
  let fromWorker = 0;
  page.on('response', (r: Response) => {
    const u = new URL(r.url());
    if (!u.pathname.startsWith('/api/tiles/') || u.pathname.endsWith('/batch')) return;
    // Descriptors (`d.dzi`, TileJSON `d.json`) are documents, not tiles: the worker passes them through.
    if (/^\/api\/tiles\/[^/]+\.(dzi|json)$/.test(u.pathname)) return;
    sources.set(u.pathname, r.headers()['x-tile-source'] ?? null);
    if (r.fromServiceWorker()) fromWorker++;
  });
  return { sources, fromWorker: () => fromWorker };
}

/** Sources the worker (not the server directly) writes on its responses. */
export const WORKER_SOURCES = ['batch', 'network', 'sw-memory', 'sw-cache'];
