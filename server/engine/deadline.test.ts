import { afterEach, describe, expect, it, vi } from 'vitest';
import { errorFromSignal } from '../../src/async/errorFromSignal.js';
import { isTileError } from '../../src/protocol/errors.js';
import { raceSignal, sleep, withDeadline } from './deadline.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('deadlines', () => {
  it('aborts with its own code after ms, or with the parent reason first', async () => {
    vi.useFakeTimers();
    const parent = new AbortController();
    const d = withDeadline(parent.signal, 100, 'ORIGIN_TIMEOUT');
    await vi.advanceTimersByTimeAsync(100);
    expect(isTileError(errorFromSignal(d.signal), 'ORIGIN_TIMEOUT')).toBe(true);
    const e = withDeadline(parent.signal, 100, 'DEADLINE_EXCEEDED');
    parent.abort();
    expect(isTileError(errorFromSignal(e.signal), 'ABORTED')).toBe(true);
    e.clear();
  });

  it('leaves no timer behind once cleared', () => {
    vi.useFakeTimers();
    const d = withDeadline(new AbortController().signal, 1000, 'DEADLINE_EXCEEDED');
    expect(vi.getTimerCount()).toBe(1);
    d.clear();
    expect(vi.getTimerCount()).toBe(0);
    expect(d.signal.aborted).toBe(false);
  });

  it('sleep rejects on abort and clears its timer', async () => {
    vi.useFakeTimers();
    const c = new AbortController();
    const p = sleep(1000, c.signal).catch((e: unknown) => e);
    c.abort();
    expect(isTileError(await p, 'ABORTED')).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('raceSignal', () => {
  it('passes the value or error through and stops waiting on abort or after ms, leaving nothing behind', async () => {
    vi.useFakeTimers();
    try {
      const ctl = new AbortController();
      await expect(raceSignal(Promise.resolve(7), ctl.signal, 100)).resolves.toBe(7);
      await expect(raceSignal(Promise.reject(new Error('boom')), ctl.signal)).rejects.toThrow('boom');
      const never = new Promise<number>(() => {});
      const late = raceSignal(never, ctl.signal, 100, 'shared cache');
      vi.advanceTimersByTime(100);
      await expect(late).rejects.toSatisfy(
        (e) => isTileError(e, 'DEADLINE_EXCEEDED') && /shared cache deadline/.test((e as Error).message),
      );
      const left = raceSignal(never, ctl.signal);
      ctl.abort();
      await expect(left).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
      await expect(raceSignal(never, ctl.signal, 100)).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
