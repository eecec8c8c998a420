import { afterEach, describe, expect, it } from 'vitest';
import { isTileError, type TileError } from '../../src/protocol/errors.js';
import { type EngineFixture, rejection, startEngineFixture, until } from './testOrigin.js';

let fx: EngineFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});
const live = () => new AbortController().signal;

describe('FetchEngine circuit breaker (injected clock, real mocked origin)', () => {
  it('opens after the threshold, fails fast without origin requests, recovers through exactly one trial', async () => {
    let clock = 1_000_000;
    fx = await startEngineFixture(
      { files: { a: 'A', b: 'B', c: 'C', d: 'D' }, status: () => 503 },
      { retries: 0, breaker: { failureThreshold: 3, openMs: 10_000 }, now: () => clock },
    );
    for (let i = 0; i < 3; i++)
      expect(isTileError(await rejection(fx.engine.getBytes('a', live())), 'ORIGIN_ERROR')).toBe(true);
    expect(fx.engine.stats().breaker).toBe('open');
    const before = fx.mock.count();
    const fast = (await rejection(fx.engine.getBytes('b', live()))) as TileError;
    expect(fast.code).toBe('CIRCUIT_OPEN');
    expect(fast.details.retryAfterSec).toBe(10);
    expect(fx.mock.count()).toBe(before); // the origin was not touched

    clock += 10_000;
    expect(fx.engine.stats().breaker).toBe('half-open');
    fx.mock.set({ status: undefined, latencyMs: 80 });
    const calls = ['a', 'b', 'c', 'd'].map((k) =>
      fx!.engine.getBytes(k, live()).then(
        (r) => r,
        (e: unknown) => e,
      ),
    );
    const settled = await Promise.all(calls);
    expect(fx.mock.count() - before).toBe(1); // exactly one trial
    expect(settled.filter((r) => isTileError(r, 'CIRCUIT_OPEN'))).toHaveLength(3);
    expect(fx.engine.stats().breaker).toBe('closed');
    expect(new TextDecoder().decode((await fx.engine.getBytes('d', live()))!.bytes)).toBe('D');
  });

  it('re-opens when the trial fails', async () => {
    let clock = 0;
    fx = await startEngineFixture(
      { files: { a: 'A' }, status: () => 500 },
      { retries: 0, breaker: { failureThreshold: 2, openMs: 1000 }, now: () => clock },
    );
    await rejection(fx.engine.getBytes('a', live()));
    await rejection(fx.engine.getBytes('a', live()));
    clock += 1000;
    expect(isTileError(await rejection(fx.engine.getBytes('a', live())), 'ORIGIN_ERROR')).toBe(true);
    expect(fx.engine.stats().breaker).toBe('open');
    expect(fx.mock.count('a')).toBe(3);
    expect(isTileError(await rejection(fx.engine.getBytes('a', live())), 'CIRCUIT_OPEN')).toBe(true);
    expect(fx.mock.count('a')).toBe(3);
  });

  it('does not count 404 or 403 as origin failures', async () => {
    fx = await startEngineFixture(
      { files: {}, status: (k) => (k.startsWith('forbidden') ? 403 : undefined) },
      { retries: 0, breaker: { failureThreshold: 2, openMs: 1000 } },
    );
    for (let i = 0; i < 10; i++) expect(await fx.engine.getBytes(`missing/${i}`, live())).toBeNull();
    for (let i = 0; i < 5; i++) await rejection(fx.engine.getBytes(`forbidden/${i}`, live()));
    expect(fx.engine.stats()).toMatchObject({ breaker: 'closed', failures: 0, notFound: 10 });
  });
});

describe('FetchEngine breaker verdicts on deadlines and aborts', () => {
  it('counts a request deadline hit mid-attempt as a failure, a client abort as none', async () => {
    fx = await startEngineFixture(
      { files: { k: 'x' }, hang: true },
      {
        retries: 0,
        attemptTimeoutMs: 10_000,
        requestTimeoutMs: 300,
        breaker: { failureThreshold: 2, openMs: 60_000 },
      },
    );
    const ctl = new AbortController();
    const left = rejection(fx.engine.getBytes('a', ctl.signal));
    setTimeout(() => ctl.abort(), 20);
    expect(isTileError(await left, 'ABORTED')).toBe(true);
    await until(() => fx!.engine.stats().inFlight === 0);
    expect(fx.engine.stats()).toMatchObject({ failures: 0, breaker: 'closed' });
    for (const k of ['b', 'c'])
      expect(isTileError(await rejection(fx.engine.getBytes(k, live())), 'DEADLINE_EXCEEDED')).toBe(true);
    await until(() => fx!.engine.stats().inFlight === 0);
    expect(fx.engine.stats()).toMatchObject({ failures: 2, breaker: 'open' });
  });
});
