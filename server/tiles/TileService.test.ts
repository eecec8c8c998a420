import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { asJson } from '../../e2e/harness/asJson.js';
import { type Stack, type StackOptions, startStack } from '../../e2e/harness/startStack.js';
import type { SharedCache, SharedTile } from './SharedCache.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function start(opts: StackOptions): Promise<Stack> {
  stack = await startStack(opts);
  return stack;
}

const jpg = randomBytes(4000);

/** A deterministic stand-in codec: the "DDS" is a digest of its input, so the test can check what was converted. */
function countingCodec() {
  const calls: number[] = [];
  const toDDS = async (raster: Uint8Array, signal: AbortSignal) => {
    calls.push(raster.length);
    await sleep(100, undefined, { signal });
    return new Uint8Array(createHash('sha256').update(raster).digest());
  };
  return { calls, toDDS };
}

/** A Map-backed SharedCache: what a Redis implementation must look like from the server's side. */
class MapSharedCache implements SharedCache {
  readonly name = 'map';
  readonly store = new Map<string, SharedTile>();
  cleared: string[] = [];
  async get(dataset: string, key: string, generation: number) {
    return this.store.get(`${dataset}:${generation}:${key}`);
  }
  async set(dataset: string, key: string, generation: number, tile: SharedTile) {
    this.store.set(`${dataset}:${generation}:${key}`, tile);
  }
  async clearDataset(dataset: string) {
    this.cleared.push(dataset);
    for (const k of [...this.store.keys()]) if (k.startsWith(`${dataset}:`)) this.store.delete(k);
  }
  async close() {}
}

describe('.dds tiles', () => {
  it('converts the raster once for concurrent clients and caches the result under the .dds key', async () => {
    const codec = countingCodec();
    const s = await start({ origin: { files: { 'sample/1/1/0.jpg': jpg } }, deps: { toDDS: codec.toDDS } });
    const url = `${s.serverUrl}/api/tiles/sample/1/1/0.dds`;
    const rs = await Promise.all([fetch(url), fetch(url), fetch(url)]);
    const want = createHash('sha256').update(jpg).digest();
    for (const r of rs) {
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('image/vnd-ms.dds');
      expect(Buffer.from(await r.arrayBuffer()).equals(want)).toBe(true);
    }
    expect(codec.calls).toEqual([jpg.length]);
    const again = await fetch(url);
    expect(again.headers.get('x-tile-source')).toBe('memory-cache');
    await again.arrayBuffer();
    // The raster was cached too: the .jpg is a memory hit, and the origin saw one GET.
    const raster = await fetch(`${s.serverUrl}/api/tiles/sample/1/1/0.jpg`);
    expect(raster.headers.get('x-tile-source')).toBe('memory-cache');
    expect(Buffer.from(await raster.arrayBuffer()).equals(jpg)).toBe(true);
    expect(s.origin.count('sample/1/1/0.jpg')).toBe(1);
    expect(s.origin.count('sample/1/1/0.dds')).toBe(0);
  });

  it('404s a .dds whose raster is missing, without running the codec', async () => {
    const codec = countingCodec();
    const s = await start({ origin: { files: {} }, deps: { toDDS: codec.toDDS } });
    const r = await fetch(`${s.serverUrl}/api/tiles/sample/1/1/0.dds`);
    expect(r.status).toBe(404);
    expect(codec.calls).toEqual([]);
  });
});

describe('shared cache hook', () => {
  it('serves a tile another instance stored with X-Tile-Source: shared-cache and no origin request', async () => {
    const shared = new MapSharedCache();
    const s = await start({ origin: { files: { 'sample/0/0/0.jpg': jpg } }, deps: { sharedCache: shared } });
    const first = await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.jpg`);
    await first.arrayBuffer();
    expect(first.headers.get('x-tile-source')).toBe('origin');
    await sleep(10); // the shared write is fire-and-forget
    expect(shared.store.size).toBe(1);
    // A second server (empty memory) in front of the same origin and shared cache.
    const { createTileServer } = await import('../createTileServer.js');
    const { buildEngine } = await import('../buildEngine.js');
    const { pino } = await import('pino');
    const other = createTileServer(s.config, {
      engine: buildEngine(s.config),
      sharedCache: shared,
      logger: pino({ level: 'silent' }),
    });
    try {
      const { url } = await other.listen();
      const r = await fetch(`${url}/api/tiles/sample/0/0/0.jpg`);
      expect(r.headers.get('x-tile-source')).toBe('shared-cache');
      expect(Buffer.from(await r.arrayBuffer()).equals(jpg)).toBe(true);
      expect(s.origin.count()).toBe(1);
      const stats = (await (await fetch(`${url}/api/tiles/sample/cache-stats`)).json().then(asJson)).stats;
      expect(stats.shared_cache_hits).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('cache-clear clears the shared layer and its generation hides older entries', async () => {
    const shared = new MapSharedCache();
    const s = await start({
      origin: { files: { 'sample/0/0/0.jpg': jpg } },
      config: { ownerToken: 'o' },
      deps: { sharedCache: shared },
    });
    await (await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.jpg`)).arrayBuffer();
    const r = await fetch(`${s.serverUrl}/api/tiles/sample/cache-clear`, {
      method: 'POST',
      headers: { authorization: 'Bearer o' },
    });
    expect(r.status).toBe(200);
    // and its Deep Zoom view `sample_files` (the same tiles under /api/tiles/sample_files/...)
    expect(shared.cleared).toEqual(['sample', 'sample_files']);
    const again = await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.jpg`);
    await again.arrayBuffer();
    expect(again.headers.get('x-tile-source')).toBe('origin');
    expect(s.origin.count()).toBe(2);
  });

  it('a shared cache that never answers costs its short deadline, then the origin answers', async () => {
    const stuck: SharedCache = {
      name: 'stuck',
      get: () => new Promise(() => {}),
      set: async () => {},
      clearDataset: async () => {},
      close: async () => {},
    };
    const s = await start({ origin: { files: { 'sample/0/0/0.jpg': jpg } }, deps: { sharedCache: stuck } });
    const t0 = Date.now();
    const r = await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.jpg`);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-tile-source')).toBe('origin');
    expect(Buffer.from(await r.arrayBuffer()).equals(jpg)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});
