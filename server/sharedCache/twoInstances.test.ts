import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type MockOrigin, startMockOrigin } from '../../e2e/mockOrigin/MockOrigin.js';
import { type RedisServer, startRedisServer } from '../../test/support/server/redisServer.js';
import { type Instance, type Instances, startInstances } from '../../test/support/server/startInstances.js';
import { until } from '../../test/support/server/until.js';
import type { ServerConfig } from '../config.js';

// Two companion servers share one Redis in front of one mocked origin.

let redis: RedisServer | undefined;
let origin: MockOrigin | undefined;
let instances: Instances | undefined;

afterEach(async () => {
  await instances?.close();
  await origin?.close();
  await redis?.stop();
  instances = origin = redis = undefined;
});

const files: Record<string, Uint8Array> = {};
for (let x = 0; x < 8; x++)
  for (let y = 0; y < 8; y++) files[`ds/3/${x}/${y}.jpg`] = randomBytes(2000 + x * 100 + y);

async function setup(config: Partial<ServerConfig> = {}, latencyMs = 5): Promise<[Instance, Instance]> {
  redis = await startRedisServer();
  origin = await startMockOrigin({ files, latencyMs });
  // A relaxed Redis deadline: these tests are about sharing, and CPU is shared with other jobs.
  instances = await startInstances(2, {
    originUrl: origin.url,
    redisUrl: redis.url,
    config: { redisTimeoutMs: 1_000, ...config },
  });
  const [a, b] = instances.list as [Instance, Instance];
  await until(() => a.shared!.stats().connected && b.shared!.stats().connected);
  return [a, b];
}

async function getTile(
  i: Instance,
  key: string,
): Promise<{ status: number; source: string | null; body: Buffer }> {
  const r = await fetch(`${i.url}/api/tiles/${key}`);
  return {
    status: r.status,
    source: r.headers.get('x-tile-source'),
    body: Buffer.from(await r.arrayBuffer()),
  };
}

