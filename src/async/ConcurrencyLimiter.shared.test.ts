import { afterEach, describe, expect, it, vi } from 'vitest';
import { isTileError, TileError } from '../protocol/errors.js';
import { ConcurrencyLimiter } from './ConcurrencyLimiter.js';

// The server's limiter tests (server/engine/ConcurrencyLimiter.test.ts) moved here
// with their assertions, plus the worker's use (it was `src/sw/Semaphore.ts`, untested):
// `run`, an unbounded queue by default.

const live = () => new AbortController().signal;
/** A promise the test opens by hand (Promise.withResolvers is not in Node 20). */
function gate() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
/** A signal that aborts with DEADLINE_EXCEEDED after `ms` (fake timers drive it). */
function deadline(ms: number) {
  const c = new AbortController();
  const t = setTimeout(() => c.abort(new TileError('DEADLINE_EXCEEDED', 'deadline exceeded', { ms })), ms);
  return { signal: c.signal, clear: () => clearTimeout(t) };
}
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
    const d = deadline(300);
    const p = lim.acquire(d.signal).catch((x: unknown) => x);
    await vi.advanceTimersByTimeAsync(299);
    expect(lim.queued).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(isTileError(await p, 'DEADLINE_EXCEEDED')).toBe(true);
    expect(lim.queued).toBe(0);
    d.clear();
  });

  it('refuses a limit below 1 with BAD_CONFIG', () => {
    expect(() => new ConcurrencyLimiter(0)).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
  });
});

describe('ConcurrencyLimiter.run (the worker: unbounded queue)', () => {
  it('queues without bound by default and runs `limit` tasks at a time, in order', async () => {
    const lim = new ConcurrencyLimiter(2);
    const gates = Array.from({ length: 50 }, () => gate());
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      lim.run(live(), async () => {
        started.push(i);
        peak = Math.max(peak, ++running);
        await g.promise;
        running--;
        return i;
      }),
    );
    await Promise.resolve();
    expect(lim.active).toBe(2);
    expect(lim.queued).toBe(48); // no OVERLOADED without a queue limit
    for (const g of gates) g.resolve();
    expect(await Promise.all(runs)).toEqual(gates.map((_, i) => i));
    expect(started).toEqual(gates.map((_, i) => i));
    expect(peak).toBe(2);
    expect(lim.active).toBe(0);
  });

  it('frees the slot when the task throws', async () => {
    const lim = new ConcurrencyLimiter(1);
    await expect(
      lim.run(live(), async () => {
        throw new TileError('ORIGIN_ERROR', 'boom');
      }),
    ).rejects.toSatisfy((e) => isTileError(e, 'ORIGIN_ERROR'));
    expect(lim.active).toBe(0);
    expect(await lim.run(live(), async () => 'next')).toBe('next');
  });

  it('a waiter aborted while queued rejects ABORTED and never runs its task', async () => {
    const lim = new ConcurrencyLimiter(1);
    const g0 = gate();
    const first = lim.run(live(), () => g0.promise);
    const ctl = new AbortController();
    let ran = false;
    const second = lim.run(ctl.signal, async () => {
      ran = true;
    });
    ctl.abort();
    await expect(second).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    expect(lim.queued).toBe(0);
    g0.resolve();
    await first;
    expect(ran).toBe(false);
    expect(lim.active).toBe(0);
  });

  it('rejects at once for an already aborted signal', async () => {
    const lim = new ConcurrencyLimiter(1);
    const ctl = new AbortController();
    ctl.abort();
    await expect(lim.run(ctl.signal, async () => 'x')).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    expect(lim.active).toBe(0);
  });
});
