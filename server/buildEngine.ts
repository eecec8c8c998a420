import type { ServerConfig } from './config.js';
import { FetchEngine } from './engine/FetchEngine.js';
import { createOrigin } from './origin/createOrigin.js';

/** The production engine for a config: one origin (S3 > R2 public URL > local dir) behind the FetchEngine. */
export function buildEngine(
  config: ServerConfig,
  tilesDir: string | undefined = config.tilesDir,
): FetchEngine {
  const origin = createOrigin({
    tilesDir,
    r2PublicUrl: config.r2PublicUrl,
    s3: config.s3,
    connections: config.originConnections,
  });
  return new FetchEngine(origin, {
    concurrency: config.originConcurrency,
    queueLimit: config.originQueueLimit,
    attemptTimeoutMs: config.originAttemptTimeoutMs,
    requestTimeoutMs: config.originTimeoutMs,
    retries: config.originRetries,
    // Tiles are small; anything bigger than the cache's largest entry (or 32 MiB) is refused.
    maxObjectBytes: Math.max(config.cacheMaxEntryBytes, 32 * 1024 * 1024),
    breaker: { failureThreshold: 20, openMs: 5_000 },
    // Open video bodies hold pool connections for their whole life: at most half of
    // the connections (and of the concurrency), so tiles always find a socket.
    streamLimit: Math.max(1, Math.floor(Math.min(config.originConcurrency, config.originConnections) / 2)),
  });
}
