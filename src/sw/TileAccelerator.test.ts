import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryBodyCache } from '../../test/support/sw/MemoryBodyCache.js';
import {
  BATCH_MEDIA_TYPE,
  type BatchFrame,
  encodeBatchHeader,
  encodeFrame,
} from '../protocol/batchFraming.js';
import { resolveOptions, type TileAcceleratorOptions } from './options.js';
import { TileAccelerator } from './TileAccelerator.js';
import type { TileRoute } from './TileRouter.js';

const ORIGIN = 'https://app.test';
let n = 0;

/** A fake companion: binary batches and single tiles, a settable generation, request log. */
function companion() {
  const state = { generation: '1', batches: [] as string[][], singles: [] as string[] };
  const body = (key: string) => new TextEncoder().encode(`tile ${key}`);
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    if (url.endsWith('/batch')) {
      const keys = (JSON.parse(String(init?.body)) as { tiles: string[] }).tiles;
      state.batches.push(keys);
      const chunks: Uint8Array[] = [encodeBatchHeader()];
      for (const k of keys) {
        const f: BatchFrame = k.startsWith('9/')
          ? { kind: 'missing', key: k }
          : { kind: 'tile', key: k, meta: { contentType: 'image/jpeg', etag: `"${k}"` }, body: body(k) };
        chunks.push(...encodeFrame(f));
      }
      chunks.push(
        ...encodeFrame({
          kind: 'end',
          trailer: { count: keys.length, generation: Number(state.generation) },
        }),
      );
      return new Response(new Blob(chunks as Uint8Array<ArrayBuffer>[]).stream(), {
        headers: { 'Content-Type': BATCH_MEDIA_TYPE, 'X-Tile-Generation': state.generation },
      });
    }
    state.singles.push(url);
    return new Response(body(url), { headers: { 'Content-Type': 'image/jpeg' } });
  }) as typeof globalThis.fetch;
  return { state, fetch };
}

const made: TileAccelerator[] = [];
afterEach(async () => {
  await new Promise((r) => setTimeout(r, 80));
  for (const a of made.splice(0)) (await a.store.indexReady()).close();
});

function make(fetch: typeof globalThis.fetch, o: TileAcceleratorOptions = {}) {
  const acc = new TileAccelerator(
    resolveOptions(
      { cache: { name: `acc-${n++}`, budgetBytes: 1e6 }, prefetch: { enabled: false }, ...o },
      ORIGIN,
    ),
    { workerOrigin: ORIGIN, fetch, openCache: async () => new MemoryBodyCache() },
  );
  made.push(acc);
  return acc;
}

const route = (acc: TileAccelerator, path: string) =>
  acc.router.route({ url: `${ORIGIN}${path}`, method: 'GET' }) as TileRoute;
const serve = (acc: TileAccelerator, path: string, signal = new AbortController().signal) =>
  acc.handleTile(route(acc, path), signal, () => {});

describe('TileAccelerator', () => {
  it('answers identical requests from many clients with one batched fetch', async () => {
    const c = companion();
    const acc = make(c.fetch);
    const rs = await Promise.all(Array.from({ length: 10 }, () => serve(acc, '/api/tiles/ds/3/1/1.jpg')));
    for (const r of rs) {
      expect(r.status).toBe(200);
      expect(r.headers.get('X-Tile-Source')).toBe('batch');
      expect(await r.text()).toBe('tile 3/1/1.jpg');
    }
    expect(c.state.batches).toEqual([['3/1/1.jpg']]);
    const s = await acc.stats();
    expect(s.coalesced).toBe(9);
    expect(s.cache_misses).toBe(1);
  });

  it('serves a repeat from memory and a MISSING frame as 404', async () => {
    const c = companion();
    const acc = make(c.fetch);
    await serve(acc, '/api/tiles/ds/3/1/1.jpg');
    const again = await serve(acc, '/api/tiles/ds/3/1/1.jpg');
    expect(again.headers.get('X-Tile-Source')).toBe('sw-memory');
    expect(again.headers.get('Cache-Control')).toContain('max-age');
    const missing = await serve(acc, '/api/tiles/ds/9/1/1.jpg');
    expect(missing.status).toBe(404);
    expect(c.state.batches).toHaveLength(2);
  });

  it('drops a dataset when the server reports a new generation', async () => {
    const c = companion();
    const acc = make(c.fetch);
    await serve(acc, '/api/tiles/ds/3/1/1.jpg');
    await vi.waitFor(async () => expect((await acc.stats()).cache_size).toBe(1), { timeout: 10_000 });
    c.state.generation = '2';
    await serve(acc, '/api/tiles/ds/3/2/2.jpg');
    await vi.waitFor(async () => expect((await acc.stats()).cache_size).toBe(1), { timeout: 10_000 });
    const again = await serve(acc, '/api/tiles/ds/3/1/1.jpg');
    expect(again.headers.get('X-Tile-Source')).toBe('batch');
    expect(c.state.batches).toHaveLength(3);
  });

  it('prefetches the ring while idle and counts a prefetched tile that gets used', async () => {
    const c = companion();
    const acc = make(c.fetch, { prefetch: { enabled: true, ring: 1, parent: true } });
    await serve(acc, '/api/tiles/ds/3/4/4.jpg');
    await vi.waitFor(async () => expect((await acc.stats()).prefetched).toBe(9), { timeout: 10_000 });
    const batchesBefore = c.state.batches.length;
    const r = await serve(acc, '/api/tiles/ds/3/5/4.jpg');
    expect(['sw-memory', 'sw-cache']).toContain(r.headers.get('X-Tile-Source'));
    expect(await r.text()).toBe('tile 3/5/4.jpg');
    const s = await acc.stats();
    expect(s.prefetch_used).toBe(1);
    // Serving 3/5/4 queued its own new neighbours; none of them was the tile itself.
    expect(c.state.batches.slice(batchesBefore).flat()).not.toContain('3/5/4.jpg');
  });

  it('page-initiated prefetch of a viewport fetches what is not cached', async () => {
    const c = companion();
    const acc = make(c.fetch, { prefetch: { enabled: true } });
    const r = acc.prefetchViewport({ dataset: 'ds', z: 2, x0: 0, y0: 0, x1: 1, y1: 1, ext: 'png' });
    expect(r).toEqual({ accepted: 4, rejected: 0 });
    await vi.waitFor(async () => expect((await acc.stats()).prefetched).toBe(4), { timeout: 10_000 });
    expect(acc.prefetch(['not a url', { dataset: 'ds', key: 'bad' }])).toEqual({ accepted: 0, rejected: 2 });
  });
});
