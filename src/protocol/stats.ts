/**
 * Shape of `GET /api/tiles/{dataset}/cache-stats`. The first block is the
 * seeds' shape (kept byte-compatible for old dashboards); the rest is ours.
 */
export interface ServerCacheStats {
  /** The seeds' fields. */
  enabled: boolean;
  cache_size: number;
  cache_max: number;
  total_requests: number;
  cache_hits: number;
  cache_misses: number;
  /** `hits / total_requests` as a percentage with one decimal, e.g. `"31.0%"`. */
  hit_rate: string;
  prefetch_queue: number;
  /** Bytes held by the memory cache now, and its bound (CACHE_MAX_BYTES). */
  cache_bytes: number;
  cache_max_bytes: number;
  /** Hits that were past freshness but served because the origin failed (stale-if-error). */
  stale_hits: number;
  shared_cache_hits: number;
  /** With REDIS_URL: the shared layer's own counters (hits, misses, writes, skipped, errors, breaker, connected). */
  shared_cache?: Record<string, number | string | boolean>;
  evictions: number;
  /** Remembered missing tiles: their own LRU, so a flood of them never evicts a real tile. */
  negative_cache?: { entries: number; bytes: number; evictions: number };
  /**
   * The per-client budget of origin misses (MISS_BUDGET_*): tile keys refused
   * RATE_LIMITED, requests that met it, client buckets held.
   */
  miss_budget?: { enabled: boolean; refused: number; hits: number; clients: number };
  /** Current generation of this dataset; `cache-clear` increments it. */
  generation: number;
  origin: OriginStats;
}

export interface OriginStats {
  requests: number;
  in_flight: number;
  queued: number;
  coalesced: number;
  retries: number;
  failures: number;
  not_found: number;
  latency_ms: { p50: number; p95: number };
  breaker: BreakerState;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CacheStatsResponse {
  dataset_id: string;
  stats: ServerCacheStats;
}

/** `"31.0%"` from counts; `"0.0%"` when nothing was asked yet. */
export function formatHitRate(hits: number, total: number): string {
  return `${total === 0 ? '0.0' : ((hits / total) * 100).toFixed(1)}%`;
}
