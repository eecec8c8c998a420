import { describe, expect, it } from 'vitest';
import { isTileError, TileError } from '../../src/protocol/errors.js';
import { Coalescer } from './Coalescer.js';

/** A fetch the test resolves by hand, recording the signal it was given. */
function manual<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const signals: AbortSignal[] = [];
  let calls = 0;
  const fetch = (s: AbortSignal) => {
    calls++;
    signals.push(s);
    return new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
      s.addEventListener('abort', () => rej(s.reason));
    });
  };
  return {
    fetch,
    resolve: (v: T) => resolve(v),
    reject: (e: unknown) => reject(e),
    signals,
    calls: () => calls,
  };
}
const live = () => new AbortController().signal;
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('Coalescer', () => {
  it('shares one fetch per key and counts joiners', async () => {
    const c = new Coalescer<string>();
    const f = manual<string>();
    let joined = 0;
    const ps = [1, 2, 3].map(() => c.run('k', live(), f.fetch, () => joined++));
    await tick();
    f.resolve('v');
    expect(await Promise.all(ps)).toEqual(['v', 'v', 'v']);
    expect(f.calls()).toBe(1);
    expect(joined).toBe(2);
    expect(c.size).toBe(0);
  });

  it('rejects only the waiter that aborts; the last one out aborts the shared fetch', async () => {
    const c = new Coalescer<string>();
    const f = manual<string>();
    const a = new AbortController();
    const b = new AbortController();
    const pa = c.run('k', a.signal, f.fetch).catch((e: unknown) => e);
    const pb = c.run('k', b.signal, f.fetch).catch((e: unknown) => e);
    await tick();
    a.abort();
    expect(isTileError(await pa, 'ABORTED')).toBe(true);
    expect(f.signals[0]!.aborted).toBe(false);
    b.abort();
    expect(isTileError(await pb, 'ABORTED')).toBe(true);
    expect(f.signals[0]!.aborted).toBe(true);
    expect(c.size).toBe(0);
  });

  it('rejects every waiter when the fetch fails and fetches again next time', async () => {
    const c = new Coalescer<string>();
    const f = manual<string>();
    const ps = [1, 2].map(() => c.run('k', live(), f.fetch).catch((e: unknown) => e));
    await tick();
    f.reject(new TileError('ORIGIN_ERROR', 'boom', { status: 500 }));
    for (const e of await Promise.all(ps)) expect(isTileError(e, 'ORIGIN_ERROR')).toBe(true);
    const again = c.run('k', live(), f.fetch);
    await tick();
    f.resolve('ok');
    expect(await again).toBe('ok');
    expect(f.calls()).toBe(2);
  });

  it('keeps keys apart', async () => {
    const c = new Coalescer<string>();
    const f = manual<string>();
    const g = manual<string>();
    const pa = c.run('a', live(), f.fetch);
    const pb = c.run('b', live(), g.fetch);
    await tick();
    f.resolve('A');
    g.resolve('B');
    expect([await pa, await pb]).toEqual(['A', 'B']);
  });
});
