import { setTimeout as sleep } from 'node:timers/promises';
import { TileError } from '../../src/protocol/errors.js';

export interface RetryOptions {
  /** Attempts in all, including the first. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Deadline of one attempt. */
  attemptTimeoutMs: number;
  signal?: AbortSignal;
  random?: () => number;
  onRetry?: (e: TileError, attempt: number, delayMs: number) => void;
}

/** What another attempt can fix: 5xx, 429, resets and timeouts; never other 4xx. */
export function isRetryable(e: unknown): boolean {
  if (!(e instanceof TileError)) return false;
  if (e.code === 'ORIGIN_UNAVAILABLE' || e.code === 'ORIGIN_TIMEOUT') return true;
  const status = e.details.status;
  return e.code === 'ORIGIN_ERROR' && typeof status === 'number' && (status >= 500 || status === 429);
}

/**
 * Runs `fn` with a per-attempt deadline, retrying retryable failures after
 * "full jitter" backoff (uniform in [0, min(max, base * 2^n)]), or after the
 * server's Retry-After when it sent one (capped at maxDelayMs).
 */
export async function withRetry<T>(fn: (signal: AbortSignal) => Promise<T>, o: RetryOptions): Promise<T> {
  const random = o.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    if (o.signal?.aborted) throw new TileError('ABORTED', 'aborted', {}, { cause: o.signal.reason });
    const deadline = AbortSignal.timeout(o.attemptTimeoutMs);
    const signal = o.signal ? AbortSignal.any([o.signal, deadline]) : deadline;
    try {
      return await fn(signal);
    } catch (err) {
      let e = err;
      // Our own deadline fired (not the caller's abort): a timeout, retryable.
      if (deadline.aborted && !o.signal?.aborted) {
        e = new TileError(
          'ORIGIN_TIMEOUT',
          `attempt timed out after ${o.attemptTimeoutMs} ms`,
          {},
          { cause: err },
        );
      }
      if (!isRetryable(e) || attempt + 1 >= o.attempts) {
        if (e instanceof TileError) e.details.attempts = attempt + 1;
        throw e;
      }
      const te = e as TileError;
      const ra = te.details.retryAfterSec;
      const delay =
        typeof ra === 'number'
          ? Math.min(ra * 1000, o.maxDelayMs)
          : Math.floor(random() * Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** attempt));
      o.onRetry?.(te, attempt + 1, delay);
      try {
        await sleep(delay, undefined, o.signal ? { signal: o.signal } : {});
      } catch (abortErr) {
        throw new TileError('ABORTED', 'aborted during backoff', {}, { cause: abortErr });
      }
    }
  }
}
