import { type Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ServerContext } from './ServerContext.js';

/**
 * A registry per server (tests start several in one process). Values are read
 * from plain counters at scrape time, so the hot path pays one increment.
 */
export function createMetrics(ctx: ServerContext, withDefaults: boolean): Registry {
  const r = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: r });
  const c = ctx.counters;
  const setter = (get: () => number) =>
    function (this: Gauge | Counter) {
      (this as Gauge).set(get());
    };
  new Gauge({
    name: 'tile_http_requests_total',
    help: 'HTTP requests received',
    registers: [r],
    collect: setter(() => c.requests),
  });
  new Gauge({
    name: 'tile_http_errors_4xx_total',
    help: '4xx responses',
    registers: [r],
    collect: setter(() => c.errors4xx),
  });
  new Gauge({
    name: 'tile_http_errors_5xx_total',
    help: '5xx responses',
    registers: [r],
    collect: setter(() => c.errors5xx),
  });
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
    name: 'tile_not_modified_total',
    help: '304 answers',
    registers: [r],
    collect: setter(() => c.notModified),
  });
  new Gauge({
    name: 'tile_batches_total',
    help: 'Batch requests',
    registers: [r],
    collect: setter(() => c.batches),
  });
  new Gauge({
    name: 'tile_batch_tiles_total',
    help: 'Tiles asked through batches',
    registers: [r],
    collect: setter(() => c.batchTiles),
  });
  new Gauge({
    name: 'tile_cache_hits_total',
    help: 'Memory cache hits',
    registers: [r],
    collect: setter(() => ctx.tiles.hits),
  });
  new Gauge({
    name: 'tile_cache_misses_total',
    help: 'Memory cache misses',
    registers: [r],
    collect: setter(() => ctx.tiles.misses),
  });
  new Gauge({
    name: 'tile_cache_bytes',
    help: 'Bytes in the memory cache',
    registers: [r],
    collect: setter(() => ctx.tiles.cache.bytes),
  });
  new Gauge({
    name: 'tile_cache_entries',
    help: 'Entries in the memory cache',
    registers: [r],
    collect: setter(() => ctx.tiles.cache.size),
  });
  new Gauge({
    name: 'tile_cache_evictions_total',
    help: 'Evictions by the byte bound',
    registers: [r],
    collect: setter(() => ctx.tiles.cache.evictions),
  });
  new Gauge({
    name: 'video_bytes_sent_total',
    help: 'Video bytes written to clients',
    registers: [r],
    collect: setter(() => c.videoBytes),
  });
  new Gauge({
    name: 'video_cache_bytes',
    help: 'Bytes in the video chunk cache',
    registers: [r],
    collect: setter(() => ctx.video.chunks.calculatedSize),
  });
  new Gauge({
    name: 'origin_requests_total',
    help: 'Origin attempts sent',
    registers: [r],
    collect: setter(() => ctx.engine.stats().originRequests),
  });
  new Gauge({
    name: 'origin_in_flight',
    help: 'Origin attempts running',
    registers: [r],
    collect: setter(() => ctx.engine.stats().inFlight),
  });
  new Gauge({
    name: 'origin_queued',
    help: 'Waiting for an origin slot',
    registers: [r],
    collect: setter(() => ctx.engine.stats().queued),
  });
  new Gauge({
    name: 'origin_coalesced_total',
    help: 'Callers that joined an existing fetch',
    registers: [r],
    collect: setter(() => ctx.engine.stats().coalesced),
  });
  new Gauge({
    name: 'origin_retries_total',
    help: 'Origin retries',
    registers: [r],
    collect: setter(() => ctx.engine.stats().retries),
  });
  new Gauge({
    name: 'origin_failures_total',
    help: 'Failed origin fetches',
    registers: [r],
    collect: setter(() => ctx.engine.stats().failures),
  });
  new Gauge({
    name: 'origin_latency_ms',
    help: 'Origin attempt latency percentiles',
    labelNames: ['quantile'],
    registers: [r],
    collect() {
      const l = ctx.engine.stats().latencyMs;
      this.set({ quantile: '0.5' }, l.p50);
      this.set({ quantile: '0.95' }, l.p95);
    },
  });
  new Gauge({
    name: 'origin_breaker_open',
    help: '1 when the origin circuit breaker is open, 0.5 half-open, 0 closed',
    registers: [r],
    collect() {
      const b = ctx.engine.stats().breaker;
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
    collect: setter(() => {
      const s = ctx.tiles.shared.stats?.();
      return s?.['connected'] === true && s['breaker'] === 'closed' ? 1 : 0;
    }),
  });
  return r;
}
