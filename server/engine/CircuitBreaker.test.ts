import { describe, expect, it } from 'vitest';
import { isTileError, type TileError } from '../../src/protocol/errors.js';
import { CircuitBreaker } from './CircuitBreaker.js';

function breaker() {
  const clock = { t: 0 };
  const b = new CircuitBreaker({ failureThreshold: 3, openMs: 5000, now: () => clock.t });
  return { b, clock };
}
/** The production shape: 20 attempts minimum, ratio 0.5, 10 s window. */
function rated() {
  const clock = { t: 0 };
  const b = new CircuitBreaker({
    failureThreshold: 20,
    failureRatio: 0.5,
    windowMs: 10_000,
    openMs: 5000,
    now: () => clock.t,
  });
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
  it('opens under a total outage after minRequests failures, failing fast', () => {
    const { b } = breaker();
    b.failure();
    b.failure();
    expect(b.state).toBe('closed'); // below the minimum volume
    b.failure();
    expect(b.state).toBe('open');
    const e = thrown(() => b.enter()) as TileError;
    expect(e.code).toBe('CIRCUIT_OPEN');
    expect(e.details.retryAfterSec).toBe(5);
  });

  it('opens on the failure ratio, not on a streak', () => {
    const { b } = rated();
    // 15 successes, then failures: the ratio reaches 0.5 at the 15th failure (30 attempts)
    for (let i = 0; i < 15; i++) b.success();
    for (let i = 0; i < 14; i++) b.failure();
    expect(b.state).toBe('closed'); // 14 failures in a row, yet 14/29 < 0.5
    b.failure();
    expect(b.state).toBe('open');
  });

  it('stays closed when a quarter of attempts fail, even in runs far past the old streak of 20', () => {
    const { b, clock } = rated();
    for (let i = 0; i < 2000; i++) {
      clock.t += 7; // 14 s of traffic: the window slides under it
      if (i % 100 >= 75)
        b.failure(); // 25 failures in a row in every 100
      else b.success();
      expect(b.enter()).toBe(false);
    }
    expect(b.state).toBe('closed');
  });

  it('leaves retries out of the window, but a retry that is the trial decides it', () => {
    const { b, clock } = rated();
    // 10 requests fail on every attempt (1 + 2 retries), 10 succeed at once: 50 % of requests
    for (let i = 0; i < 9; i++) {
      b.failure();
      b.failure(true);
      b.failure(true);
      b.success();
    }
    expect(b.state).toBe('closed'); // 18 counted, though 27 of 36 attempts failed
    b.success(true); // a retry's success is not counted either
    b.failure();
    expect(b.state).toBe('closed'); // 19
    b.failure(true);
    expect(b.state).toBe('closed');
    b.failure(); // the 20th counted attempt, 11 failed
    expect(b.state).toBe('open');
    clock.t = 5000;
    expect(b.enter()).toBe(true);
    b.failure(true); // the trial was some request's retry: it still re-opens
    expect(b.state).toBe('open');
    clock.t = 10_000;
    expect(b.enter()).toBe(true);
    b.success(true);
    expect(b.state).toBe('closed');
  });

  it('never opens below minRequests, even at 100 % failures', () => {
    const { b, clock } = rated();
    for (let i = 0; i < 19; i++) b.failure();
    expect(b.state).toBe('closed');
    // keep the volume under 20 per window: 19 failures every 10.5 s
    for (let round = 0; round < 5; round++) {
      clock.t += 10_500;
      for (let i = 0; i < 19; i++) b.failure();
      expect(b.state).toBe('closed');
    }
    b.failure(); // the 20th within the window
    expect(b.state).toBe('open');
  });

  it('ages old failures out of the window', () => {
    const { b, clock } = rated();
    for (let i = 0; i < 19; i++) b.failure(); // t = 0
    clock.t = 10_000; // the t=0 bucket has left the 10 s window
    b.failure();
    expect(b.state).toBe('closed'); // only 1 attempt counts now
    for (let i = 0; i < 18; i++) b.failure();
    expect(b.state).toBe('closed'); // 19
    b.failure();
    expect(b.state).toBe('open'); // 20 within the window
  });

  it('counts failures still inside the window together with new ones', () => {
    const { b, clock } = rated();
    for (let i = 0; i < 10; i++) b.failure(); // t = 0
    clock.t = 9_500;
    for (let i = 0; i < 9; i++) b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
  });

  it('clears the window when the trial succeeds', () => {
    const { b, clock } = rated();
    for (let i = 0; i < 20; i++) b.failure();
    expect(b.state).toBe('open');
    clock.t = 5000;
    expect(b.enter()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    // the 20 old failures are forgotten: 19 fresh ones do not reach the minimum volume
    for (let i = 0; i < 19; i++) b.failure();
    expect(b.state).toBe('closed');
  });

  it('ignores a late success while open (the open period runs out)', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    clock.t = 1000;
    b.success();
    expect(b.state).toBe('open');
    clock.t = 5000;
    expect(b.enter()).toBe(true);
  });

  it('refuses nonsense settings', () => {
    const bad = (o: Partial<ConstructorParameters<typeof CircuitBreaker>[0]>) =>
      thrown(() => new CircuitBreaker({ failureThreshold: 3, openMs: 1000, ...o }));
    expect(isTileError(bad({ failureRatio: 0 }), 'BAD_CONFIG')).toBe(true);
    expect(isTileError(bad({ failureRatio: 1.5 }), 'BAD_CONFIG')).toBe(true);
    expect(isTileError(bad({ minRequests: 0 }), 'BAD_CONFIG')).toBe(true);
    expect(isTileError(bad({ windowMs: 0 }), 'BAD_CONFIG')).toBe(true);
    expect(bad({ failureRatio: 1, minRequests: 1, windowMs: 1000 })).toBeUndefined();
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
