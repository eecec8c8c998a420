import type { TileError } from '../../src/protocol/errors.js';

/** Retry only what another attempt can fix: 5xx, 429, resets and attempt timeouts. Never other 4xx. */
export function isRetryable(e: TileError): boolean {
  if (e.code === 'ORIGIN_UNAVAILABLE' || e.code === 'ORIGIN_TIMEOUT') return true;
  if (e.code === 'ORIGIN_ERROR') {
    const status = e.details.status;
    return typeof status === 'number' && (status >= 500 || status === 429);
  }
  return false;
}

/** Whether the error says the origin is unhealthy (counts toward opening the breaker). 404 and other 4xx do not. */
export function isOriginFailure(e: TileError): boolean {
  return isRetryable(e);
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Upper bound on a Retry-After we are willing to wait. */
  retryAfterCapMs: number;
  random: () => number;
}

/**
 * Delay before retry number `attempt` (0-based): "full jitter" backoff,
 * uniform in [0, min(max, base * 2^attempt)], which spreads a thundering herd
 * best (AWS Architecture Blog, "Exponential Backoff And Jitter"). A
 * Retry-After from the origin wins, capped.
 */
export function backoffDelay(attempt: number, e: TileError, o: BackoffOptions): number {
  const ra = e.details.retryAfterSec;
  if (typeof ra === 'number' && ra >= 0) return Math.min(ra * 1000, o.retryAfterCapMs);
  const ceiling = Math.min(o.maxMs, o.baseMs * 2 ** attempt);
  return Math.floor(o.random() * ceiling);
}
