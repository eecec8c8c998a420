import { afterEach, describe, expect, it } from 'vitest';
import { isTileError, type TileError } from '../../src/protocol/errors.js';
import {
  type EngineFixture,
  rejection,
  same,
  startEngineFixture,
  until,
} from '../../test/support/server/testOrigin.js';

const body = new Uint8Array(64 * 1024).map((_, i) => (i * 31) & 0xff);
let fx: EngineFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});
const live = () => new AbortController().signal;

describe('FetchEngine against a faulty origin', () => {
  it('answers every caller of a hanging origin by its deadline, then serves 1000 requests', async () => {
    fx = await startEngineFixture(
      { files: { k: body }, hang: true },
      {
        // Generous enough for a loaded 2-core CI box (load 30 saw 16 loopback
        // GETs miss 500 ms), short enough to keep the test quick.
        attemptTimeoutMs: 1_500,
        requestTimeoutMs: 3_000,
        retries: 5,
        concurrency: 16,
        queueLimit: 2000,
        breaker: { failureThreshold: 10, openMs: 200 },
      },
      16,
    );
    const t0 = performance.now();
    const errors = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        rejection(fx!.engine.getBytes(`hang/${i}`, live())).then((e) => [e, performance.now() - t0] as const),
      ),
    );
    for (const [e, ms] of errors) {
      const code = (e as TileError).code;
      // Once ten attempts time out the breaker opens and the rest fail fast.
      expect(['ORIGIN_TIMEOUT', 'DEADLINE_EXCEEDED', 'CIRCUIT_OPEN']).toContain(code);
      // By the 3 s request deadline, not after the 5 retries (6 x 1.5 s + backoff
      // = 9 s and more): the slack is for timers late on a loaded machine.
      expect(ms).toBeLessThan(3_000 + 3_000);
    }
    await until(() => fx!.engine.stats().inFlight === 0);
    expect(fx.engine.stats().queued).toBe(0);
    expect(fx.engine.stats().breaker).not.toBe('closed');
    fx.mock.set({
      hang: false,
      files: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`t/${i}`, `v${i}`])),
    });
    // The breaker recovers through one trial, then everything flows again.
    await until(() => fx!.engine.stats().breaker === 'half-open');
    expect(await fx.engine.getBytes('t/0', live())).not.toBeNull();
    // Batches of `concurrency`: the deadline includes queue wait, by design.
    for (let batch = 0; batch < 1000; batch += 16) {
      const keys = Array.from({ length: Math.min(16, 1000 - batch) }, (_, i) => batch + i);
      const ok = await Promise.all(keys.map((i) => fx!.engine.getBytes(`t/${i}`, live())));
      ok.forEach((r, j) => {
        expect(new TextDecoder().decode(r!.bytes)).toBe(`v${keys[j]}`);
      });
    }
    expect(fx.engine.stats()).toMatchObject({ inFlight: 0, queued: 0, breaker: 'closed' });
    // 1000 real requests after the hang phase: ~12 s on a loaded 2-core machine.
  }, 60_000);

  it('survives 1000 x 404 with a 2-connection pool and still serves a 200', async () => {
    // 1000 requests through 2 connections queue for seconds on a loaded machine:
    // the request deadline (it includes the queue wait) is not what this checks.
    fx = await startEngineFixture(
      { files: { ok: 'fine' } },
      { queueLimit: 2000, requestTimeoutMs: 15_000 },
      2,
    );
    const misses = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => fx!.engine.getBytes(`none/${i}`, live())),
    );
    expect(misses.every((m) => m === null)).toBe(true);
    const ok = await fx.engine.getBytes('ok', live());
    expect(new TextDecoder().decode(ok!.bytes)).toBe('fine');
    expect(fx.mock.connections()).toBeLessThanOrEqual(2);
    expect(fx.origin.pool.stats.connected).toBeLessThanOrEqual(2);
    expect(fx.engine.stats()).toMatchObject({ notFound: 1000, failures: 0, breaker: 'closed', inFlight: 0 });
  });

  it('retries 503 and resets, never 403 or 404', async () => {
    let n = 0;
    fx = await startEngineFixture({
      files: { a: body, b: body, c: body },
      status: (k) => (k === 'a' && n++ < 2 ? 503 : undefined),
    });
    expect(same((await fx.engine.getBytes('a', live()))?.bytes, body)).toBe(true);
    expect(fx.mock.count('a')).toBe(3);
    let resets = 0;
    fx.mock.set({ resetMidBody: (k) => k === 'b' && resets++ === 0 });
    expect(same((await fx.engine.getBytes('b', live()))?.bytes, body)).toBe(true);
    expect(fx.mock.count('b')).toBe(2);
    fx.mock.set({ status: (k) => (k === 'c' ? 403 : undefined) });
    const e = await rejection(fx.engine.getBytes('c', live()));
    expect((e as TileError).details.status).toBe(403);
    expect(fx.mock.count('c')).toBe(1);
    expect(await fx.engine.getBytes('missing', live())).toBeNull();
    expect(fx.mock.count('missing')).toBe(1);
  });

  it('honours Retry-After on 429 (capped)', async () => {
    let n = 0;
    fx = await startEngineFixture(
      { files: { k: 'x' }, retryAfterSec: 1, status: () => (n++ === 0 ? 429 : undefined) },
      { random: () => 0 }, // without Retry-After the backoff would be 0 ms
    );
    let t0 = performance.now();
    expect(await fx.engine.getBytes('k', live())).not.toBeNull();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(950);
    expect(fx.mock.count('k')).toBe(2);
    await fx.close();
    n = 0;
    fx = await startEngineFixture(
      { files: { k: 'x' }, retryAfterSec: 30, status: () => (n++ === 0 ? 429 : undefined) },
      { random: () => 0, retryAfterCapMs: 100 },
    );
    t0 = performance.now();
    expect(await fx.engine.getBytes('k', live())).not.toBeNull();
    expect(performance.now() - t0).toBeLessThan(900);
  });

  it('gives up at once when Retry-After is past the deadline, passing retryAfterSec on', async () => {
    fx = await startEngineFixture(
      { files: { k: 'x' }, retryAfterSec: 3, status: () => 429 },
      { requestTimeoutMs: 1000 },
    );
    const e = (await rejection(fx.engine.getBytes('k', live()))) as TileError;
    expect(e.code).toBe('ORIGIN_ERROR');
    expect(e.details).toMatchObject({ status: 429, retryAfterSec: 3 });
    expect(fx.mock.count('k')).toBe(1);
  });

  it('never returns truncated bytes: short body and reset mid-body are errors', async () => {
    fx = await startEngineFixture(
      { files: { s: body, r: body }, shortBody: (k) => k === 's', resetMidBody: (k) => k === 'r' },
      { retries: 1 },
    );
    for (const k of ['s', 'r']) {
      const e = await rejection(fx.engine.getBytes(k, live()));
      expect(isTileError(e, 'ORIGIN_UNAVAILABLE')).toBe(true);
      expect(fx.mock.count(k)).toBe(2);
    }
    expect(fx.engine.stats()).toMatchObject({ inFlight: 0, failures: 4 });
  });

  it('times out an attempt whose body drips too slowly', async () => {
    fx = await startEngineFixture(
      { files: { k: new Uint8Array(16 * 1024) }, slowBodyMs: 40 },
      { attemptTimeoutMs: 150, retries: 0 },
    );
    const e = await rejection(fx.engine.getBytes('k', live()));
    expect(isTileError(e, 'ORIGIN_TIMEOUT')).toBe(true);
  });

  it('refuses a body over maxObjectBytes without retrying', async () => {
    fx = await startEngineFixture({ files: { k: body } }, { maxObjectBytes: 1000 });
    const e = (await rejection(fx.engine.getBytes('k', live()))) as TileError;
    expect(e.code).toBe('ORIGIN_ERROR');
    expect(e.details.reason).toBe('too-large');
    expect(fx.mock.count('k')).toBe(1);
  });

  it('answers queue overflow with OVERLOADED and a Retry-After', async () => {
    fx = await startEngineFixture({ files: { k: 'x' }, hang: true }, { concurrency: 1, queueLimit: 1 });
    const ctl = new AbortController();
    const first = rejection(fx.engine.getBytes('a', ctl.signal));
    const second = rejection(fx.engine.getBytes('b', ctl.signal));
    const third = (await rejection(fx.engine.getBytes('c', ctl.signal))) as TileError;
    expect(third.code).toBe('OVERLOADED');
    expect(third.details.retryAfterSec).toBeGreaterThan(0);
    expect(fx.engine.stats().queued).toBe(1);
    await until(() => fx!.mock.count() === 1);
    ctl.abort();
    expect(isTileError(await first, 'ABORTED')).toBe(true);
    expect(isTileError(await second, 'ABORTED')).toBe(true);
    await until(() => fx!.engine.stats().inFlight === 0);
    expect(fx.engine.stats().queued).toBe(0);
    await until(() => fx!.mock.aborted() === 1); // the hanging request was really cancelled
  });
});
