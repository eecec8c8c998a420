import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryBodyCache } from '../../test/support/sw/MemoryBodyCache.js';
import { withDeadline } from '../async/withDeadline.js';
import { CacheIndex } from './CacheIndex.js';
import type { BodyCache } from './PersistentTier.js';
import { SwCounters } from './SwCounters.js';
import type { TileResult } from './TileResult.js';
import { TileStore } from './TileStore.js';

// The write path of the persistent tier as the soak exercised it: every promise a
// fetch event hands to waitUntil must settle, and Cache Storage must hold exactly
// the bodies the index has records for (an unindexed body is outside the budget).

let n = 0;
const indexes: CacheIndex[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const i of indexes.splice(0)) i.close();
});

function setup(o: {
  budget: number;
  cache?: BodyCache & { bodies: Map<string, unknown> };
  storageOpMs?: number;
}) {
  const cache = o.cache ?? new MemoryBodyCache();
  const counters = new SwCounters();
  const name = `tier-${n++}`;
  let budget = o.budget;
  const index = CacheIndex.open(name).then((i) => {
    indexes.push(i);
    return i;
  });
  const store = new TileStore({
    openCache: async () => cache,
    index,
    memoryBytes: 0,
    budget: async () => budget,
    counters,
    writeDelayMs: 1,
    writeGroup: 100,
    ...(o.storageOpMs !== undefined ? { storageOpMs: o.storageOpMs } : {}),
  });
  return {
    cache,
    counters,
    store,
    name,
    setBudget: (b: number) => {
      budget = b;
    },
    /** Index rows and Cache Storage bodies agree, and the byte total is the rows' sum. */
    async consistent() {
      const idx = await index;
      const urls = (await idx.allUrls()).sort();
      expect([...cache.bodies.keys()].sort()).toEqual(urls);
      let sum = 0;
      for (const u of urls) sum += (await idx.get(u))!.bytes;
      expect(await idx.totalBytes()).toBe(sum);
      return urls;
    },
  };
}

const tile = (size: number, fill = 1): TileResult => ({
  status: 200,
  body: new Uint8Array(size).fill(fill),
  contentType: 'image/png',
  etag: '"e"',
  source: 'batch',
  generation: '1',
});

/** A write's promise (what a fetch event's waitUntil holds) must settle; fails naming it otherwise. */
const settles = (p: Promise<unknown>, what: string) => withDeadline(p, 5000, what);

/** A Cache Storage stand-in whose puts wait for `release()` (a barrier the test opens). */
class HeldPuts extends MemoryBodyCache {
  readonly started: string[] = [];
  #open: () => void = () => {};
  #gate = new Promise<void>((r) => {
    this.#open = r;
  });
  #onStart: (() => void) | undefined;
  /** Resolves once a put has started. */
  putStarted(): Promise<void> {
    return this.started.length > 0 ? Promise.resolve() : new Promise((r) => (this.#onStart = r));
  }
  release(): void {
    this.#open();
  }
  override async put(url: string, r: Response): Promise<void> {
    this.started.push(url);
    this.#onStart?.();
    await this.#gate;
    return super.put(url, r);
  }
}

describe('PersistentTier write path', () => {
  it('a tile queued several times in one group is written once and its writes settle', async () => {
    const { store, consistent } = setup({ budget: 1000 });
    // Fetched again before its group was written (memory tier evicted it meanwhile).
    const writes = Array.from({ length: 20 }, () => store.put('same', 'ds', tile(100)));
    await settles(Promise.all(writes), 'the writes of one tile queued 20 times');
    expect(await consistent()).toEqual(['same']);
    expect((await store.usage()).bytes).toBe(100);
  });

  it('an index total that no record backs (older versions drifted it) does not hold every later write', async () => {
    const { store, consistent, name, counters } = setup({ budget: 1000 });
    await settles(store.put('a', 'ds', tile(100)), 'the first write');
    const raw = await openDB(name, 1);
    await raw.put('meta', { k: 'totalBytes', v: 50_000 });
    raw.close();
    const writes = Array.from({ length: 5 }, (_, i) => store.put(`b${i}`, 'ds', tile(100)));
    await settles(Promise.all(writes), 'the writes after the drifted total');
    await settles(store.evictSoon(), 'the eviction pass');
    // Eviction took everything (the total said 50 kB), ended, and the total is true again.
    await consistent();
    expect(counters.snapshot().evictions).toBeGreaterThan(0);
    const more = Array.from({ length: 3 }, (_, i) => store.put(`c${i}`, 'ds', tile(100)));
    await settles(Promise.all(more), 'the writes once the total is healed');
    expect((await consistent()).sort()).toEqual(['c0', 'c1', 'c2']);
  });

  it('an eviction that takes a record while its body is being put leaves no unindexed body', async () => {
    const cache = new HeldPuts();
    const { store, consistent, setBudget } = setup({ budget: 10_000, cache });
    const write = store.put('a', 'ds', tile(100));
    await settles(cache.putStarted(), 'the body put of a');
    // Index first, body second: the record is in, the body not yet; eviction takes the record.
    setBudget(0);
    await settles(store.evictSoon(), 'the eviction pass');
    cache.release();
    await settles(write, 'the write of a');
    expect(await consistent()).toEqual([]);
    expect(cache.bodies.size).toBe(0);
  });

  it('a dataset clear while its body is being put leaves no unindexed body', async () => {
    const cache = new HeldPuts();
    const { store, consistent } = setup({ budget: 10_000, cache });
    const write = store.put('a', 'ds', tile(100));
    await settles(cache.putStarted(), 'the body put of a');
    expect(await store.clear('ds')).toBe(1);
    cache.release();
    await settles(write, 'the write of a');
    expect(await consistent()).toEqual([]);
  });

  it('a Cache Storage put that never settles: the write settles at storageOpMs, its record dropped', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const cache = new (class extends MemoryBodyCache {
      override put(): Promise<void> {
        return new Promise<void>(() => {});
      }
    })();
    const { store, consistent } = setup({ budget: 10_000, cache, storageOpMs: 3000 });
    let state = 'pending';
    void store.put('a', 'ds', tile(100)).then(() => (state = 'settled'));
    // Real IndexedDB work in between (fake-indexeddb runs on setImmediate, not faked here).
    for (let i = 0; i < 50 && state === 'pending'; i++) await vi.advanceTimersByTimeAsync(100);
    expect(state).toBe('settled');
    vi.useRealTimers();
    expect(await consistent()).toEqual([]);
  });
});
