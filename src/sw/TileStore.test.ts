import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBodyCache as QuotaCache } from '../../test/support/sw/MemoryBodyCache.js';
import { isTileError } from '../protocol/errors.js';
import { CacheIndex } from './CacheIndex.js';
import { SwCounters } from './SwCounters.js';
import type { TileResult } from './TileResult.js';
import { TileStore } from './TileStore.js';

let n = 0;
const indexes: CacheIndex[] = [];
afterEach(() => {
  for (const i of indexes.splice(0)) i.close();
});

function setup(opts: {
  budget: number;
  quota?: number;
  memoryBytes?: number;
  busy?: () => boolean;
  maxDeferMs?: number;
}) {
  const cache = new QuotaCache(opts.quota);
  const counters = new SwCounters();
  const index = CacheIndex.open(`store-${n++}`).then((i) => {
    indexes.push(i);
    return i;
  });
  const store = new TileStore({
    openCache: async () => cache,
    index,
    memoryBytes: opts.memoryBytes ?? 0,
    budget: async () => opts.budget,
    counters,
    writeDelayMs: 1,
    writeGroup: 100,
    ...(opts.busy ? { busy: opts.busy } : {}),
    ...(opts.maxDeferMs !== undefined ? { maxDeferMs: opts.maxDeferMs } : {}),
  });
  return { cache, counters, store, index };
}

/**
 * Makes the index's writes fail `times` times the way Chromium reports a full
 * quota: the transaction aborts with a QuotaExceededError, surfacing as an
 * AbortError whose `.error` is the quota error. Returns how many failed.
 */
function failIndexWrites(index: CacheIndex, times: number): () => number {
  let failed = 0;
  for (const name of ['put', 'putMany'] as const) {
    const real = index[name].bind(index) as (...a: unknown[]) => Promise<number>;
    (index as unknown as Record<string, unknown>)[name] = async (...a: unknown[]) => {
      if (failed < times) {
        failed++;
        const abort = new DOMException('The transaction was aborted.', 'AbortError');
        Object.defineProperty(abort, 'error', { value: new DOMException('full', 'QuotaExceededError') });
        throw abort;
      }
      return real(...a);
    };
  }
  return () => failed;
}

const tile = (size: number, fill = 1): TileResult => ({
  status: 200,
  body: new Uint8Array(size).fill(fill),
  contentType: 'image/png',
  etag: '"e"',
  source: 'batch',
  generation: '1',
});

