import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryBodyCache } from '../../test/support/sw/MemoryBodyCache.js';
import { CacheIndex } from './CacheIndex.js';
import { parseContentRange } from './rangeSlicer.js';
import { SwCounters } from './SwCounters.js';
import { TileStore } from './TileStore.js';
import { VideoChunks } from './VideoChunks.js';

const FILE = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7 + 3) & 255);
const URL_ = 'https://app.test/api/video/clip.mp4';

let n = 0;
const indexes: CacheIndex[] = [];
afterEach(async () => {
  // Read-ahead and write-behind finish in the background; let them land first.
  await new Promise((r) => setTimeout(r, 50));
  for (const i of indexes.splice(0)) i.close();
});

/** A ranged origin over FILE that records every Range it was asked and every abort. */
function rangedFetch(opts: { hang?: boolean } = {}) {
  const ranges: string[] = [];
  const aborted: string[] = [];
  const fetch = (async (_input: RequestInfo | URL, init?: RequestInit) => {
    const range = new Headers(init?.headers).get('Range') ?? '';
    ranges.push(range);
    const m = /bytes=(\d+)-(\d+)/.exec(range)!;
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), FILE.length - 1);
    if (opts.hang) {
      return new Promise<Response>((_, reject) =>
        init?.signal?.addEventListener('abort', () => {
          aborted.push(range);
          reject(new DOMException('aborted', 'AbortError'));
        }),
      );
    }
    if (start >= FILE.length) {
      return new Response(null, { status: 416, headers: { 'Content-Range': `bytes */${FILE.length}` } });
    }
    return new Response(FILE.slice(start, end + 1), {
      status: 206,
      headers: {
        'Content-Range': `bytes ${start}-${end}/${FILE.length}`,
        'Content-Type': 'video/mp4',
        ETag: '"v1"',
      },
    });
  }) as typeof globalThis.fetch;
  return { fetch, ranges, aborted };
}

function setup(f: ReturnType<typeof rangedFetch>, opts: { index?: Promise<CacheIndex> } = {}) {
  const counters = new SwCounters();
  const index =
    opts.index ??
    CacheIndex.open(`video-${n++}`).then((i) => {
      indexes.push(i);
      return i;
    });
  const store = new TileStore({
    openCache: async () => new MemoryBodyCache(),
    index,
    memoryBytes: 0,
    budget: async () => 1e9,
    counters,
    writeDelayMs: 1,
    writeGroup: 100,
  });
  const video = new VideoChunks({
    fetch: f.fetch,
    store: store.video,
    counters,
    chunkBytes: 1024,
    prefetchAhead: 1,
    timeoutMs: 5000,
  });
  return { video, counters, store };
}

const get = (range?: string, signal?: AbortSignal) =>
  new Request(URL_, { headers: range ? { Range: range } : {}, ...(signal ? { signal } : {}) });

describe('VideoChunks', () => {
  it('answers a range with an exact 206 from aligned ranged fetches', async () => {
    const f = rangedFetch();
    const { video } = setup(f);
    const res = await video.serve(get('bytes=1000-3100'), URL_);
    expect(res.status).toBe(206);
    expect(res.headers.get('Content-Range')).toBe(`bytes 1000-3100/${FILE.length}`);
    expect(res.headers.get('Content-Length')).toBe('2101');
    expect(res.headers.get('Accept-Ranges')).toBe('bytes');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(FILE.slice(1000, 3101));
    // Chunk-aligned requests only.
    for (const r of f.ranges) {
      const m = /bytes=(\d+)-(\d+)/.exec(r)!;
      expect(Number(m[1]) % 1024).toBe(0);
    }
  });

  it('serves a seek into fetched parts without the network', async () => {
    const f = rangedFetch();
    const { video, counters } = setup(f);
    const kept: Promise<unknown>[] = [];
    await (await video.serve(get('bytes=0-4095'), URL_, (p) => kept.push(p))).arrayBuffer();
    // Read-ahead and writes run behind the response: wait until no chunk load
    // is left and every write landed (a fixed 20 ms sleep was missed under load).
    const loads = (video as unknown as { coalescer: { size: number } }).coalescer;
    await vi.waitFor(() => expect(loads.size, 'chunk loads still running').toBe(0), { timeout: 10_000 });
    await Promise.all(kept);
    const before = f.ranges.length;
    const res = await video.serve(get('bytes=1500-2500'), URL_);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(FILE.slice(1500, 2501));
    expect(f.ranges.length).toBe(before);
    expect(counters.snapshot().video_chunk_hits).toBeGreaterThan(0);
  });

  it('answers 416 past the end and a suffix range exactly', async () => {
    const f = rangedFetch();
    const { video } = setup(f);
    const tail = await video.serve(get('bytes=-100'), URL_);
    expect(parseContentRange(tail.headers.get('Content-Range'))).toEqual({
      start: 9900,
      end: 9999,
      total: 10_000,
    });
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(FILE.slice(9900));
    const past = await video.serve(get('bytes=20000-'), URL_);
    expect(past.status).toBe(416);
    expect(past.headers.get('Content-Range')).toBe('bytes */10000');
  });

  it('streams the whole file without Range as a 200', async () => {
    const { video } = setup(rangedFetch());
    const res = await video.serve(get(), URL_);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(FILE);
  });

  it('an aborted request stops its upstream fetch', async () => {
    const f = rangedFetch({ hang: true });
    const { video } = setup(f);
    const ac = new AbortController();
    const p = video.serve(get('bytes=0-100', ac.signal), URL_);
    await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await expect(p).rejects.toBeDefined();
    expect(f.aborted).toEqual(['bytes=0-1023']);
  });

  it('gives the bytes without waiting for the store: writes go to waitUntil', async () => {
    const f = rangedFetch();
    const { video, store } = setup(f);
    const puts: string[] = [];
    // A store whose writes never finish (a write group held back by visible tiles, a stuck disk).
    store.video.putChunk = (url) => {
      puts.push(url);
      return new Promise<void>(() => {});
    };
    const kept: Promise<unknown>[] = [];
    const res = await video.serve(get('bytes=0-3000'), URL_, (p) => kept.push(p));
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(FILE.slice(0, 3001));
    // Every chunk fetched was handed to the store, and each write to waitUntil.
    expect(puts.length).toBeGreaterThanOrEqual(3);
    expect(kept.length).toBeGreaterThanOrEqual(puts.length);
  });

  it('serves a range when the cache index never opens', async () => {
    const f = rangedFetch();
    const { video } = setup(f, { index: new Promise<CacheIndex>(() => {}) });
    const res = await video.serve(get('bytes=100-2000'), URL_);
    expect(res.status).toBe(206);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(FILE.slice(100, 2001));
  });
});
