import { TileError } from '../protocol/errors.js';
import { batchPath, MAX_BATCH_TILES } from '../protocol/tileKey.js';
import { getWorkerPool, type JobPriority, type WorkerPool } from './pool/index.js';

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
  /** Key (`z/x/y.ext`) to bytes, or null for a tile the server does not have. */
  tiles: Map<string, Uint8Array | null>;
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
  for (const a of answers) for (const [k, v] of Object.entries(a.tiles)) tiles.set(k, v);
  return { tiles, cacheStats: answers.at(-1)?.cacheStats };
}
