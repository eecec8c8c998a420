import { describe, expect, it } from 'vitest';
import { MemoryTileCache, type TileEntry } from './MemoryTileCache.js';

function entry(n: number | null): TileEntry {
  return {
    bytes: n === null ? null : new Uint8Array(n),
    contentType: 'image/png',
    etag: '"x"',
    storedAt: 0,
    generation: 0,
  };
}

describe('MemoryTileCache', () => {
  it('stays under its byte bound after a flood of unique keys', () => {
    const c = new MemoryTileCache({ maxBytes: 100_000, maxEntryBytes: 20_000 });
    for (let i = 0; i < 5_000; i++) c.set('d', `d/10/${i}/0.png`, entry(1_000 + (i % 7) * 500), 0);
    expect(c.bytes).toBeLessThanOrEqual(100_000);
    expect(c.size).toBeGreaterThan(10);
    expect(c.evictions).toBeGreaterThan(4_000);
  });

  it('refuses entries over the largest-entry limit', () => {
    const c = new MemoryTileCache({ maxBytes: 100_000, maxEntryBytes: 5_000 });
    expect(c.set('d', 'd/0/0/0.png', entry(6_000), 0)).toBe(false);
    expect(c.set('d', 'd/0/0/1.png', entry(4_000), 0)).toBe(true);
  });

  it('clears one dataset, bumps its generation and refuses writes carrying the old one', () => {
    const c = new MemoryTileCache({ maxBytes: 100_000, maxEntryBytes: 5_000 });
    c.set('a', 'a/0/0/0.png', entry(10), 0);
    c.set('ab', 'ab/0/0/0.png', entry(10), 0);
    const gen = c.generation('a');
    expect(c.clearDataset('a')).toBe(1);
    expect(c.get('a/0/0/0.png')).toBeUndefined();
    expect(c.get('ab/0/0/0.png')).toBeDefined();
    expect(c.set('a', 'a/1/0/0.png', entry(10), gen)).toBe(false);
    expect(c.set('a', 'a/1/0/0.png', entry(10), c.generation('a'))).toBe(true);
  });

  it('is disabled by a zero budget', () => {
    const c = new MemoryTileCache({ maxBytes: 0, maxEntryBytes: 0 });
    expect(c.enabled).toBe(false);
    expect(c.set('d', 'd/0/0/0.png', entry(1), 0)).toBe(false);
  });

  it('keeps remembered 404s in their own small LRU: a flood of them never evicts a real tile', () => {
    const c = new MemoryTileCache({ maxBytes: 160_000, maxEntryBytes: 20_000 });
    for (let i = 0; i < 100; i++) c.set('d', `d/10/${i}/0.png`, entry(1_000), 0);
    for (let i = 0; i < 10_000; i++) c.set('d', `d/18/${i}/${i}.png`, entry(null), 0);
    expect(c.evictions).toBe(0);
    for (let i = 0; i < 100; i++) expect(c.get(`d/10/${i}/0.png`)?.bytes?.length).toBe(1_000);
    expect(c.negativeEvictions).toBeGreaterThan(9_000);
    expect(c.negativeBytes).toBeLessThanOrEqual(160_000 / 16);
    expect(c.bytes).toBeLessThanOrEqual(c.maxBytes);
    expect(c.maxBytes).toBe(160_000);
    // The newest negatives are remembered.
    expect(c.get('d/18/9999/9999.png')?.bytes).toBeNull();
  });

  it('a tile turning missing (or back) is stored in one LRU only, and clear drops both', () => {
    const c = new MemoryTileCache({ maxBytes: 100_000, maxEntryBytes: 5_000 });
    c.set('d', 'd/0/0/0.png', entry(10), 0);
    c.set('d', 'd/0/0/0.png', entry(null), 0);
    expect(c.get('d/0/0/0.png')?.bytes).toBeNull();
    expect(c.size).toBe(1);
    c.set('d', 'd/0/0/0.png', entry(20), 0);
    expect(c.get('d/0/0/0.png')?.bytes?.length).toBe(20);
    expect(c.negativeSize).toBe(0);
    c.set('d', 'd/0/0/1.png', entry(null), 0);
    expect(c.clearDataset('d')).toBe(2);
    expect(c.size).toBe(0);
  });
});
