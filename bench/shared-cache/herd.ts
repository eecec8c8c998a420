import type { MockOrigin } from '../../e2e/mockOrigin/MockOrigin.js';
import { startInstances } from '../../test/support/server/startInstances.js';

export interface HerdRow {
  lockWaitMs: number;
  originGets: number;
  p50Ms: number;
  p95Ms: number;
}

/**
 * The worst case for N instances: every cold tile asked through both
 * instances at the same moment (`pairs` tiles in flight). Counts origin GETs
 * with and without the cold-tile lock (REDIS_LOCK_WAIT_MS).
 */
export async function measureHerd(
  origin: MockOrigin,
  redisUrl: string,
  keys: string[],
  lockWaitMs: number,
  pairs: number,
): Promise<HerdRow> {
  const inst = await startInstances(2, {
    originUrl: origin.url,
    redisUrl,
    config: { redisLockWaitMs: lockWaitMs },
  });
  try {
    const end = Date.now() + 5_000;
    while (!inst.list.every((i) => i.shared?.stats().connected) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 10));
    }
    // A fresh dataset generation so that earlier runs' entries do not count as hits.
    const clear = await fetch(`${inst.list[0]!.url}/api/tiles/bench/cache-clear`, {
      method: 'POST',
      headers: { authorization: 'Bearer owner-secret' },
    });
    await clear.arrayBuffer();
    origin.resetCounts();
    const ms: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: pairs }, async () => {
        while (next < keys.length) {
          const key = keys[next++]!;
          await Promise.all(
            inst.list.map(async (i) => {
              const t0 = performance.now();
              const r = await fetch(`${i.url}/api/tiles/${key}`, { signal: AbortSignal.timeout(10_000) });
              await r.arrayBuffer();
              if (r.status !== 200) throw new Error(`${key}: HTTP ${r.status}`);
              ms.push(performance.now() - t0);
            }),
          );
        }
      }),
    );
    ms.sort((a, b) => a - b);
    return {
      lockWaitMs,
      originGets: origin.count(),
      p50Ms: ms[Math.floor(ms.length / 2)] ?? Number.NaN,
      p95Ms: ms[Math.floor(ms.length * 0.95)] ?? Number.NaN,
    };
  } finally {
    await inst.close();
  }
}
