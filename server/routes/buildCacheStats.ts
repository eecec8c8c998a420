import { formatHitRate, type ServerCacheStats } from '../../src/protocol/stats.js';
import type { ServerContext } from '../http/ServerContext.js';

/**
 * The seeds' stats plus ours. Counters are process-wide (one memory cache
 * serves every dataset); `generation` is the dataset's own.
 */
export function buildCacheStats(ctx: ServerContext, dataset: string): ServerCacheStats {
  const t = ctx.tiles;
  const c = t.cache;
  const e = ctx.engine.stats();
  const total = t.hits + t.misses;
  return {
    enabled: c.enabled,
    cache_size: c.size,
    cache_max: c.maxBytes,
    total_requests: total,
    cache_hits: t.hits,
    cache_misses: t.misses,
    hit_rate: formatHitRate(t.hits, total),
    // The server has no prefetch queue of its own (prefetch lives in the service worker).
    prefetch_queue: 0,
    cache_bytes: c.bytes,
    cache_max_bytes: c.maxBytes,
    stale_hits: t.staleHits,
    shared_cache_hits: t.sharedHits,
    ...(t.shared.stats ? { shared_cache: { name: t.shared.name, ...t.shared.stats() } } : {}),
    evictions: c.evictions,
    negative_cache: { entries: c.negativeSize, bytes: c.negativeBytes, evictions: c.negativeEvictions },
    miss_budget: {
      enabled: ctx.guard.budget !== undefined,
      refused: ctx.guard.refused,
      hits: ctx.guard.hits,
      clients: ctx.guard.budget?.clients ?? 0,
    },
    generation: c.generation(dataset),
    origin: {
      requests: e.originRequests,
      in_flight: e.inFlight,
      queued: e.queued,
      coalesced: e.coalesced,
      retries: e.retries,
      failures: e.failures,
      not_found: e.notFound,
      latency_ms: { p50: e.latencyMs.p50, p95: e.latencyMs.p95 },
      breaker: e.breaker,
    },
  };
}
