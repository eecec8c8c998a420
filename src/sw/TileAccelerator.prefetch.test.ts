import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeCompanion } from '../../test/support/sw/fakeCompanion.js';
import { MemoryBodyCache } from '../../test/support/sw/MemoryBodyCache.js';
import { resolveOptions, type TileAcceleratorOptions } from './options.js';
import { TileAccelerator } from './TileAccelerator.js';
import type { TileRoute } from './TileRouter.js';

const ORIGIN = 'https://app.test';
let n = 0;
const made: TileAccelerator[] = [];
afterEach(async () => {
  for (const a of made.splice(0)) {
    await a.store.flush();
    (await a.store.indexReady()).close();
  }
});

function make(fetch: typeof globalThis.fetch, o: TileAcceleratorOptions = {}) {
  const acc = new TileAccelerator(
    resolveOptions({ cache: { name: `accp-${n++}`, budgetBytes: 1e6 }, ...o }, ORIGIN),
    { workerOrigin: ORIGIN, fetch, openCache: async () => new MemoryBodyCache() },
  );
  made.push(acc);
  return acc;
}

const route = (acc: TileAccelerator, key: string) =>
  acc.router.route({ url: `${ORIGIN}/api/tiles/ds/${key}`, method: 'GET' }) as TileRoute;
const serve = (acc: TileAccelerator, key: string, signal = new AbortController().signal) =>
  acc.handleTile(route(acc, key), signal, () => {});
const until = (what: () => Promise<unknown> | unknown) => vi.waitFor(what, { timeout: 10_000 });

