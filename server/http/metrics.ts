import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ServerContext } from './ServerContext.js';

/**
 * A registry per server (tests start several in one process). Values are read
 * from plain counters at scrape time, so the hot path pays one increment.
 */
export function createMetrics(ctx: ServerContext, withDefaults: boolean): Registry {
  const r = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: r });
  const c = ctx.counters;
  const engine = () => ctx.engine.stats();
  // Gauges set at scrape time: prom-client Counters can only be incremented, and the counts live in plain fields.
  const plain: [name: string, help: string, get: () => number][] = [
    ['tile_http_requests_total', 'HTTP requests received', () => c.requests],
    ['tile_http_errors_4xx_total', '4xx responses', () => c.errors4xx],
    ['tile_http_errors_5xx_total', '5xx responses', () => c.errors5xx],
    ['tile_not_modified_total', '304 answers', () => c.notModified],
    ['tile_batches_total', 'Batch requests', () => c.batches],
    ['tile_batch_tiles_total', 'Tiles asked through batches', () => c.batchTiles],
    [
      'tile_batch_over_limit_total',
      'Batch tiles answered BATCH_TOO_LARGE (past BATCH_MAX_BYTES)',
      () => c.batchTilesOverLimit,
    ],
    ['tile_cache_hits_total', 'Memory cache hits', () => ctx.tiles.hits],
    ['tile_cache_misses_total', 'Memory cache misses', () => ctx.tiles.misses],
    ['tile_cache_bytes', 'Bytes in the memory cache', () => ctx.tiles.cache.bytes],
    ['tile_cache_entries', 'Entries in the memory cache', () => ctx.tiles.cache.size],
    ['tile_cache_evictions_total', 'Evictions by the byte bound', () => ctx.tiles.cache.evictions],
    [
      'tile_negative_cache_entries',
      'Missing tiles remembered (their own LRU, 1/16 of CACHE_MAX_BYTES)',
      () => ctx.tiles.cache.negativeSize,
    ],
    [
      'tile_negative_cache_bytes',
      'Bytes charged to remembered missing tiles',
      () => ctx.tiles.cache.negativeBytes,
    ],
    [
      'tile_negative_cache_evictions_total',
      'Remembered missing tiles evicted by their own bound (never a real tile)',
      () => ctx.tiles.cache.negativeEvictions,
    ],
    [
      'tile_miss_budget_refused_total',
      'Tile keys refused RATE_LIMITED (429) because their client spent its miss budget',
      () => ctx.guard.refused,
    ],
    [
      'tile_miss_budget_hits_total',
      'Requests (single tile or batch) that met their client miss budget',
      () => ctx.guard.hits,
    ],
    [
      'tile_miss_budget_clients',
      'Client buckets held by the miss budget',
      () => ctx.guard.budget?.clients ?? 0,
    ],
    ['video_bytes_sent_total', 'Video bytes written to clients', () => c.videoBytes],
    [
      'tile_send_stalls_total',
      'Responses cut because the client took no bytes for SEND_TIMEOUT_MS',
      () => ctx.counters.sendStalls,
    ],
    ['video_cache_bytes', 'Bytes in the video chunk cache', () => ctx.video.chunks.calculatedSize],
    ['tile_dds_conversions_active', '.dds conversions running (DDS_CONCURRENCY)', () => ctx.dds.active],
    ['tile_dds_conversions_queued', '.dds conversions waiting for a slot', () => ctx.dds.queued],
    ['origin_requests_total', 'Origin attempts sent', () => engine().originRequests],
    ['origin_in_flight', 'Origin attempts running', () => engine().inFlight],
    ['origin_queued', 'Waiting for an origin slot', () => engine().queued],
    ['origin_streams_open', 'Streamed origin bodies (video) open', () => engine().streams],
    ['origin_streams_queued', 'Video streams waiting for a stream slot', () => engine().streamsQueued],
    ['origin_coalesced_total', 'Callers that joined an existing fetch', () => engine().coalesced],
    ['origin_retries_total', 'Origin retries', () => engine().retries],
    ['origin_failures_total', 'Failed origin fetches', () => engine().failures],
  ];
  for (const [name, help, get] of plain) {
    new Gauge({
      name,
      help,
      registers: [r],
      collect() {
        this.set(get());
      },
    });
  }
  new Gauge({
    name: 'tile_responses_total',
    help: 'Tiles answered, by source',
    labelNames: ['source'],
    registers: [r],
    collect() {
      for (const [source, n] of Object.entries(c.tilesBySource)) this.set({ source }, n);
    },
  });
  new Gauge({
    name: 'origin_latency_ms',
    help: 'Origin attempt latency percentiles',
    labelNames: ['quantile'],
    registers: [r],
    collect() {
      const l = engine().latencyMs;
      this.set({ quantile: '0.5' }, l.p50);
      this.set({ quantile: '0.95' }, l.p95);
    },
  });
  new Gauge({
    name: 'origin_breaker_open',
    help: '1 when the origin circuit breaker is open, 0.5 half-open, 0 closed',
    registers: [r],
    collect() {
      const b = engine().breaker;
      this.set(b === 'open' ? 1 : b === 'half-open' ? 0.5 : 0);
    },
  });
  new Gauge({
    name: 'tile_shared_cache_events_total',
    help: 'Shared cache (Redis) counters: hits, misses, writes, skipped, errors, oversize, staleWrites, ...',
    labelNames: ['event'],
    registers: [r],
    collect() {
      for (const [event, n] of Object.entries(ctx.tiles.shared.stats?.() ?? {})) {
        if (typeof n === 'number') this.set({ event }, n);
      }
    },
  });
  new Gauge({
    name: 'tile_shared_cache_up',
    help: '1 when the shared cache (Redis) is connected and its breaker closed; 0 otherwise or without one',
    registers: [r],
    collect() {
      const s = ctx.tiles.shared.stats?.();
      this.set(s?.['connected'] === true && s['breaker'] === 'closed' ? 1 : 0);
    },
  });
  return r;
}
