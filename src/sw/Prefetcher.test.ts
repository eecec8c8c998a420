import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Prefetcher, type PrefetcherOptions, type PrefetchTask } from './Prefetcher.js';

const task = (i: number): PrefetchTask => ({
  url: `u${i}`,
  dataset: 'ds',
  key: `5/${i}/0.png`,
  batchUrl: 'b',
});

/** A prefetcher whose runs wait until the test settles them (or their signal aborts). */
function make(extra: Partial<PrefetcherOptions> = {}) {
  const ran: string[] = [];
  const aborted: string[] = [];
  const pending = new Map<string, () => void>();
  const p = new Prefetcher({
    enabled: true,
    maxInFlight: 2,
    perSecond: 1000,
    maxQueue: 100,
    busy: () => false,
    saveData: () => false,
    run: (t, signal) =>
      new Promise<boolean>((resolve, reject) => {
        ran.push(t.url);
        pending.set(t.url, () => resolve(true));
        signal.addEventListener('abort', () => {
          aborted.push(t.url);
          reject(new Error('aborted'));
        });
      }),
    pauseMs: 1,
    now: () => Date.now(),
    ...extra,
  });
  const finish = async (url: string) => {
    pending.get(url)?.();
    pending.delete(url);
    await vi.advanceTimersByTimeAsync(0);
  };
  return { p, ran, aborted, finish };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Prefetcher', () => {
  it('never runs more than maxInFlight at once', async () => {
    const { p, ran, finish } = make();
    p.add(Array.from({ length: 5 }, (_, i) => task(i)));
    expect(ran).toHaveLength(2);
    expect(p.active).toBe(2);
    await finish(ran[0]!);
    expect(ran).toHaveLength(3);
    expect(p.active).toBe(2);
    for (let i = 0; i < 5 && ran.length > 0; i++) for (const u of [...ran]) await finish(u);
    expect(ran).toHaveLength(5);
    expect(p.queued + p.active).toBe(0);
  });

  it('waits while visible tiles are busy', async () => {
    let busy = true;
    const { p, ran } = make({ busy: () => busy });
    p.add([task(1)]);
    await vi.advanceTimersByTimeAsync(50);
    expect(ran).toEqual([]);
    busy = false;
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toEqual(['u1']);
  });

  it('keeps to the per-second cap', async () => {
    const { p, ran } = make({ perSecond: 3, maxInFlight: 100 });
    p.add(Array.from({ length: 10 }, (_, i) => task(i)));
    await vi.advanceTimersByTimeAsync(10);
    expect(ran).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1000);
    expect(ran).toHaveLength(6);
    p.cancel();
  });

  it('prefetches nothing under Save-Data', () => {
    const { p, ran } = make({ saveData: () => true });
    expect(p.add([task(1)])).toBe(0);
    expect(p.replace([task(2)])).toBe(0);
    expect(ran).toEqual([]);
  });

  it('runs the newest targets first and bounds its queue', async () => {
    const { p, ran, finish } = make({ maxInFlight: 1, maxQueue: 3 });
    p.add([task(1)]); // starts at once
    p.add([task(2), task(3), task(4), task(5)]); // u2 falls out of the queue of 3
    for (let i = 0; i < 4; i++) await finish(ran[ran.length - 1]!);
    expect(ran).toEqual(['u1', 'u5', 'u4', 'u3']);
  });

  it('replace runs a plan best first and cancels the planned targets it no longer holds', async () => {
    const { p, ran, aborted } = make({ maxInFlight: 2 });
    p.replace([task(1), task(2), task(3), task(4)]);
    expect(ran).toEqual(['u1', 'u2']);
    // The view moved on: u2 (in flight) and u4 (queued) are no longer wanted, u1 and u3 still are.
    expect(p.replace([task(3), task(1), task(5)])).toBe(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(aborted).toEqual(['u2']);
    expect(ran).toEqual(['u1', 'u2', 'u3']);
    expect(p.queued).toBe(1); // u5; u1 keeps running, not queued twice
  });

  it('replace leaves page-asked targets alone', async () => {
    const { p, ran, aborted } = make({ maxInFlight: 1 });
    p.add([task(1), task(2)]);
    expect(p.replace([task(9)])).toBe(0);
    expect(aborted).toEqual([]);
    expect(ran).toEqual(['u2']);
    expect(p.queued).toBe(2); // u1 and u9
  });

  it('drop takes a target out of the queue or aborts it in flight', async () => {
    const { p, ran, aborted } = make({ maxInFlight: 1 });
    p.add([task(1), task(2)]);
    expect(ran).toEqual(['u2']);
    expect(p.drop('u1')).toBe(true);
    expect(p.drop('u2')).toBe(true);
    expect(p.drop('u3')).toBe(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(aborted).toEqual(['u2']);
    expect(ran).toEqual(['u2']);
    expect(p.queued + p.active).toBe(0);
  });
});
