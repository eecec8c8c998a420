import { describe, expect, it } from 'vitest';
import { TileError } from '../../src/protocol/errors.js';
import { backoffDelay, isOriginFailure, isRetryable } from './retryPolicy.js';

const status = (s: number, extra = {}) => new TileError('ORIGIN_ERROR', 'x', { status: s, ...extra });

describe('retry policy', () => {
  it('retries 5xx, 429, resets and attempt timeouts only', () => {
    for (const e of [
      status(500),
      status(503),
      status(429),
      new TileError('ORIGIN_UNAVAILABLE', 'reset'),
      new TileError('ORIGIN_TIMEOUT', 't'),
    ]) {
      expect(isRetryable(e)).toBe(true);
      expect(isOriginFailure(e)).toBe(true);
    }
    for (const e of [
      status(400),
      status(403),
      status(404),
      new TileError('ORIGIN_ERROR', 'too large', { reason: 'too-large' }),
      new TileError('ABORTED', 'a'),
      new TileError('DEADLINE_EXCEEDED', 'd'),
      new TileError('CIRCUIT_OPEN', 'c'),
    ]) {
      expect(isRetryable(e)).toBe(false);
      expect(isOriginFailure(e)).toBe(false);
    }
  });

  it('uses full jitter under an exponential ceiling', () => {
    const o = { baseMs: 100, maxMs: 1000, retryAfterCapMs: 5000 };
    expect(backoffDelay(0, status(503), { ...o, random: () => 0.999 })).toBe(99);
    expect(backoffDelay(2, status(503), { ...o, random: () => 0.5 })).toBe(200);
    expect(backoffDelay(10, status(503), { ...o, random: () => 0.999 })).toBe(999);
    expect(backoffDelay(3, status(503), { ...o, random: () => 0 })).toBe(0);
  });

  it('honours Retry-After, capped', () => {
    const o = { baseMs: 100, maxMs: 1000, retryAfterCapMs: 5000, random: () => 0 };
    expect(backoffDelay(0, status(429, { retryAfterSec: 2 }), o)).toBe(2000);
    expect(backoffDelay(0, status(429, { retryAfterSec: 60 }), o)).toBe(5000);
  });
});