describe('TileStore', () => {
  it('serves a stored tile from Cache Storage with its bytes, and from memory after that', async () => {
    const { store } = setup({ budget: 10_000, memoryBytes: 10_000 });
    await store.put('u1', 'ds', tile(10, 7), false, false);
    expect(store.memoryGet('u1')).toBeUndefined();
    const hit = await store.persistentGet('u1');
    expect(hit?.body).toEqual(new Uint8Array(10).fill(7));
    expect(hit?.etag).toBe('"e"');
    expect(store.memoryGet('u1')?.source).toBe('sw-cache');
  });

  it('stays under its byte budget, evicting the least recently used', async () => {
    const { store, cache, counters } = setup({ budget: 1000 });
    for (let i = 0; i < 30; i++) await store.put(`u${i}`, 'ds', tile(100));
    await store.evictSoon();
    const usage = await store.usage();
    expect(usage.bytes).toBeLessThanOrEqual(1000);
    expect(cache.bodies.size).toBe(usage.entries);
    expect(cache.bodies.has('u29')).toBe(true);
    expect(cache.bodies.has('u0')).toBe(false);
    expect(counters.snapshot().evictions).toBe(30 - usage.entries);
  });

  it('on QuotaExceededError evicts and retries once', async () => {
    const { store, cache, counters } = setup({ budget: 10_000, quota: 500 });
    for (let i = 0; i < 5; i++) await store.put(`u${i}`, 'ds', tile(100));
    await store.put('big', 'ds', tile(100));
    expect(cache.bodies.has('big')).toBe(true);
    expect(counters.snapshot().quota_errors).toBe(1);
    const usage = await store.usage();
    expect(usage.entries).toBe(cache.bodies.size);
  });

  it('when the retry also fails, the entry is forgotten and the index stays exact', async () => {
    const { store, cache } = setup({ budget: 10_000, quota: 50 });
    await store.put('huge', 'ds', tile(100));
    expect(cache.bodies.size).toBe(0);
    expect((await store.usage()).bytes).toBe(0);
  });

  it('a QuotaExceededError from the index write is counted, evicts a batch and the retry persists the tile', async () => {
    const { store, cache, counters, index } = setup({ budget: 1000 });
    for (let i = 0; i < 5; i++) await store.put(`old${i}`, 'ds', tile(100));
    const failed = failIndexWrites(await index, 1);
    await store.put('new', 'ds', tile(100, 9));
    expect(failed()).toBe(1);
    expect(counters.snapshot().quota_errors).toBe(1);
    // LRU by bytes: room for the new tile plus a quarter of the budget, oldest first
    expect(counters.snapshot().evictions).toBeGreaterThan(0);
    expect(cache.bodies.has('old0')).toBe(false);
    expect(cache.bodies.has('old4')).toBe(true);
    expect((await store.persistentGet('new'))?.body).toEqual(new Uint8Array(100).fill(9));
    const usage = await store.usage();
    expect(usage.entries).toBe(cache.bodies.size);
    expect(usage.bytes).toBe(cache.used());
  });

  it('when the index write always hits the quota: counted twice, not persisted, no orphan either side', async () => {
    const { store, cache, counters, index } = setup({ budget: 1000, memoryBytes: 10_000 });
    await store.put('kept', 'ds', tile(100));
    const failed = failIndexWrites(await index, Number.POSITIVE_INFINITY);
    await store.put('lost', 'ds', tile(100, 5));
    expect(failed()).toBe(2);
    expect(counters.snapshot().quota_errors).toBe(2);
    expect(cache.bodies.has('lost')).toBe(false);
    expect(await (await index).get('lost')).toBeUndefined();
    expect(store.mayHave('lost')).toBe(false);
    // the page still has it from memory
    expect(store.memoryGet('lost')?.body).toEqual(new Uint8Array(100).fill(5));
    const usage = await store.usage();
    expect(usage.entries).toBe(cache.bodies.size);
    expect(usage.bytes).toBe(cache.used());
  });

  it('when the body put hits the quota and the index re-write fails too, neither index entry nor body is left', async () => {
    const { store, cache, counters, index } = setup({ budget: 10_000, quota: 50 });
    const idx = await index;
    const realPut = idx.put.bind(idx);
    let reputs = 0;
    idx.put = async (e) => {
      reputs++;
      await realPut(e);
      throw new DOMException('full', 'QuotaExceededError');
    };
    await store.put('huge', 'ds', tile(100));
    expect(reputs).toBe(1);
    expect(counters.snapshot().quota_errors).toBe(2);
    expect(cache.bodies.size).toBe(0);
    expect(await idx.get('huge')).toBeUndefined();
    expect(await store.usage()).toEqual({ entries: 0, bytes: 0 });
  });

  it('an index that cannot be opened for lack of quota: writes are counted, the page is unaffected', async () => {
    const counters = new SwCounters();
    const full = new DOMException('full', 'QuotaExceededError');
    const store = new TileStore({
      openCache: async () => new QuotaCache(),
      index: Promise.reject(full),
      memoryBytes: 10_000,
      budget: async () => 1000,
      counters,
      writeDelayMs: 1,
      writeGroup: 100,
    });
    await store.put('a', 'ds', tile(10));
    expect(counters.snapshot().quota_errors).toBe(1);
    expect(store.memoryGet('a')?.status).toBe(200);
  });

  it('clears one dataset from memory and disk, keeping a given generation', async () => {
    const { store, cache } = setup({ budget: 10_000, memoryBytes: 10_000 });
    await store.put('a', 'ds', tile(10));
    await store.put('b', 'other', tile(10));
    await store.put('c', 'ds', { ...tile(10), generation: '2' });
    expect(await store.clear('ds', '2')).toBe(1);
    expect(store.memoryGet('a')).toBeUndefined();
    expect(store.memoryGet('b')).toBeDefined();
    expect(store.memoryGet('c')).toBeDefined();
    expect([...cache.bodies.keys()].sort()).toEqual(['b', 'c']);
  });

  it('keeps 404s in memory only', async () => {
    const { store, cache } = setup({ budget: 10_000, memoryBytes: 10_000 });
    await store.put('nf', 'ds', { ...tile(3), status: 404 });
    expect(store.memoryGet('nf')?.status).toBe(404);
    expect(cache.bodies.size).toBe(0);
  });

  it('writes nothing while visible tiles are pending, then everything once idle', async () => {
    let busy = true;
    const { store, cache } = setup({ budget: 10_000, busy: () => busy });
    let written = false;
    const done = store.put('a', 'ds', tile(10)).then(() => {
      written = true;
    });
    for (let i = 0; i < 3; i++) store.put(`b${i}`, 'ds', tile(10));
    await new Promise((r) => setTimeout(r, 30));
    expect(written).toBe(false);
    expect(cache.bodies.size).toBe(0);
    busy = false;
    await done;
    expect([...cache.bodies.keys()].sort()).toEqual(['a', 'b0', 'b1', 'b2']);
  });

  it('writes after maxDeferMs even when the page never stops asking', async () => {
    const { store, cache } = setup({ budget: 10_000, busy: () => true, maxDeferMs: 20 });
    const t0 = performance.now();
    await store.put('a', 'ds', tile(10));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(19);
    expect(cache.bodies.has('a')).toBe(true);
  });
});

