import { afterEach, describe, expect, it, vi } from 'vitest';
import { isTileError, TileError } from '../../src/protocol/errors.js';
import { ConcurrencyLimiter } from './ConcurrencyLimiter.js';
import { withDeadline } from './deadline.js';

const live = () => new AbortController().signal;
afterEach(() => {
  vi.useRealTimers();
});

describe('ConcurrencyLimiter', () => {
  it('runs at most `limit` at once and serves the queue in order', async () => {
    const lim = new ConcurrencyLimiter(2, 10);
    const order: number[] = [];
    const r1 = await lim.acquire(live());
    const r2 = await lim.acquire(live());
    const waiting = [3, 4, 5].map((n) =>
      lim.acquire(live()).then((r) => {
        order.push(n);
        return r;
      }),
    );
    expect(lim.active).toBe(2);
    expect(lim.queued).toBe(3);
    r1();
    r1(); // idempotent: a double release must not free two slots
    const r3 = await waiting[0]!;
    expect(order).toEqual([3]);
    expect(lim.queued).toBe(2);
    r2();
    r3();
    for (const r of await Promise.all(waiting.slice(1))) r();
    expect(order).toEqual([3, 4, 5]);
    expect(lim.active).toBe(0);
  });

  it('refuses overflow with OVERLOADED and retryAfterSec', async () => {
    const lim = new ConcurrencyLimiter(1, 1, 2);
    await lim.acquire(live());
    const queued = lim.acquire(live());
    const e = (await lim.acquire(live()).catch((x: unknown) => x)) as TileError;
    expect(e.code).toBe('OVERLOADED');
    expect(e.details.retryAfterSec).toBe(2);
    lim.rejectAll(new TileError('ORIGIN_UNAVAILABLE', 'closing'));
    expect(isTileError(await queued.catch((x: unknown) => x), 'ORIGIN_UNAVAILABLE')).toBe(true);
    expect(lim.queued).toBe(0);
  });

  it('lets an aborted waiter leave the queue without losing the slot', async () => {
    const lim = new ConcurrencyLimiter(1, 5);
    const release = await lim.acquire(live());
    const ctl = new AbortController();
    const leaving = lim.acquire(ctl.signal);
    const staying = lim.acquire(live());
    ctl.abort();
    expect(isTileError(await leaving.catch((x: unknown) => x), 'ABORTED')).toBe(true);
    expect(lim.queued).toBe(1);
    release();
    (await staying)();
    expect(lim.active).toBe(0);
  });

  it('bounds the queue wait by the request deadline', async () => {
    vi.useFakeTimers();
    const lim = new ConcurrencyLimiter(1, 5);
    await lim.acquire(live());
    const d = withDeadline(live(), 300, 'DEADLINE_EXCEEDED');
    const p = lim.acquire(d.signal).catch((x: unknown) => x);
    await vi.advanceTimersByTimeAsync(299);
    expect(lim.queued).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(isTileError(await p, 'DEADLINE_EXCEEDED')).toBe(true);
    expect(lim.queued).toBe(0);
    d.clear();
  });
});
