import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryBodyCache } from '../../test/support/sw/MemoryBodyCache.js';
import { BATCH_MEDIA_TYPE, encodeBatchHeader, encodeFrame } from '../protocol/batchFraming.js';
import { isTileError } from '../protocol/errors.js';
import type { CacheIndex } from './CacheIndex.js';
import { resolveOptions, type TileAcceleratorOptions } from './options.js';
import { type AcceleratorEnv, TileAccelerator } from './TileAccelerator.js';
import type { TileRoute } from './TileRouter.js';

const ORIGIN = 'https://app.test';
let n = 0;

/**
 * A companion behind API_TOKEN with two valid credentials; each tile's
 * bytes name the credential it was fetched with, so a mix-up shows.
 */
function companion(tokens: string[] | 'open' = ['Bearer alice', 'Bearer bob']) {
  const batches: Array<{ keys: string[]; authorization: string | null }> = [];
  const singles: Array<{ url: string; authorization: string | null }> = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const authorization = new Headers(init?.headers).get('Authorization');
    const refused =
      tokens === 'open' ? 0 : authorization === null ? 401 : tokens.includes(authorization) ? 0 : 403;
    if (url.endsWith('/batch')) {
      const keys = (JSON.parse(String(init?.body)) as { tiles: string[] }).tiles;
      batches.push({ keys, authorization });
      if (refused) return new Response('{"error":{"code":"UNAUTHORIZED"}}', { status: refused });
      const chunks: Uint8Array[] = [encodeBatchHeader()];
      for (const k of keys) {
        const body = new TextEncoder().encode(`${k} for ${authorization}`);
        chunks.push(...encodeFrame({ kind: 'tile', key: k, meta: { contentType: 'image/jpeg' }, body }));
      }
      chunks.push(...encodeFrame({ kind: 'end', trailer: { count: keys.length } }));
      return new Response(new Blob(chunks as Uint8Array<ArrayBuffer>[]).stream(), {
        headers: { 'Content-Type': BATCH_MEDIA_TYPE },
      });
    }
    singles.push({ url, authorization });
    if (refused) return new Response('{"error":{"code":"UNAUTHORIZED"}}', { status: refused });
    return new Response(`${url} for ${authorization}`, { headers: { 'Content-Type': 'image/jpeg' } });
  }) as typeof globalThis.fetch;
  return { fetch, batches, singles };
}

const made: TileAccelerator[] = [];
afterEach(async () => {
  await new Promise((r) => setTimeout(r, 80));
  for (const a of made.splice(0))
    await a.store.indexReady().then(
      (i) => i.close(),
      () => {},
    );
});

function make(
  fetch: typeof globalThis.fetch,
  o: TileAcceleratorOptions = {},
  env: Partial<AcceleratorEnv> = {},
) {
  const cache = new MemoryBodyCache();
  const acc = new TileAccelerator(
    resolveOptions(
      { cache: { name: `auth-${n++}`, budgetBytes: 1e6 }, prefetch: { enabled: false }, ...o },
      ORIGIN,
    ),
    { workerOrigin: ORIGIN, fetch, openCache: async () => cache, ...env },
  );
  made.push(acc);
  return { acc, cache };
}

const route = (acc: TileAccelerator, path: string) =>
  acc.router.route({ url: `${ORIGIN}${path}`, method: 'GET' }) as TileRoute;
const serve = (acc: TileAccelerator, path: string, authorization?: string) =>
  acc.handleTile(route(acc, path), new AbortController().signal, () => {}, authorization);
const T = '/api/tiles/ds/3/1/1.jpg';

describe('TileAccelerator and credentials', () => {
  it('fetches a credentialed tile with its credential and serves it again only to the same credential', async () => {
    const c = companion();
    const { acc, cache } = make(c.fetch);
    const a = await serve(acc, T, 'Bearer alice');
    expect(await a.text()).toBe('3/1/1.jpg for Bearer alice');
    expect(a.headers.get('Cache-Control')).toBe('private, max-age=86400');
    const again = await serve(acc, T, 'Bearer alice');
    expect(again.headers.get('X-Tile-Source')).toBe('sw-memory');
    expect(await again.text()).toBe('3/1/1.jpg for Bearer alice');
    // Another credential: its own batch, its own bytes.
    const b = await serve(acc, T, 'Bearer bob');
    expect(b.headers.get('X-Tile-Source')).toBe('batch');
    expect(await b.text()).toBe('3/1/1.jpg for Bearer bob');
    // No credential: not served from either entry; the companion refuses it.
    await expect(serve(acc, T)).rejects.toSatisfy((e) => isTileError(e, 'UNAUTHORIZED'));
    expect(c.batches.map((x) => x.authorization)).toEqual(['Bearer alice', 'Bearer bob', null]);
    // Never persisted: Cache Storage and the index stay empty.
    await new Promise((r) => setTimeout(r, 60));
    expect(cache.bodies.size).toBe(0);
    expect((await acc.stats()).cache_size).toBe(0);
  });

  it('does not coalesce or batch requests of different credentials together', async () => {
    const c = companion();
    const { acc } = make(c.fetch);
    const [a, b, a2] = await Promise.all([
      serve(acc, T, 'Bearer alice'),
      serve(acc, T, 'Bearer bob'),
      serve(acc, T, 'Bearer alice'),
    ]);
    expect(await a.text()).toBe('3/1/1.jpg for Bearer alice');
    expect(await b.text()).toBe('3/1/1.jpg for Bearer bob');
    expect(await a2.text()).toBe('3/1/1.jpg for Bearer alice');
    expect(c.batches).toHaveLength(2);
    expect((await acc.stats()).coalesced).toBe(1);
  });

  it('a 401 for a request without credentials is no answer: rejected for the fail-safe, never cached', async () => {
    const c = companion();
    const { acc, cache } = make(c.fetch);
    await expect(serve(acc, T)).rejects.toSatisfy((e) => isTileError(e, 'UNAUTHORIZED'));
    await expect(serve(acc, '/api/tiles/ds/3/1/1.jpg?v=2')).rejects.toSatisfy((e) =>
      isTileError(e, 'UNAUTHORIZED'),
    );
    // Asked again: the companion is asked again (nothing remembered).
    await expect(serve(acc, T)).rejects.toSatisfy((e) => isTileError(e, 'UNAUTHORIZED'));
    expect(c.batches).toHaveLength(2);
    expect(c.singles).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 60));
    expect(cache.bodies.size).toBe(0);
    expect(acc.store.memoryGet(`${ORIGIN}${T}`)).toBeUndefined();
  });
});

describe('TileAccelerator with a cache index that never opens', () => {
  it('answers a tile whose body is in Cache Storage from the network instead of waiting', async () => {
    const c = companion('open');
    const stuck = new Promise<CacheIndex>(() => {});
    const { acc, cache } = make(c.fetch, {}, { openIndex: () => stuck });
    made.pop(); // its index never opens: nothing to close
    await cache.put(`${ORIGIN}${T}`, new Response('old body', { headers: { 'Content-Type': 'image/jpeg' } }));
    const r = await serve(acc, T);
    expect(r.headers.get('X-Tile-Source')).toBe('batch');
    expect(c.batches).toHaveLength(1);
    // In memory for the next request; the write behind it gives up on the index after its own bound.
    await vi.waitFor(() => expect(acc.store.memoryGet(`${ORIGIN}${T}`)).toBeDefined(), { timeout: 10_000 });
  });
});