describe('TileStore with a stuck or closed index', () => {
  function stuck(index: Promise<CacheIndex>) {
    const cache = new QuotaCache();
    const counters = new SwCounters();
    const store = new TileStore({
      openCache: async () => cache,
      index,
      memoryBytes: 10_000,
      budget: async () => 1e6,
      counters,
      writeDelayMs: 1,
      writeGroup: 100,
      indexWaitMs: 20,
      indexWriteWaitMs: 40,
    });
    return { cache, store };
  }

  it('a lookup whose index never opens is a miss after indexWaitMs, not a stall', async () => {
    const { cache, store } = stuck(new Promise<CacheIndex>(() => {}));
    await cache.put('a', new Response('body'));
    expect(await store.persistentGet('a')).toBeUndefined();
    await expect(store.persistentMarkUsed('a')).rejects.toSatisfy((e) => isTileError(e, 'DEADLINE_EXCEEDED'));
    // The body is kept for a later lookup with a working index.
    expect(cache.bodies.has('a')).toBe(true);
  });

  it('after one lookup ran out of time, the next ones do not wait for the stuck index again', async () => {
    const { cache, store } = stuck(new Promise<CacheIndex>(() => {}));
    await cache.put('a', new Response('body'));
    expect(await store.persistentGet('a')).toBeUndefined();
    // Settles before a 0 ms timer would fire: no new 20 ms wait.
    const order: string[] = [];
    const again = store.persistentMarkUsed('a').catch((e: unknown) => {
      order.push(isTileError(e, 'DEADLINE_EXCEEDED') ? 'rejected' : 'other');
    });
    await new Promise((r) => setTimeout(r, 0)).then(() => order.push('timer'));
    await again;
    expect(order).toEqual(['rejected', 'timer']);
  });

  it('waits for a URL set that never loads once, not once per miss', async () => {
    const { store } = stuck(new Promise<CacheIndex>(() => {}));
    await store.ready(30);
    let second = false;
    void store.ready(30).then(() => {
      second = true;
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(second).toBe(true);
    expect(store.mayHave('x')).toBe(true);
  });

  it('a write whose index never opens settles after indexWriteWaitMs, keeping the tile in memory only', async () => {
    const { cache, store } = stuck(new Promise<CacheIndex>(() => {}));
    await store.put('a', 'ds', tile(10));
    expect(cache.bodies.size).toBe(0);
    expect(store.memoryGet('a')?.status).toBe(200);
  });

  it('a closed index (another version took over) is treated as empty', async () => {
    const index = await CacheIndex.open(`store-${n++}`);
    const { cache, store } = stuck(Promise.resolve(index));
    await store.put('a', 'ds', tile(10));
    expect(cache.bodies.has('a')).toBe(true);
    index.close();
    expect(await store.persistentGet('a')).toBeUndefined();
    await store.put('b', 'ds', tile(10));
    expect(cache.bodies.has('b')).toBe(false);
  });
});
