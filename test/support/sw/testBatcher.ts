import { Batcher, type BatcherOptions } from '../../../src/sw/Batcher.js';

/** A Batcher with short test settings (5 ms window, 2 retries, 1 ms backoff) over an injected fetch. */
export function testBatcher(fetch: typeof globalThis.fetch, extra: Partial<BatcherOptions> = {}): Batcher {
  return new Batcher({
    fetch,
    windowMs: 5,
    maxTiles: 100,
    method: 'POST',
    timeoutMs: 5000,
    retries: 2,
    backoffBaseMs: 1,
    singleTimeoutMs: 5000,
    ...extra,
  });
}
