import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheIndex, isQuotaError } from './CacheIndex.js';

let n = 0;
let open: CacheIndex[] = [];
async function fresh(now: () => number) {
  const idx = await CacheIndex.open(`test-index-${n++}`, now);
  open.push(idx);
  return idx;
}
afterEach(() => {
  for (const i of open) i.close();
  open = [];
});

const entry = (url: string, bytes: number, dataset = 'ds', generation?: string) => ({
  url,
  dataset,
  bytes,
  etag: undefined,
  generation,
  prefetched: false,
});

describe('CacheIndex', () => {
  it('keeps a byte total across puts and replacements', async () => {
    let t = 0;
    const idx = await fresh(() => t++);
    await idx.put(entry('a', 100));
    await idx.put(entry('b', 50));
    expect(await idx.put(entry('a', 30))).toBe(80);
    expect(await idx.totalBytes()).toBe(80);
    expect(await idx.count()).toBe(2);
  });

  it('evicts least recently used first, by bytes, and a touch protects an entry', async () => {
    let t = 0;
    const idx = await fresh(() => t++);
    await idx.put(entry('a', 100));
    await idx.put(entry('b', 100));
    await idx.put(entry('c', 100));
    idx.touch('a');
    await idx.flushTouches();
    const gone = await idx.evictTo(150);
    expect(gone).toEqual(['b', 'c']);
    expect(await idx.totalBytes()).toBe(100);
    expect(await idx.get('a')).toBeDefined();
  });

  it('a URL listed twice in one putMany counts once (the last), so eviction can bring the total to 0', async () => {
    const idx = await fresh(() => 1);
    expect(await idx.putMany([entry('a', 100), entry('b', 50), entry('a', 120)])).toBe(170);
    expect(await idx.count()).toBe(2);
    expect((await idx.get('a'))?.bytes).toBe(120);
    expect((await idx.evictTo(0)).sort()).toEqual(['a', 'b']);
    expect(await idx.totalBytes()).toBe(0);
  });

  it('a total no record backs (left by an older version) is reset when eviction takes every entry', async () => {
    const name = `test-index-${n++}`;
    const idx = await CacheIndex.open(name, () => 1);
    open.push(idx);
    await idx.putMany([entry('a', 100)]);
    // What the duplicate-URL drift left on disk: 10 000 bytes counted, 100 real.
    const raw = await openDB(name, 1);
    await raw.put('meta', { k: 'totalBytes', v: 10_000 });
    raw.close();
    expect(await idx.evictTo(900)).toEqual(['a']);
    expect(await idx.totalBytes()).toBe(0);
  });

  it('the total survives a reopen (nothing only in memory)', async () => {
    const name = `test-index-reopen-${n++}`;
    const a = await CacheIndex.open(name);
    await a.put(entry('x', 42));
    a.close();
    const b = await CacheIndex.open(name);
    open.push(b);
    expect(await b.totalBytes()).toBe(42);
  });

  it('deletes a dataset but keeps entries of the current generation', async () => {
    const idx = await fresh(Date.now);
    await idx.put(entry('a', 10, 'ds', '1'));
    await idx.put(entry('b', 10, 'ds', '2'));
    await idx.put(entry('c', 10, 'other', '1'));
    expect(await idx.deleteDataset('ds', '2')).toEqual(['a']);
    expect(await idx.totalBytes()).toBe(20);
    expect((await idx.deleteDataset(undefined)).sort()).toEqual(['b', 'c']);
    expect(await idx.totalBytes()).toBe(0);
  });

  it('counts a prefetched entry as used once', async () => {
    const idx = await fresh(Date.now);
    await idx.put({ ...entry('p', 5), prefetched: true });
    expect(await idx.markUsed('p')).toBe(true);
    expect(await idx.markUsed('p')).toBe(false);
  });

  it('stores generations per dataset', async () => {
    const idx = await fresh(Date.now);
    expect(await idx.getGeneration('ds')).toBeUndefined();
    await idx.setGeneration('ds', '3');
    expect(await idx.getGeneration('ds')).toBe('3');
  });

  it('recognises a quota failure in every shape browsers report it, and nothing else', () => {
    const quota = new DOMException('full', 'QuotaExceededError');
    const abort = (error: unknown) => Object.assign(new DOMException('aborted', 'AbortError'), { error });
    expect(isQuotaError(quota)).toBe(true);
    expect(isQuotaError(abort(quota))).toBe(true);
    expect(isQuotaError({ name: 'NS_ERROR_DOM_QUOTA_REACHED' })).toBe(true);
    expect(isQuotaError({ code: 22 })).toBe(true);
    expect(isQuotaError(new Error('x', { cause: quota }))).toBe(true);
    expect(isQuotaError(new DOMException('aborted', 'AbortError'))).toBe(false);
    expect(isQuotaError(abort(new DOMException('c', 'ConstraintError')))).toBe(false);
    expect(isQuotaError(new TypeError('x'))).toBe(false);
    expect(isQuotaError(undefined)).toBe(false);
    expect(isQuotaError('QuotaExceededError')).toBe(false);
  });

  it('steps aside for a newer version opened elsewhere instead of blocking it', async () => {
    const name = `test-index-${n++}`;
    const idx = await CacheIndex.open(name);
    await idx.put(entry('a', 10));
    let blocked = false;
    // Another worker version upgrading the schema: without our `blocking` handler this open never resolves.
    const newer = await openDB(name, 2, {
      blocked() {
        blocked = true;
      },
    });
    expect(blocked).toBe(false);
    expect(idx.closed).toBe(true);
    await expect(idx.get('a')).rejects.toBeDefined();
    expect(newer.version).toBe(2);
    newer.close();
  });
});
