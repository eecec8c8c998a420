import type { BreakerState } from '../../src/async/BreakerMachine.js';
import type { SharedCacheLog } from './RedisBreaker.js';

export interface RedisSharedCacheOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  /** Lifetime of an entry in Redis. */
  ttlMs: number;
  /** Larger tiles are not written (one big value would hold up every reply behind it). */
  maxEntryBytes: number;
  /** Deadline of every Redis call on the tile path. */
  timeoutMs: number;
  /** Prefix of every key and of the clear channel (several deployments may share one Redis). */
  keyPrefix?: string;
  breaker?: { failureThreshold: number; openMs: number };
  /**
   * Cold-tile lock across instances (0 = off): the first instance to miss a
   * tile fetches it; the others wait up to this long for its write before
   * asking the origin themselves. Keep it near the origin's p95 latency.
   */
  lockWaitMs?: number;
  /** Cap on the reconnect back-off, so a returning Redis is picked up quickly. */
  maxReconnectDelayMs?: number;
  log?: SharedCacheLog | undefined;
  now?: () => number;
}

export type RedisSharedCacheStats = {
  hits: number;
  misses: number;
  writes: number;
  /** Calls not sent: not connected, or the breaker is open. */
  skipped: number;
  /** Calls that failed or missed their deadline. */
  errors: number;
  /** Tiles over maxEntryBytes, not written. */
  oversize: number;
  /** Writes refused because the dataset was cleared since the fetch began. */
  staleWrites: number;
  /** Clears made by other instances that this one applied. */
  remoteClears: number;
  /** Misses that waited for another instance's fetch of the same cold tile; those that got it. */
  lockWaits: number;
  lockWaitHits: number;
  breaker: BreakerState;
  connected: boolean;
};
