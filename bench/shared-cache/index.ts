import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type MockOrigin, startMockOrigin } from '../../e2e/mockOrigin/MockOrigin.js';
import { type RedisServer, startRedisServer } from '../../test/support/server/redisServer.js';
import { type Instance, type Instances, startInstances } from '../../test/support/server/startInstances.js';
import type { BenchContext, BenchSection } from '../types.js';
import { measureHerd } from './herd.js';
import { measureOriginTuning } from './originTuning.js';

// One instance vs two instances (round-robin, no stickiness) without and with
// the shared Redis cache: origin requests for a cold then a warm pass over the
// same tile set, and per-tile latency of a memory hit, a shared-cache hit and
// an origin fetch (mocked origin at 40 ms). Everything on 127.0.0.1, bounded.

const ORIGIN_LATENCY_MS = 40;
const TILE_BYTES = 15_000; // a typical 256 px JPEG tile
const COLD_CONCURRENCY = 8;

interface Pass {
  ms: number[];
  sources: Record<string, number>;
}

async function runPass(urls: string[], concurrency: number): Promise<Pass> {
  const ms: number[] = [];
  const sources: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < urls.length) {
      const url = urls[next++]!;
      const t0 = performance.now();
      const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      await r.arrayBuffer();
      ms.push(performance.now() - t0);
      if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}`);
      const s = r.headers.get('x-tile-source') ?? '?';
      sources[s] = (sources[s] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ms, sources };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

interface Setup {
  name: string;
  instances: number;
  redis: boolean;
}

interface SetupResult {
  setup: Setup;
  coldOrigin: number;
  warmOrigin: number;
  cold: Pass;
  warm: Pass;
  /** Only for the Redis setup: the other instance's first (shared) and second (memory) sequential reads. */
  sharedHit?: Pass;
  memoryHit?: Pass;
}

async function waitWrites(list: Instance[], n: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  const writes = () => list.reduce((a, i) => a + (i.shared?.stats().writes ?? 0), 0);
  while (writes() < n && Date.now() < end) await sleep(10);
}

async function runSetup(
  setup: Setup,
  keys: string[],
  origin: MockOrigin,
  redisUrl: string | undefined,
): Promise<SetupResult> {
  let inst: Instances | undefined;
  try {
    inst = await startInstances(setup.instances, {
      originUrl: origin.url,
      redisUrl: setup.redis ? redisUrl : undefined,
    });
    const list = inst.list;
    if (setup.redis) {
      const end = Date.now() + 5_000;
      while (!list.every((i) => i.shared?.stats().connected) && Date.now() < end) await sleep(10);
    }
    // Round-robin without stickiness: the cold pass sends tile k to instance k % n,
    // the warm pass the same tile to the next instance (with one instance, the same one).
    const url = (k: number, shift: number) => `${list[(k + shift) % list.length]!.url}/api/tiles/${keys[k]!}`;
    origin.resetCounts();
    const cold = await runPass(
      keys.map((_, k) => url(k, 0)),
      COLD_CONCURRENCY,
    );
    const coldOrigin = origin.count();
    await waitWrites(list, setup.redis ? keys.length : 0, 5_000);
    origin.resetCounts();
    // Sequential: the latency of one tile, not of a queue.
    const warm = await runPass(
      keys.map((_, k) => url(k, 1)),
      1,
    );
    const warmOrigin = origin.count();
    const result: SetupResult = { setup, coldOrigin, warmOrigin, cold, warm };
    if (setup.redis && setup.instances > 1) {
      result.sharedHit = warm;
      result.memoryHit = await runPass(
        keys.map((_, k) => url(k, 1)),
        1,
      );
    }
    return result;
  } finally {
    await inst?.close();
  }
}

const bench: BenchSection = async (ctx: BenchContext) => {
  const n = ctx.quick ? 48 : 256;
  const files: Record<string, Uint8Array> = {};
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = `bench/8/${i % 16}/${Math.floor(i / 16)}.jpg`;
    keys.push(key);
    files[key] = randomBytes(TILE_BYTES);
  }
  let redis: RedisServer | undefined;
  let origin: MockOrigin | undefined;
  try {
    redis = await startRedisServer();
    origin = await startMockOrigin({ files, latencyMs: ORIGIN_LATENCY_MS });
    const setups: Setup[] = [
      { name: '1 instance', instances: 1, redis: false },
      { name: '2 instances, memory only', instances: 2, redis: false },
      { name: '2 instances + Redis', instances: 2, redis: true },
    ];
    const results: SetupResult[] = [];
    for (const s of setups) {
      ctx.log(`shared-cache: ${s.name}`);
      results.push(await runSetup(s, keys, origin, redis.url));
    }
    ctx.log('shared-cache: simultaneous misses, without and with the cold-tile lock');
    const herd = [
      await measureHerd(origin, redis.url, keys, 0, 8),
      await measureHerd(origin, redis.url, keys, 100, 8),
    ];
    const herdRows = herd.map(
      (h) =>
        `| ${h.lockWaitMs === 0 ? 'off' : `${h.lockWaitMs} ms`} | ${h.originGets} | ${f2(h.originGets / n)} | ${f1(h.p50Ms)} | ${f1(h.p95Ms)} |`,
    );
    ctx.log('shared-cache: origin concurrency / pool size');
    const pairs: Array<[number, number]> = ctx.quick
      ? [
          [8, 8],
          [64, 64],
          [64, 8],
        ]
      : [
          [8, 8],
          [32, 32],
          [128, 128],
          [128, 16],
        ];
    const tuning = await measureOriginTuning(origin, keys, pairs, 128);
    const tuningRows = tuning.map(
      (t) =>
        `| ${t.concurrency} | ${t.connections} | ${t.originSockets} | ${Math.round(t.tilesPerSec)} | ${f1(t.p95Ms)} |`,
    );
    const red = results[2]!;
    const noRedis = results[1]!;
    const originP = red.cold.ms;
    const shared = red.sharedHit!.ms;
    const memory = red.memoryHit!.ms;
    const saved = noRedis.coldOrigin + noRedis.warmOrigin - (red.coldOrigin + red.warmOrigin);
    const rows = results.map((r) => {
      const total = r.coldOrigin + r.warmOrigin;
      const src = Object.entries(r.warm.sources)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      return `| ${r.setup.name} | ${r.coldOrigin} | ${r.warmOrigin} | ${total} | ${f2(total / n)} | ${src} |`;
    });
    const lat = [
      ['memory hit (same instance, 2nd read)', memory],
      ['shared-cache hit (other instance, Redis)', shared],
      [`origin fetch (cold, mock at ${ORIGIN_LATENCY_MS} ms, ${COLD_CONCURRENCY} in parallel)`, originP],
    ] as const;
    const latRows = lat.map(
      ([name, xs]) =>
        `| ${name} | ${f2(pct(xs, 50))} | ${f2(pct(xs, 95))} | ${f1(pct(xs, 50) / pct(memory, 50))}× |`,
    );
    return `## Shared cache (Redis) across instances

