import type { MockOrigin } from '../../e2e/mockOrigin/MockOrigin.js';
import { startInstances } from '../../test/support/server/startInstances.js';

export interface TuningRow {
  concurrency: number;
  connections: number;
  tilesPerSec: number;
  p95Ms: number;
  /** Sockets the instance held open to the origin at the end of the run (measured at the mock). */
  originSockets: number;
}

/**
 * Cold-tile throughput of one instance for a few ORIGIN_CONCURRENCY /
 * ORIGIN_CONNECTIONS pairs: `clients` requests in flight for distinct tiles,
 * origin at a fixed latency. Shows what the two knobs buy (docs/deployment.md).
 */
export async function measureOriginTuning(
  origin: MockOrigin,
  keys: string[],
  pairs: Array<[concurrency: number, connections: number]>,
  clients: number,
): Promise<TuningRow[]> {
  const rows: TuningRow[] = [];
  for (const [concurrency, connections] of pairs) {
    const inst = await startInstances(1, {
      originUrl: origin.url,
      config: { originConcurrency: concurrency, originConnections: connections },
    });
    try {
      const base = inst.list[0]!.url;
      const ms: number[] = [];
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (next < keys.length) {
            const key = keys[next++]!;
            const s = performance.now();
            const r = await fetch(`${base}/api/tiles/${key}`, { signal: AbortSignal.timeout(30_000) });
            await r.arrayBuffer();
            if (r.status !== 200) throw new Error(`${key}: HTTP ${r.status}`);
            ms.push(performance.now() - s);
          }
        }),
      );
      const secs = (performance.now() - t0) / 1000;
      const originSockets = origin.connections();
      ms.sort((a, b) => a - b);
      rows.push({
        concurrency,
        connections,
        tilesPerSec: keys.length / secs,
        p95Ms: ms[Math.floor(ms.length * 0.95)] ?? Number.NaN,
        originSockets,
      });
    } finally {
      await inst.close();
    }
  }
  return rows;
}