describe('TileAccelerator prefetch', () => {
  it('counts each prefetch fetch once and each first use once, whichever way it is served', async () => {
    const c = fakeCompanion();
    const acc = make(c.fetch, { prefetch: { ring: 1, parent: true } });
    await serve(acc, '3/4/4.jpg');
    // Ring of 8 and the parent.
    await until(async () => expect((await acc.stats()).prefetched).toBe(9));
    let s = await acc.stats();
    const ring = c.keys().filter((k) => k !== '3/4/4.jpg');
    expect(s.prefetch_bytes).toBe(ring.reduce((a, k) => a + c.bytes(k), 0));
    expect(s.prefetch_used).toBe(0);
    // From memory, three times: one use.
    for (let i = 0; i < 3; i++) await serve(acc, '3/5/4.jpg');
    s = await acc.stats();
    expect(s.prefetch_used).toBe(1);
    expect(s.prefetch_used_bytes).toBe(c.bytes('3/5/4.jpg'));
    expect(s.prefetch_unused_bytes).toBe(s.prefetch_bytes - c.bytes('3/5/4.jpg'));
    expect(s.prefetch_used).toBeLessThanOrEqual(s.prefetched);
    // The tile the page asked for itself was never a prefetch.
    await serve(acc, '3/4/4.jpg');
    expect((await acc.stats()).prefetch_used).toBe(1);
  });

  it('a page request that joins a prefetch in flight is its one use', async () => {
    const c = fakeCompanion();
    const acc = make(c.fetch, { prefetch: { ring: 0, parent: true } });
    await serve(acc, '3/4/4.jpg');
    c.hold();
    // The parent's prefetch is now in a held batch.
    await until(() => expect(c.state.held).toHaveLength(1));
    expect(c.state.batches.at(-1)).toEqual(['2/2/2.jpg']);
    const joined = Promise.all([serve(acc, '2/2/2.jpg'), serve(acc, '2/2/2.jpg')]);
    c.release();
    for (const r of await joined) expect(await r.text()).toBe('tile 2/2/2.jpg');
    await serve(acc, '2/2/2.jpg');
    const s = await acc.stats();
    expect(s.prefetched).toBe(1);
    expect(s.prefetch_used).toBe(1);
    expect(s.prefetch_unused_bytes).toBe(0);
    expect(c.keys().filter((k) => k === '2/2/2.jpg')).toHaveLength(1);
  });

  it('an aborted tile leaves its pending batch unless another request still waits for it', async () => {
    const c = fakeCompanion();
    // The batch leaves only when it holds 3 keys: what is in it does not depend on timing.
    const acc = make(c.fetch, {
      batch: { windowMs: 60_000, maxWaitMs: 60_000, maxTiles: 3 },
      prefetch: { enabled: false },
    });
    const a = new AbortController();
    const b1 = new AbortController();
    const pa = serve(acc, '3/1/1.jpg', a.signal);
    const pb1 = serve(acc, '3/2/1.jpg', b1.signal);
    const pb2 = serve(acc, '3/2/1.jpg');
    await until(async () => expect((await acc.stats()).cache_misses).toBe(2));
    a.abort();
    b1.abort(); // 3/2/1 still has a waiter: it stays
    await expect(pa).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(pb1).rejects.toMatchObject({ code: 'ABORTED' });
    expect(c.state.batches).toEqual([]);
    const rest = [serve(acc, '3/3/1.jpg'), serve(acc, '3/4/1.jpg')];
    expect(await (await pb2).text()).toBe('tile 3/2/1.jpg');
    await Promise.all(rest);
    expect(c.state.batches.map((b) => b.sort())).toEqual([['3/2/1.jpg', '3/3/1.jpg', '3/4/1.jpg']]);
    expect((await acc.stats()).aborted).toBe(2);
    expect(c.state.singles).toEqual([]);
  });

  it('spends no prefetch on a tile whose request was aborted, and drops it from a plan in flight', async () => {
    const c = fakeCompanion();
    const acc = make(c.fetch, { prefetch: { ring: 1, parent: true } });
    await expect(serve(acc, '3/1/1.jpg', AbortSignal.abort())).rejects.toMatchObject({ code: 'ABORTED' });
    await Promise.all(['3/2/1.jpg', '3/3/1.jpg', '3/4/1.jpg'].map((k) => serve(acc, k)));
    // Parents 2/1/0, 2/2/0 and the ring around x 2..4, y 1 (12), less 3/1/1, which left the view.
    await until(async () => expect((await acc.stats()).prefetched).toBe(13));
    expect(c.keys()).not.toContain('3/1/1.jpg');
    // A planned tile whose page request is aborted while its prefetch waits is dropped too.
    c.hold();
    await Promise.all(['3/2/2.jpg', '3/3/2.jpg'].map((k) => serve(acc, k)));
    await until(() => expect(c.state.held.length).toBeGreaterThan(0));
    const planned = c.state.batches.at(-1)!;
    const victim = planned.find((k) => k.startsWith('3/'))!;
    await expect(serve(acc, victim, AbortSignal.abort())).rejects.toMatchObject({ code: 'ABORTED' });
    c.release();
    await until(async () => expect((await acc.stats()).in_flight).toBe(0));
    const s = await acc.stats();
    expect(s.aborted).toBe(2);
    expect(s.prefetch_cancelled).toBeGreaterThanOrEqual(1);
    expect(s.prefetch_used).toBe(2); // 3/2/2 and 3/3/2 were in the ring
  });

  it('after pans to the right, prefetches the next strips to the right', async () => {
    const c = fakeCompanion();
    const acc = make(c.fetch, { prefetch: { ring: 1, parent: false, perSecond: 100_000 } });
    const strip = (x0: number, x1: number) =>
      [x0, x1].flatMap((x) => [0, 1, 2, 3].map((y) => `5/${x}/${y}.jpg`)).sort();
    const show = (x0: number, cols: number) => {
      const all = [];
      for (let y = 0; y < 4; y++)
        for (let x = x0; x < x0 + cols; x++) all.push(serve(acc, `5/${x}/${y}.jpg`));
      return Promise.all(all);
    };
    await show(4, 4); // x 4..7, y 0..3
    await until(async () => expect((await acc.stats()).prefetched).toBe(14)); // ring, clipped at y -1
    await show(8, 2); // two columns right (8 was prefetched by the ring, 9 not)
    // The next strip, two deep, right of the view (now x 6..9).
    await until(async () => expect((await acc.stats()).prefetched).toBe(14 + 8));
    expect(c.keys().slice(-8).sort()).toEqual(strip(10, 11));
    await show(10, 2); // and again: all from the prefetch
    await until(async () => expect((await acc.stats()).prefetched).toBe(22 + 8));
    expect(c.keys().slice(-8).sort()).toEqual(strip(12, 13));
    const s = await acc.stats();
    expect(s.prefetch_used).toBe(4 + 8); // column 8, then 10 and 11
    expect(s.cache_misses).toBe(16 + 4); // the first view and column 9
  });
});
