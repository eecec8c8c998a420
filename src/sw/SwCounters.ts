import type { SwStats } from '../protocol/swMessages.js';

type Counter = Exclude<keyof SwStats, 'hit_rate' | 'prefetch_unused_bytes'>;

/** The worker's counters (diagnostics only: lost when the worker stops, which is fine). */
export class SwCounters {
  private c: Record<Counter, number> = SwCounters.zero();

  static zero(): Record<Counter, number> {
    return {
      total_requests: 0,
      cache_hits: 0,
      cache_misses: 0,
      memory_hits: 0,
      cache_storage_hits: 0,
      coalesced: 0,
      in_flight: 0,
      batches: 0,
      batch_tiles: 0,
      batch_max: 0,
      network_fetches: 0,
      batch_failures: 0,
      not_found: 0,
      aborted: 0,
      prefetched: 0,
      prefetch_bytes: 0,
      prefetch_used: 0,
      prefetch_used_bytes: 0,
      prefetch_skipped: 0,
      prefetch_cancelled: 0,
      evictions: 0,
      quota_errors: 0,
      write_timeouts: 0,
      fallbacks: 0,
      cache_size: 0,
      bytes: 0,
      cache_max: 0,
      memory_bytes: 0,
      video_requests: 0,
      video_chunk_hits: 0,
      video_chunk_fetches: 0,
    };
  }

  inc(name: Counter, by = 1): void {
    this.c[name] += by;
  }

  set(name: Counter, v: number): void {
    this.c[name] = v;
  }

  max(name: Counter, v: number): void {
    if (v > this.c[name]) this.c[name] = v;
  }

  reset(): void {
    this.c = SwCounters.zero();
  }

  snapshot(): SwStats {
    const asked = this.c.cache_hits + this.c.cache_misses;
    return {
      ...this.c,
      prefetch_unused_bytes: this.c.prefetch_bytes - this.c.prefetch_used_bytes,
      hit_rate: `${asked === 0 ? '0.0' : ((100 * this.c.cache_hits) / asked).toFixed(1)}%`,
    };
  }
}