describe('two instances sharing one Redis', () => {
  it('serves a tile fetched through one instance from the other with no origin request', async () => {
    const [a, b] = await setup();
    const first = await getTile(a, 'ds/3/1/2.jpg');
    expect(first).toMatchObject({ status: 200, source: 'origin' });
    await until(() => a.shared!.stats().writes === 1); // the write is fire-and-forget
    const second = await getTile(b, 'ds/3/1/2.jpg');
    expect(second).toMatchObject({ status: 200, source: 'shared-cache' });
    expect(second.body.equals(Buffer.from(files['ds/3/1/2.jpg']!))).toBe(true);
    expect(origin!.count('ds/3/1/2.jpg')).toBe(1);
    // Now in b's memory.
    expect((await getTile(b, 'ds/3/1/2.jpg')).source).toBe('memory-cache');
    expect(origin!.count()).toBe(1);
    const stats = (await (await fetch(`${b.url}/api/tiles/ds/cache-stats`)).json()) as {
      stats: { shared_cache_hits: number; shared_cache: Record<string, unknown> };
    };
    expect(stats.stats.shared_cache_hits).toBe(1);
    expect(stats.stats.shared_cache).toMatchObject({
      name: 'redis',
      hits: 1,
      breaker: 'closed',
      connected: true,
    });
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toMatch(/^tile_shared_cache_events_total\{event="hits"\} 1$/m);
    expect(metrics).toMatch(/^tile_shared_cache_up 1$/m);
  });

  it('answers every tile request while Redis is killed mid-run, and shares again once it is back', async () => {
    const [a, b] = await setup({}, 20);
    const keys = Object.keys(files);
    const slowest: number[] = [];
    let failures = 0;
    let done = 0;
    let sharedHits = 0;
    const worker = async (w: number) => {
      // Each key once through each instance: a then b, or b then a.
      for (let i = w; i < keys.length * 2; i += 8) {
        const key = keys[i % keys.length]!;
        const t0 = Date.now();
        const r = await getTile((i + Math.floor(i / keys.length)) % 2 === 0 ? a : b, key);
        slowest.push(Date.now() - t0);
        if (r.status !== 200 || !r.body.equals(Buffer.from(files[key]!))) failures++;
        if (r.source === 'shared-cache') sharedHits++;
        if (++done === 90) void redis!.kill(); // in the middle of the second pass
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
    expect(failures).toBe(0);
    expect(done).toBe(keys.length * 2);
    // Origin latency is 20 ms and the Redis deadline 100 ms: no request waited on
    // the dead Redis for long. Loose on purpose (a loaded machine took 1.5 s):
    // without the deadline a request waits out ioredis' reconnects, far longer.
    expect(Math.max(...slowest)).toBeLessThan(5_000);
    expect(a.shared!.stats().connected).toBe(false);
    expect(await (await fetch(`${a.url}/metrics`)).text()).toMatch(/^tile_shared_cache_up 0$/m);
    expect(sharedHits).toBeGreaterThan(0); // Redis served part of the second pass before it died
    expect(origin!.count()).toBe(keys.length * 2 - sharedHits);

    await redis!.restart();
    await until(() => a.shared!.stats().connected && b.shared!.stats().connected);
    origin!.set({ files: { ...files, 'ds/4/0/0.jpg': files['ds/3/0/0.jpg']! } });
    expect((await getTile(a, 'ds/4/0/0.jpg')).source).toBe('origin');
    await until(() => a.shared!.stats().writes > 0);
    const shared = await getTile(b, 'ds/4/0/0.jpg');
    expect(shared).toMatchObject({ status: 200, source: 'shared-cache' });
    expect(origin!.count('ds/4/0/0.jpg')).toBe(1);
  });

  it('sees a cache-clear made on the other instance: no stale shared or memory entry', async () => {
    const [a, b] = await setup();
    for (const key of ['ds/3/0/0.jpg', 'ds/3/0/1.jpg']) {
      await getTile(a, key);
      await until(() => a.shared!.stats().writes >= 1);
    }
    await until(() => a.shared!.stats().writes === 2);
    expect((await getTile(b, 'ds/3/0/0.jpg')).source).toBe('shared-cache'); // now also in b's memory
    const fresh = { 'ds/3/0/0.jpg': randomBytes(1500), 'ds/3/0/1.jpg': randomBytes(1600) };
    origin!.set({ files: { ...files, ...fresh } });

    const clear = await fetch(`${a.url}/api/tiles/ds/cache-clear`, {
      method: 'POST',
      headers: { authorization: 'Bearer owner-secret' },
    });
    expect(clear.status).toBe(200);
    await clear.arrayBuffer();
    // Shared entry: invisible at once (generation bumped in Redis), no waiting needed.
    const notInMemory = await getTile(b, 'ds/3/0/1.jpg');
    expect(notInMemory).toMatchObject({ status: 200, source: 'origin' });
    expect(notInMemory.body.equals(fresh['ds/3/0/1.jpg'])).toBe(true);
    // Memory entry of b: dropped when the clear messages arrive (pub/sub): a
    // clear of ds publishes two, ds and its Deep Zoom view ds_files (845d7ac).
    await until(() => b.shared!.stats().remoteClears === 2);
    const wasInMemory = await getTile(b, 'ds/3/0/0.jpg');
    expect(wasInMemory.source).toBe('origin');
    expect(wasInMemory.body.equals(fresh['ds/3/0/0.jpg'])).toBe(true);
  });

  it('does not share tiles over the size cap', async () => {
    const [a, b] = await setup({ redisMaxEntryBytes: 2100 });
    await getTile(a, 'ds/3/0/0.jpg'); // 2000 bytes
    await getTile(a, 'ds/3/2/0.jpg'); // 2200 bytes
    await until(() => a.shared!.stats().writes === 1);
    expect(a.shared!.stats().oversize).toBe(1);
    expect((await getTile(b, 'ds/3/0/0.jpg')).source).toBe('shared-cache');
    expect((await getTile(b, 'ds/3/2/0.jpg')).source).toBe('origin');
    expect(origin!.count('ds/3/2/0.jpg')).toBe(2);
  });

  it('lets shared entries expire after REDIS_TTL_MS', async () => {
    const [a, b] = await setup({ redisTtlMs: 150 });
    await getTile(a, 'ds/3/5/5.jpg');
    await until(() => a.shared!.stats().writes === 1);
    await sleep(300);
    expect((await getTile(b, 'ds/3/5/5.jpg')).source).toBe('origin');
    expect(origin!.count('ds/3/5/5.jpg')).toBe(2);
  });
});
