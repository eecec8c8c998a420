import type { ServerConfig } from '../config.js';
import { noSharedCache, type SharedCache } from '../tiles/SharedCache.js';
import type { SharedCacheLog } from './RedisBreaker.js';
import { RedisSharedCache } from './RedisSharedCache.js';

export type SharedCacheConfig = Pick<
  ServerConfig,
  'redisUrl' | 'redisTtlMs' | 'redisMaxEntryBytes' | 'redisTimeoutMs' | 'redisKeyPrefix' | 'redisLockWaitMs'
>;

/** Redis when REDIS_URL is set, otherwise the no-op layer. Connecting happens in the background. */
export function createSharedCache(config: SharedCacheConfig, log?: SharedCacheLog): SharedCache {
  if (config.redisUrl === undefined) return noSharedCache;
  return new RedisSharedCache({
    url: config.redisUrl,
    ttlMs: config.redisTtlMs,
    maxEntryBytes: config.redisMaxEntryBytes,
    timeoutMs: config.redisTimeoutMs,
    keyPrefix: config.redisKeyPrefix,
    lockWaitMs: config.redisLockWaitMs,
    log,
  });
}
