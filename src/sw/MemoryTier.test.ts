import { describe, expect, it } from 'vitest';
import { MemoryTier, type StoredTile } from './MemoryTier.js';

const tile = (bytes: number, dataset = 'ds', generation = '1', prefetched = false): StoredTile => ({
  status: 200,
  body: new Uint8Array(bytes),
  contentType: 'image/jpeg',
  etag: undefined,
  source: 'batch',
  generation,
  prefetched,
  dataset,
});

describe('MemoryTier', () => {
  it('keeps at most maxBytes (body + 64 per entry), dropping the least recently used', () => {
    const m = new MemoryTier(3 * (100 + 64));
    for (const k of ['a', 'b', 'c']) m.set(k, tile(100));
    expect(m.bytes).toBe(3 * 164);
    m.get('a'); // a is used again: b is now the oldest
    m.set('d', tile(100));
    expect(m.get('b')).toBeUndefined();
    expect(m.get('a')).toBeDefined();
    expect(m.bytes).toBe(3 * 164);
  });

  it('is off with 0 bytes', () => {
    const m = new MemoryTier(0);
    m.set('a', tile(10));
    expect(m.get('a')).toBeUndefined();
    expect(m.bytes).toBe(0);
    expect(m.markUsed('a')).toBe(false);
  });

  it('markUsed clears the prefetched flag once', () => {
    const m = new MemoryTier(10_000);
    m.set('p', tile(10, 'ds', '1', true));
    expect(m.markUsed('p')).toBe(true);
    expect(m.markUsed('p')).toBe(false);
    expect(m.get('p')?.prefetched).toBe(false);
  });

  it('clear drops a dataset except the generation to keep, or everything', () => {
    const m = new MemoryTier(10_000);
    m.set('a1', tile(10, 'a', '1'));
    m.set('a2', tile(10, 'a', '2'));
    m.set('b1', tile(10, 'b', '1'));
    m.clear('a', '2');
    expect([m.get('a1'), m.get('a2')?.generation, m.get('b1')?.dataset]).toEqual([undefined, '2', 'b']);
    m.clear(undefined);
    expect(m.bytes).toBe(0);
  });
});
