import { TileError } from '../protocol/errors.js';
import { batchPath, MAX_BATCH_TILES } from '../protocol/tileKey.js';
import { getWorkerPool, type JobPriority, type WorkerPool } from './pool/index.js';
import type { JsonBatchTileError } from './pool/jsonBatchBody.js';

export interface JsonBatchOptions {
  /** Companion server origin; default the page's own. */
  baseUrl?: string;
  signal?: AbortSignal;
  priority?: JobPriority;
  /** Per request of at most 100 tiles (ms, default 30 000). */
  deadlineMs?: number;
  /** e.g. `Authorization: Bearer $API_TOKEN`. */
  headers?: Record<string, string>;
  pool?: WorkerPool;
}

export interface JsonBatchResult {
  /**
   * Key (`z/x/y.ext`) to bytes, or null: missing, or failed when the key is also in `errors`.
   * The tiles of one answer may be views of one ArrayBuffer (one transfer, one allocation):
   * read them through byteOffset/byteLength, or `slice()` the one you keep.
   */
  tiles: Map<string, Uint8Array | null>;
  /**
   * Why a null tile failed (`code`, `message`, details such as `limit`):
   * ORIGIN_TIMEOUT, CIRCUIT_OPEN, BATCH_TOO_LARGE... worth asking again,
   * unlike a missing tile.
   */
  errors: Map<string, JsonBatchTileError>;
  /** The server's `cache_stats` from the last answer. */
  cacheStats: unknown;
}

/**
 * For code that calls the seeds' base64 JSON batch route directly: fetches
 * `/api/tiles/{dataset}/batch?tiles=...` in a pool worker (100 keys per
 * request, the route's limit) and decodes the base64 there with the codec's
 * JSON fast path, so neither the JSON parse nor the base64 runs on the page's
 * main thread. Byte buffers come back transferred.
 */
export async function fetchJsonBatch(
  dataset: string,
  keys: readonly string[],
  opts: JsonBatchOptions = {},
): Promise<JsonBatchResult> {
  const pool = opts.pool ?? getWorkerPool();
  const base = opts.baseUrl ?? (typeof location !== 'undefined' ? location.origin : undefined);
  if (!base) throw new TileError('BAD_CONFIG', 'fetchJsonBatch needs a baseUrl outside a page');
  const chunks: string[][] = [];
  for (let i = 0; i < keys.length; i += MAX_BATCH_TILES) chunks.push(keys.slice(i, i + MAX_BATCH_TILES));
  const answers = await Promise.all(
    chunks.map((chunk) => {
      const url = new URL(batchPath(dataset), base);
      for (const k of chunk) url.searchParams.append('tiles', k);
      return pool.fetchJsonBatch(url.href, {
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.priority ? { priority: opts.priority } : {}),
        ...(opts.deadlineMs !== undefined ? { deadlineMs: opts.deadlineMs } : {}),
        ...(opts.headers ? { headers: opts.headers } : {}),
      });
    }),
  );
  const tiles = new Map<string, Uint8Array | null>();
  const errors = new Map<string, JsonBatchTileError>();
  for (const a of answers) {
    for (const [k, v] of Object.entries(a.tiles)) tiles.set(k, v);
    // An older worker build may answer without the map.
    for (const [k, e] of Object.entries(a.errors ?? {})) errors.set(k, e);
  }
  return { tiles, errors, cacheStats: answers.at(-1)?.cacheStats };
}
