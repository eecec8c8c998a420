import { describe, expect, it } from 'vitest';
import { isTileError } from '../protocol/errors.js';
import { fetchJsonBatch } from './jsonBatch.js';
import type { WorkerPool } from './pool/index.js';

/** A pool whose worker side answers from the keys in the URL (every 7th tile missing). */
function fakePool(seen: string[]): WorkerPool {
  return {
    size: 1,
    decode: () => Promise.reject(new Error('unused')),
    fetchJsonBatch: async (url) => {
      seen.push(url);
      const keys = new URL(url).searchParams.getAll('tiles');
      const tiles: Record<string, Uint8Array | null> = {};
      keys.forEach((k, i) => {
        tiles[k] = i % 7 === 6 ? null : new TextEncoder().encode(k);
      });
      const errors = Object.fromEntries(
        keys.filter((_, i) => i % 7 === 5).map((k) => [k, { code: 'ORIGIN_TIMEOUT', message: 'slow' }]),
      );
      for (const k of Object.keys(errors)) tiles[k] = null;
      return { tiles, errors, cacheStats: { hit_rate: `${seen.length}` }, bytes: 0 };
    },
    stats: () => {
      throw new Error('unused');
    },
    close: () => {},
  };
}

describe('fetchJsonBatch', () => {
  it('splits keys into requests of at most 100 on the batch route and merges the answers', async () => {
    const seen: string[] = [];
    const keys = Array.from({ length: 250 }, (_, i) => `5/${i % 32}/${Math.floor(i / 32)}.jpg`);
    const res = await fetchJsonBatch('sample', keys, { baseUrl: 'http://127.0.0.1:9', pool: fakePool(seen) });
    expect(seen).toHaveLength(3);
    expect(seen.map((u) => new URL(u).searchParams.getAll('tiles').length)).toEqual([100, 100, 50]);
    expect(new URL(seen[0]!).pathname).toBe('/api/tiles/sample/batch');
    expect(res.tiles.size).toBe(250);
    expect(new TextDecoder().decode(res.tiles.get(keys[0]!)!)).toBe(keys[0]);
    expect(res.tiles.get(keys[6]!)).toBeNull();
    // failed tiles are told apart from missing ones, across all three answers
    expect(res.tiles.get(keys[5]!)).toBeNull();
    expect(res.errors.get(keys[5]!)).toEqual({ code: 'ORIGIN_TIMEOUT', message: 'slow' });
    expect(res.errors.has(keys[6]!)).toBe(false);
    expect(res.errors.size).toBe(14 + 14 + 7);
    expect(res.cacheStats).toEqual({ hit_rate: '3' });
  });

  it('needs a base URL outside a page', async () => {
    await expect(fetchJsonBatch('sample', ['0/0/0.jpg'], { pool: fakePool([]) })).rejects.toSatisfy((e) =>
      isTileError(e, 'BAD_CONFIG'),
    );
  });
});
