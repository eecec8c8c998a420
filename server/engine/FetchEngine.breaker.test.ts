import { afterEach, describe, expect, it } from 'vitest';
import { isTileError, type TileError } from '../../src/protocol/errors.js';
import {
  type EngineFixture,
  rejection,
  startEngineFixture,
  until,
} from '../../test/support/server/testOrigin.js';

let fx: EngineFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});
const live = () => new AbortController().signal;

describe('FetchEngine circuit breaker (injected clock, real mocked origin)', () => {
  it('opens under a total outage, fails fast without origin requests, recovers through exactly one trial', async () => {
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

  it('counts each request once under a total outage: its retries do not open the circuit early', async () => {
    const clock = 0;
    fx = await startEngineFixture(
      { files: { a: 'A', b: 'B', c: 'C', d: 'D' }, status: () => 503 },
      { retries: 2, breaker: { failureThreshold: 3, openMs: 1000 }, now: () => clock },
    );
    for (const k of ['a', 'b'])
      expect(isTileError(await rejection(fx.engine.getBytes(k, live())), 'ORIGIN_ERROR')).toBe(true);
    expect(fx.engine.stats().breaker).toBe('closed'); // 6 failed attempts, but 2 requests
    // c's first attempt is the 3rd counted failure: it opens, and c's retry is refused without an origin request
    expect(isTileError(await rejection(fx.engine.getBytes('c', live())), 'CIRCUIT_OPEN')).toBe(true);
    expect(fx.engine.stats().breaker).toBe('open');
    expect(fx.mock.count()).toBe(7);
    expect(isTileError(await rejection(fx.engine.getBytes('d', live())), 'CIRCUIT_OPEN')).toBe(true);
    expect(fx.mock.count()).toBe(7);
  });

  it('stays closed when resets hit a quarter of the keys and hangs an eighth: healthy keys keep succeeding', async () => {
    // Per cycle of 32 keys: 16 healthy, then 8 resets, 4 hangs, 4 healthy, fetched 16 at a time. The
    // failing half-cycle makes 36 failed attempts in a row (what opened the old consecutive breaker),
    // while the share of failing requests in the window stays at 3/8.
    const kind = (i: number) => {
      const j = i % 32;
      return j < 16 || j >= 28 ? 'ok' : j < 24 ? 'reset' : 'hang';
    };
    const files: Record<string, string> = {};
    for (let i = 0; i < 96; i++) files[`k${i}`] = `tile ${i} `.repeat(200);
    const byKey = (k: string) => kind(Number(k.slice(1)));
    fx = await startEngineFixture(
      { files, resetMidBody: (k) => byKey(k) === 'reset', hang: (k) => byKey(k) === 'hang' },
      {
        retries: 2,
        // A reset must come back as a reset, not a timeout, on a loaded machine
        // (100 ms was missed); a hang still times out, 3 attempts inside the deadline.
        attemptTimeoutMs: 600,
        requestTimeoutMs: 4_000,
        breaker: { failureThreshold: 20, openMs: 5000 }, // the server's settings (buildEngine)
      },
    );
    const outcome: Record<string, unknown> = {};
    for (let from = 0; from < 96; from += 16) {
      const keys = Object.keys(files).slice(from, from + 16);
      await Promise.all(
        keys.map((k) =>
          fx!.engine.getBytes(k, live()).then(
            (r) => {
              outcome[k] = r ? new TextDecoder().decode(r.bytes) : null;
            },
            (e: unknown) => {
              outcome[k] = e;
            },
          ),
        ),
      );
    }
    for (const [k, v] of Object.entries(outcome)) {
      if (byKey(k) === 'ok') {
        expect(v).toBe(files[k]);
        expect(fx.mock.count(k)).toBe(1);
      } else {
        expect(isTileError(v, 'CIRCUIT_OPEN')).toBe(false);
        expect(isTileError(v, byKey(k) === 'reset' ? 'ORIGIN_UNAVAILABLE' : 'ORIGIN_TIMEOUT')).toBe(true);
        expect(fx.mock.count(k)).toBe(3); // every attempt reached the origin
      }
    }
    expect(Object.keys(outcome)).toHaveLength(96);
    expect(fx.engine.stats().breaker).toBe('closed');
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
