/**
 * The page <-> service worker protocol of the tile accelerator: one
 * discriminated union each way, plus the header names both sides read.
 * Pure TS: imported by src/sw, src/client and the tests.
 */

/** Which layer answered a tile request (response header on every tile the worker serves). */
export const TILE_SOURCE_HEADER = 'X-Tile-Source';
export type SwTileSource = 'sw-memory' | 'sw-cache' | 'batch' | 'network';

/**
 * The server's cache generation for a dataset. It changes on `cache-clear`; a
 * worker that sees a new value drops what it cached for that dataset. Sent as
 * a response header on single tiles and as `generation` in the batch END
 * trailer.
 */
export const TILE_GENERATION_HEADER = 'X-Tile-Generation';

/** Every message we send carries this tag so a composed worker can tell ours from its own. */
export const SW_MESSAGE_TAG = 'tile-accelerator';

/** A tile as the page names it: a URL the worker routes, or a dataset plus `z/x/y.ext`. */
export type PrefetchTarget = string | { dataset: string; key: string };

/** A rectangle of tiles at one zoom (inclusive bounds). */
export interface PrefetchViewport {
  dataset: string;
  z: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  ext: string;
}

export type SwRequest =
  | { tag: typeof SW_MESSAGE_TAG; id: number; type: 'stats' }
  | { tag: typeof SW_MESSAGE_TAG; id: number; type: 'prefetch'; targets: PrefetchTarget[] }
  | { tag: typeof SW_MESSAGE_TAG; id: number; type: 'prefetchViewport'; viewport: PrefetchViewport }
  | { tag: typeof SW_MESSAGE_TAG; id: number; type: 'clear'; dataset?: string }
  | { tag: typeof SW_MESSAGE_TAG; id: number; type: 'resetStats' };

export type SwRequestType = SwRequest['type'];

export type SwReply =
  | { tag: typeof SW_MESSAGE_TAG; id: number; ok: true; value: unknown }
  | { tag: typeof SW_MESSAGE_TAG; id: number; ok: false; code: string; message: string };

/** What `prefetch` answers: how many targets were accepted (queued or already cached). */
export interface PrefetchResult {
  accepted: number;
  rejected: number;
}

/**
 * The worker's counters. Names shared with the server's cache-stats keep the
 * server's snake_case spelling (`total_requests`, `cache_hits`,
 * `cache_misses`, `hit_rate`, `coalesced`, `in_flight`, `cache_size`,
 * `cache_max`, `bytes`).
 */
export interface SwStats {
  /** Tile requests the worker answered (visible only, prefetch excluded). */
  total_requests: number;
  /** Answered from memory or Cache Storage. */
  cache_hits: number;
  cache_misses: number;
  hit_rate: string;
  memory_hits: number;
  cache_storage_hits: number;
  /** Requests that joined an in-flight fetch of the same tile. */
  coalesced: number;
  in_flight: number;
  batches: number;
  batch_tiles: number;
  /** Largest batch sent. */
  batch_max: number;
  /** Single-tile fetches: fallbacks after a failed batch, or no batching. */
  network_fetches: number;
  batch_failures: number;
  not_found: number;
  /** Page requests that aborted before their answer (the tile left the view). */
  aborted: number;
  /** Tiles the prefetcher fetched (each fetch once) and their bytes. */
  prefetched: number;
  prefetch_bytes: number;
  /** Of those, tiles a page request was then served (each once, whichever tier served it), and their bytes. */
  prefetch_used: number;
  prefetch_used_bytes: number;
  /** `prefetch_bytes - prefetch_used_bytes`: spent on tiles no page asked for (yet). */
  prefetch_unused_bytes: number;
  /** Prefetch targets already cached when their turn came (no fetch). */
  prefetch_skipped: number;
  /** Prefetch targets dropped (queued) or aborted (in flight) because the view moved on or the tile was aborted. */
  prefetch_cancelled: number;
  evictions: number;
  quota_errors: number;
  /** Write-behind groups whose persistent write missed its deadline (their `waitUntil` settled anyway; the tiles stay in memory). */
  write_timeouts: number;
  /** Requests answered by plain fetch after an internal failure. */
  fallbacks: number;
  /** Entries and bytes in the persistent cache (Cache Storage bodies indexed in IndexedDB). */
  cache_size: number;
  bytes: number;
  cache_max: number;
  memory_bytes: number;
  video_requests: number;
  video_chunk_hits: number;
  video_chunk_fetches: number;
}

export function isSwRequest(data: unknown): data is SwRequest {
  return (
    typeof data === 'object' &&
    data !== null &&
    (data as { tag?: unknown }).tag === SW_MESSAGE_TAG &&
    typeof (data as { id?: unknown }).id === 'number' &&
    typeof (data as { type?: unknown }).type === 'string'
  );
}

export function isSwReply(data: unknown): data is SwReply {
  return (
    typeof data === 'object' &&
    data !== null &&
    (data as { tag?: unknown }).tag === SW_MESSAGE_TAG &&
    typeof (data as { ok?: unknown }).ok === 'boolean'
  );
}