${n} tiles of ${TILE_BYTES / 1000} kB, mocked origin at ${ORIGIN_LATENCY_MS} ms. Cold pass: each tile once,
round-robin over the instances (${COLD_CONCURRENCY} in parallel). Warm pass: each tile once more, through
the *other* instance (a load balancer without stickiness), one at a time.

| setup | origin GETs, cold pass | origin GETs, warm pass | total | per tile | warm pass answered by |
| --- | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}

With Redis, two instances make as many origin requests as one: **${saved} origin GETs saved**
(${f1((100 * saved) / (noRedis.coldOrigin + noRedis.warmOrigin))} % of the memory-only pair's) on this tile set.

| per-tile latency, client side over HTTP keep-alive | p50 ms | p95 ms | p50 vs memory hit |
| --- | ---: | ---: | ---: |
${latRows.join('\n')}

A shared-cache hit costs ${f1(pct(shared, 50) - pct(memory, 50))} ms more than a memory hit at p50 and is
${f1(pct(originP, 50) / pct(shared, 50))}× faster than the origin fetch.

Worst case for several instances: each cold tile asked through both instances at the same moment (8 tiles in
flight, Redis shared), without and with the cold-tile lock (\`REDIS_LOCK_WAIT_MS\`):

| cold-tile lock | origin GETs | per tile | p50 ms | p95 ms |
| --- | ---: | ---: | ---: | ---: |
${herdRows.join('\n')}

Cold tiles through one instance, 128 clients in flight, ${n} distinct tiles, origin at ${ORIGIN_LATENCY_MS} ms:

| ORIGIN_CONCURRENCY | ORIGIN_CONNECTIONS | origin sockets used | cold tiles/s | p95 ms |
| ---: | ---: | ---: | ---: | ---: |
${tuningRows.join('\n')}

Method: bench/shared-cache/index.ts (startInstances + a private redis-server + the mocked origin, all on
127.0.0.1; latency measured at the client over HTTP keep-alive).`;
  } finally {
    await origin?.close();
    await redis?.stop();
  }
};

export default bench;
