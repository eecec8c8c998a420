import { TileError } from '../protocol/errors.js';
import { MAX_BATCH_TILES } from '../protocol/tileKey.js';

/** Options of {@link installTileAccelerator}; all optional. The page can pass them through the script URL. */
export interface TileAcceleratorOptions {
  /** Base URL of the companion server (batch route, video). Default: the worker's own origin. */
  server?: string;
  /**
   * Tile URL templates with `{dataset} {z} {x} {y} {ext}` (absolute, or a path
   * on the worker's origin and on `server`). Default: the DESIGN.md route
   * `/api/tiles/{dataset}/{z}/{x}/{y}.{ext}`.
   */
  tileRoutes?: string[];
  /**
   * Cache-Control on tiles the worker answers when the server's own value is
   * not known (batch frames carry none). Default `public, max-age=86400`,
   * the server's TILE_MAX_AGE_SEC default.
   */
  cacheControl?: string;
  /** URL path prefixes of ranged video resources. Default `/api/video/`. */
  videoRoutes?: string[];
  batch?: {
    enabled?: boolean;
    /** A batch leaves after this quiet gap with no new miss (ms)... */
    windowMs?: number;
    /** ...or this long after its first miss, whichever is first (ms). */
    maxWaitMs?: number;
    /** A batch leaves early at this many tiles (the server's limit is 100). */
    maxTiles?: number;
    method?: 'POST' | 'GET';
    /** Deadline for a whole batch response (ms). */
    timeoutMs?: number;
  };
  /** Single-tile fetches (fallback): retries, per-attempt deadline, and how many run at once. */
  network?: {
    retries?: number;
    backoffBaseMs?: number;
    timeoutMs?: number;
    /**
     * Single fetches in flight at once when a batch failed or left keys
     * unanswered (a browser's per-host limit is 6). Default 6.
     */
    fallbackConcurrency?: number;
  };
  cache?: {
    /** Byte budget of the persistent cache; default `budgetFraction` of the storage quota. */
    budgetBytes?: number;
    budgetFraction?: number;
    /** Byte bound of the in-worker memory LRU. */
    memoryBytes?: number;
    /** Cache Storage name (and IndexedDB name prefix). */
    name?: string;
  };
  prefetch?: {
    enabled?: boolean;
    /** Ring width around the first view, before any motion is known (0 = none). */
    ring?: number;
    /** The level above the view first (a zoom out shows something at once). */
    parent?: boolean;
    /** Most tiles one plan (after each quiet gap in visible requests) prefetches. */
    budget?: number;
    /** Quiet gap after the last visible tile before the plan is made (ms). */
    quietMs?: number;
    maxInFlight?: number;
    perSecond?: number;
    /** Bound of the queue of waiting prefetch targets. */
    maxQueue?: number;
  };
  video?: { chunkBytes?: number; prefetchAhead?: number; timeoutMs?: number };
}

export interface ResolvedOptions {
  server: string;
  cacheControl: string;
  tileRoutes: string[];
  videoRoutes: string[];
  batch: {
    enabled: boolean;
    windowMs: number;
    maxWaitMs: number;
    maxTiles: number;
    method: 'POST' | 'GET';
    timeoutMs: number;
  };
  network: { retries: number; backoffBaseMs: number; timeoutMs: number; fallbackConcurrency: number };
  cache: { budgetBytes: number | undefined; budgetFraction: number; memoryBytes: number; name: string };
  prefetch: {
    enabled: boolean;
    ring: number;
    parent: boolean;
    budget: number;
    quietMs: number;
    maxInFlight: number;
    perSecond: number;
    maxQueue: number;
  };
  video: { chunkBytes: number; prefetchAhead: number; timeoutMs: number };
}

export const DEFAULT_TILE_ROUTE = '/api/tiles/{dataset}/{z}/{x}/{y}.{ext}';
export const DEFAULT_VIDEO_ROUTE = '/api/video/';

function num(v: number | undefined, dflt: number, min: number, max: number, name: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new TileError('BAD_CONFIG', `${name} must be a number in ${min}..${max}`, { name, value: v });
  }
  return v;
}

/** Fills defaults and validates; throws BAD_CONFIG naming the option. */
export function resolveOptions(o: TileAcceleratorOptions, workerOrigin: string): ResolvedOptions {
  const server = new URL(o.server ?? workerOrigin, workerOrigin).href.replace(/\/$/, '');
  return {
    server,
    cacheControl: o.cacheControl ?? 'public, max-age=86400',
    tileRoutes: o.tileRoutes?.length ? [...o.tileRoutes] : [DEFAULT_TILE_ROUTE],
    videoRoutes: o.videoRoutes?.length ? [...o.videoRoutes] : [DEFAULT_VIDEO_ROUTE],
    batch: {
      enabled: o.batch?.enabled ?? true,
      windowMs: num(o.batch?.windowMs, 4, 0, 60_000, 'batch.windowMs'),
      maxWaitMs: num(o.batch?.maxWaitMs, 16, 0, 60_000, 'batch.maxWaitMs'),
      maxTiles: num(o.batch?.maxTiles, MAX_BATCH_TILES, 1, MAX_BATCH_TILES, 'batch.maxTiles'),
      method: o.batch?.method ?? 'POST',
      timeoutMs: num(o.batch?.timeoutMs, 20_000, 100, 600_000, 'batch.timeoutMs'),
    },
    network: {
      retries: num(o.network?.retries, 2, 0, 10, 'network.retries'),
      backoffBaseMs: num(o.network?.backoffBaseMs, 100, 0, 60_000, 'network.backoffBaseMs'),
      timeoutMs: num(o.network?.timeoutMs, 15_000, 100, 600_000, 'network.timeoutMs'),
      fallbackConcurrency: num(o.network?.fallbackConcurrency, 6, 1, 100, 'network.fallbackConcurrency'),
    },
    cache: {
      budgetBytes:
        o.cache?.budgetBytes === undefined
          ? undefined
          : num(o.cache.budgetBytes, 0, 1, Number.MAX_SAFE_INTEGER, 'cache.budgetBytes'),
      budgetFraction: num(o.cache?.budgetFraction, 0.2, 0.001, 1, 'cache.budgetFraction'),
      memoryBytes: num(o.cache?.memoryBytes, 32 * 1024 * 1024, 0, 2 ** 31, 'cache.memoryBytes'),
      name: o.cache?.name ?? 'tile-accelerator-v1',
    },
    prefetch: {
      enabled: o.prefetch?.enabled ?? true,
      ring: num(o.prefetch?.ring, 1, 0, 4, 'prefetch.ring'),
      parent: o.prefetch?.parent ?? true,
      budget: num(o.prefetch?.budget, 64, 0, 10_000, 'prefetch.budget'),
      quietMs: num(o.prefetch?.quietMs, 16, 0, 10_000, 'prefetch.quietMs'),
      maxInFlight: num(o.prefetch?.maxInFlight, 100, 1, 1000, 'prefetch.maxInFlight'),
      perSecond: num(o.prefetch?.perSecond, 300, 1, 100_000, 'prefetch.perSecond'),
      maxQueue: num(o.prefetch?.maxQueue, 1000, 1, 100_000, 'prefetch.maxQueue'),
    },
    video: {
      chunkBytes: num(o.video?.chunkBytes, 256 * 1024, 1024, 64 * 1024 * 1024, 'video.chunkBytes'),
      prefetchAhead: num(o.video?.prefetchAhead, 1, 0, 8, 'video.prefetchAhead'),
      timeoutMs: num(o.video?.timeoutMs, 30_000, 100, 600_000, 'video.timeoutMs'),
    },
  };
}
