import { describe, expect, it } from 'vitest';
import { isTileError } from '../../src/protocol/errors.js';
import { boundedToDDS, DDS_QUEUE_LIMIT } from './boundedToDDS.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('boundedToDDS (DDS_CONCURRENCY)', () => {
  it('runs at most `concurrency` conversions, queues up to the limit, refuses the rest with OVERLOADED', async () => {
    const gates: Array<() => void> = [];
    let running = 0;
    let peak = 0;
    const inner = async (raster: Uint8Array) => {
      running++;
      peak = Math.max(peak, running);
      const d = deferred();
      gates.push(d.resolve);
      await d.promise;
      running--;
      return raster;
    };
    const { convert, limiter } = boundedToDDS(async () => inner, 2, 3);
    const signal = new AbortController().signal;
    const ok = Array.from({ length: 5 }, (_, i) => convert(new Uint8Array([i]), signal));
    await expect(convert(new Uint8Array([9]), signal)).rejects.toSatisfy(
      (e) => isTileError(e, 'OVERLOADED') && e.details['retryAfterSec'] === 1,
    );
    expect([limiter.active, limiter.queued]).toEqual([2, 3]);
    while (gates.length > 0 || running > 0) {
      gates.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    expect((await Promise.all(ok)).map((b) => b[0])).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect([limiter.active, limiter.queued]).toEqual([0, 0]);
    expect(DDS_QUEUE_LIMIT).toBeGreaterThanOrEqual(100); // a full batch of distinct .dds keys may wait
  });

  it('a queued conversion leaves the queue when its signal aborts; a failing one frees its slot', async () => {
    const d = deferred();
    let calls = 0;
    const { convert, limiter } = boundedToDDS(
      async () => async (r: Uint8Array) => {
        calls++;
        if (r[0] === 0) {
          await d.promise;
          throw new Error('boom');
        }
        return r;
      },
      1,
    );
    const first = convert(new Uint8Array([0]), new AbortController().signal);
    const ac = new AbortController();
    const queued = convert(new Uint8Array([1]), ac.signal);
    expect(limiter.queued).toBe(1);
    ac.abort();
    await expect(queued).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    expect(limiter.queued).toBe(0);
    d.resolve();
    await expect(first).rejects.toThrow('boom');
    expect(limiter.active).toBe(0);
    expect(await convert(new Uint8Array([2]), new AbortController().signal)).toEqual(new Uint8Array([2]));
    expect(calls).toBe(2);
  });
});
