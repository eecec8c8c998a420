import { describe, expect, it } from 'vitest';
import { isTileError, type TileError } from '../../src/protocol/errors.js';
import { CircuitBreaker } from './CircuitBreaker.js';

function breaker() {
  const clock = { t: 0 };
  const b = new CircuitBreaker({ failureThreshold: 3, openMs: 5000, now: () => clock.t });
  return { b, clock };
}
const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
};

describe('CircuitBreaker', () => {
  it('opens after consecutive failures only', () => {
    const { b } = breaker();
    b.failure();
    b.failure();
    b.success(); // resets the streak
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    const e = thrown(() => b.enter()) as TileError;
    expect(e.code).toBe('CIRCUIT_OPEN');
    expect(e.details.retryAfterSec).toBe(5);
  });

  it('lets exactly one trial through when half-open, closing on success', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    clock.t = 4999;
    expect(
      isTileError(
        thrown(() => b.enter()),
        'CIRCUIT_OPEN',
      ),
    ).toBe(true);
    clock.t = 5000;
    expect(b.state).toBe('half-open');
    expect(b.enter()).toBe(true);
    expect(
      isTileError(
        thrown(() => b.enter()),
        'CIRCUIT_OPEN',
      ),
    ).toBe(true);
    expect(
      isTileError(
        thrown(() => b.enter()),
        'CIRCUIT_OPEN',
      ),
    ).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.enter()).toBe(false);
  });

  it('re-opens for a full period when the trial fails', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    clock.t = 6000;
    expect(b.enter()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    clock.t = 10_999;
    expect(
      isTileError(
        thrown(() => b.enter()),
        'CIRCUIT_OPEN',
      ),
    ).toBe(true);
    clock.t = 11_000;
    expect(b.enter()).toBe(true);
  });

  it('is not kept open longer by late failures of attempts started before it opened', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    clock.t = 4000;
    b.failure();
    clock.t = 5000;
    expect(b.enter()).toBe(true);
  });

  it('frees the trial slot when the trial is cancelled', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    clock.t = 5000;
    expect(b.enter()).toBe(true);
    b.cancel(true);
    expect(b.state).toBe('half-open');
    expect(b.enter()).toBe(true);
  });
});
