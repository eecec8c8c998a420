import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type MockOrigin, startMockOrigin } from '../../e2e/mockOrigin/MockOrigin.js';
import { type RedisServer, startRedisServer } from '../../test/support/server/redisServer.js';
import { type Instance, type Instances, startInstances } from '../../test/support/server/startInstances.js';
import { until } from '../../test/support/server/until.js';

// REDIS_LOCK_WAIT_MS: one origin fetch for a cold tile however many instances miss it at once.

const ORIGIN_MS = 100;
// The winner's origin fetch (100 ms) and Redis write must land inside the
// losers' wait even on a loaded 2-core machine (800 ms was missed at load 30).
const LOCK_WAIT_MS = 3_000;
const tile = randomBytes(3000);

let redis: RedisServer | undefined;
let origin: MockOrigin | undefined;
let instances: Instances | undefined;

afterEach(async () => {
  await instances?.close();
  await origin?.close();
  await redis?.stop();
  instances = origin = redis = undefined;
});

async function setup(lockWaitMs: number): Promise<Instance[]> {
  redis = await startRedisServer();
  origin = await startMockOrigin({ files: { 'ds/2/1/1.jpg': tile }, latencyMs: ORIGIN_MS });
  instances = await startInstances(3, {
    originUrl: origin.url,
    redisUrl: redis.url,
    config: { redisLockWaitMs: lockWaitMs, redisTimeoutMs: 1_000 },
  });
  const list = instances.list;
  await until(() => list.every((i) => i.shared?.stats().connected));
  return list;
}

/** Three requests through each instance at the same moment. */
async function herd(list: Instance[], key: string) {
  const t0 = Date.now();
  return await Promise.all(
    list.flatMap((i) =>
      [0, 1, 2].map(async () => {
        const r = await fetch(`${i.url}/api/tiles/${key}`);
        const body = Buffer.from(await r.arrayBuffer());
        return { status: r.status, source: r.headers.get('x-tile-source'), body, ms: Date.now() - t0 };
      }),
    ),
  );
}

describe('cold-tile lock across instances', () => {
  it('without it, each instance fetches a cold tile once (coalesced inside the instance only)', async () => {
    const list = await setup(0);
    const rs = await herd(list, 'ds/2/1/1.jpg');
    expect(rs.every((r) => r.status === 200 && r.body.equals(tile))).toBe(true);
    expect(origin!.count('ds/2/1/1.jpg')).toBe(3);
  });

  it('with it, the instances that lose the lock wait for the winner and make no origin request', async () => {
    const list = await setup(LOCK_WAIT_MS);
    const rs = await herd(list, 'ds/2/1/1.jpg');
    expect(rs.every((r) => r.status === 200 && r.body.equals(tile))).toBe(true);
    expect(origin!.count('ds/2/1/1.jpg')).toBe(1);
    // At least the six requests of the two losing instances; the winner's own later requests may be too.
    expect(rs.filter((r) => r.source === 'shared-cache').length).toBeGreaterThanOrEqual(6);
    // The losers got the tile when it landed, not at the end of the wait (slack for a loaded machine).
    expect(Math.max(...rs.map((r) => r.ms))).toBeLessThan(ORIGIN_MS + LOCK_WAIT_MS + 200);
    const waits = list.reduce((a, i) => a + i.shared!.stats().lockWaitHits, 0);
    expect(waits).toBeGreaterThanOrEqual(2);
  });

  it('bounds the wait when the winner finds nothing (404): the others ask the origin after REDIS_LOCK_WAIT_MS', async () => {
    const list = await setup(LOCK_WAIT_MS);
    const rs = await herd(list, 'ds/2/0/0.jpg');
    expect(rs.every((r) => r.status === 404)).toBe(true);
    // jpg, png, webp from the winner, then again from each loser once its wait ran out.
    expect(origin!.count()).toBeGreaterThanOrEqual(9);
    // Worst case: the whole wait, then three origin round trips (x2 slack for a loaded machine).
    expect(Math.max(...rs.map((r) => r.ms))).toBeLessThan(2 * (LOCK_WAIT_MS + 3 * ORIGIN_MS));
  });
});
