import { setTimeout as sleep } from 'node:timers/promises';
import { TileError } from '../../src/protocol/errors.js';
import { backoffDelay, isRetryable } from '../engine/retryPolicy.js';

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

/**
 * Runs `fn` with a per-attempt deadline, retrying what the engine's policy
 * retries (5xx, 429, resets, timeouts) after its "full jitter" backoff, or
 * after the server's Retry-After when it sent one (capped at maxDelayMs).
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
      if (!(e instanceof TileError)) throw e;
      if (!isRetryable(e) || attempt + 1 >= o.attempts) {
        e.details.attempts = attempt + 1;
        throw e;
      }
      const delay = backoffDelay(attempt, e, {
        baseMs: o.baseDelayMs,
        maxMs: o.maxDelayMs,
        retryAfterCapMs: o.maxDelayMs,
        random,
      });
      o.onRetry?.(e, attempt + 1, delay);
      try {
        await sleep(delay, undefined, o.signal ? { signal: o.signal } : {});
      } catch (abortErr) {
        throw new TileError('ABORTED', 'aborted during backoff', {}, { cause: abortErr });
      }
    }
  }
}
