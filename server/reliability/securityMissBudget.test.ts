import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { useStack } from '../../e2e/harness/useStack.js';
import { BATCH_MEDIA_TYPE, type BatchFrame, BatchFrameDecoder } from '../../src/protocol/batchFraming.js';
import type { ServerCacheStats } from '../../src/protocol/stats.js';

// Issue 18, "budget the unknown": every cold tile costs an origin GET (three with the
// jpg -> png -> webp fallback), so each client address has a token bucket of misses.
// The clock is the server's injected `now` and never moves unless a test moves it:
// every count below is exact, nothing depends on timing.

const start = useStack();

/** Per test: a loaded machine may take long, and no verdict depends on it. */
const SLOW = 90_000;

/**
 * No retries and deadlines far above any wait here: an origin GET is counted
 * once however loaded the machine is (a retried attempt would count twice).
 */
const exact = { originRetries: 0, originAttemptTimeoutMs: 60_000, originTimeoutMs: 60_000 };

/** One loopback address per client: Linux routes all of 127/8 to lo. */
const agents = new Map<string, Agent>();
function from(address: string): Agent {
  let a = agents.get(address);
  if (!a) {
    a = new Agent({ localAddress: address, connections: 4 });
    agents.set(address, a);
  }
  return a;
}
afterAll(async () => {
  await Promise.all([...agents.values()].map((a) => a.close()));
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

async function call(
  url: string,
  address: string,
  o: { method?: 'GET' | 'POST'; body?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const r = await request(url, {
    method: o.method ?? 'GET',
    dispatcher: from(address),
    headers: { 'content-type': 'application/json', ...o.headers },
    body: o.body,
    signal: AbortSignal.timeout(45_000),
  });
  return { status: r.statusCode, headers: r.headers, body: Buffer.from(await r.body.arrayBuffer()) };
}

interface JsonBatch {
  tiles: Record<string, string | null>;
  errors?: Record<string, { code: string; message: string; limit?: number }>;
  cache_stats: ServerCacheStats;
}

async function jsonBatch(base: string, address: string, keys: string[], headers = {}): Promise<JsonBatch> {
  const r = await call(`${base}/api/tiles/vp/batch`, address, {
    method: 'POST',
    body: JSON.stringify({ tiles: keys }),
    headers: { accept: 'application/json', ...headers },
  });
  expect(r.status).toBe(200);
  return JSON.parse(r.body.toString()) as JsonBatch;
}

/** `n` distinct keys no origin holds, at z=18 (far below any real pyramid). */
let seq = 0;
function hostileKeys(n: number): string[] {
  return Array.from({ length: n }, () => `18/${seq++}/${1000 + (seq % 97)}.jpg`);
}

/** A 8x5 viewport of real 1 KiB tiles at z=6. */
const viewport: string[] = [];
const files: Record<string, Buffer> = {};
for (let x = 0; x < 8; x++) {
  for (let y = 0; y < 5; y++) {
    viewport.push(`6/${x}/${y}.jpg`);
    files[`vp/6/${x}/${y}.jpg`] = randomBytes(1024);
  }
}

const refusedKeys = (b: JsonBatch) =>
  Object.entries(b.errors ?? {}).filter(([, e]) => e.code === 'RATE_LIMITED').length;
const hostileGets = (s: { origin: { requests: { key: string }[] } }) =>
  s.origin.requests.filter((r) => r.key.startsWith('vp/18/')).length;

async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} not in /metrics`);
  return Number(m[1]);
}

describe('per-client miss budget (MISS_BUDGET_*)', () => {
  it(
    'a flood from one address gets 429s while a second address loads its viewport in full',
    async () => {
      let now = 1_000_000;
      const s = await start({
        origin: { files },
        config: { ...exact, missBudgetPerSec: 10, missBudgetBurst: 50 },
        deps: { now: () => now },
      });
      const base = s.serverUrl;
      const flood = '127.0.0.2';
      const viewer = '127.0.0.3';

      // Three batches of 100 distinct missing keys: the burst (50) is spent in request order.
      const first = await jsonBatch(base, flood, hostileKeys(100));
      expect(refusedKeys(first)).toBe(50);
      expect(Object.values(first.tiles).every((t) => t === null)).toBe(true);
      expect(Object.values(first.errors ?? {})[0]).toMatchObject({ code: 'RATE_LIMITED', limit: 10 });
      for (let i = 0; i < 2; i++)
        expect(refusedKeys(await jsonBatch(base, flood, hostileKeys(100)))).toBe(100);
      // 50 cold keys reached the origin, three formats each; the 250 refused never did.
      expect(hostileGets(s)).toBe(150);

      // A single tile past the budget: 429, Retry-After, a coded JSON error, no origin request.
      const single = await call(`${base}/api/tiles/vp/${hostileKeys(1)[0]}`, flood);
      expect(single.status).toBe(429);
      expect(single.headers['retry-after']).toBe('1');
      expect(single.headers['content-type']).toContain('application/json');
      expect(JSON.parse(single.body.toString()).error.code).toBe('RATE_LIMITED');
      expect(hostileGets(s)).toBe(150);

      // The second address is served as before: every tile, its true bytes, one origin GET each.
      const seen = await jsonBatch(base, viewer, viewport);
      for (const k of viewport)
        expect(Buffer.from(seen.tiles[k]!, 'base64').equals(files[`vp/${k}`]!)).toBe(true);
      expect(seen.errors).toBeUndefined();
      for (const k of viewport) expect(s.origin.count(`vp/${k}`)).toBe(1);

      // A cache hit costs nothing, not even for a client whose budget is spent.
      const hit = await call(`${base}/api/tiles/vp/${viewport[0]}`, flood);
      expect(hit.status).toBe(200);
      expect(hit.headers['x-tile-source']).toBe('memory-cache');
      const hits = await jsonBatch(base, flood, viewport);
      expect(hits.errors).toBeUndefined();
      expect(Object.values(hits.tiles).every((t) => t !== null)).toBe(true);

      // One second on the clock refills 10 misses for the flooder.
      now += 1_000;
      expect(refusedKeys(await jsonBatch(base, flood, hostileKeys(30)))).toBe(20);
      expect(hostileGets(s)).toBe(180);

      // Counted in /metrics and cache-stats: 50 + 100 + 100 + 1 + 20 refused keys, 5 requests met it.
      expect(await metric(base, 'tile_miss_budget_refused_total')).toBe(271);
      expect(await metric(base, 'tile_miss_budget_hits_total')).toBe(5);
      expect(await metric(base, 'tile_miss_budget_clients')).toBe(2);
      const stats = (await jsonBatch(base, viewer, viewport.slice(0, 1))).cache_stats;
      expect(stats.miss_budget).toEqual({ enabled: true, refused: 271, hits: 5, clients: 2 });
    },
    SLOW,
  );

  it(
    'a binary batch answers over-budget tiles with coded ERROR frames and the rest as usual',
    async () => {
      const s = await start({
        origin: { files },
        config: { ...exact, missBudgetPerSec: 10, missBudgetBurst: 4 },
        deps: { now: () => 5_000_000 },
      });
      const keys = [...viewport.slice(0, 3), ...hostileKeys(3)];
      const r = await call(`${s.serverUrl}/api/tiles/vp/batch`, '127.0.0.4', {
        method: 'POST',
        body: JSON.stringify({ tiles: keys }),
        headers: { accept: BATCH_MEDIA_TYPE },
      });
      expect(r.status).toBe(200);
      const dec = new BatchFrameDecoder();
      const frames: BatchFrame[] = dec.push(r.body);
      dec.finish();
      const byKey = new Map(
        frames.filter((f) => f.kind !== 'end').map((f) => [(f as { key: string }).key, f]),
      );
      expect(byKey.size).toBe(6);
      // Request order: the three real tiles and the first hostile key fit the burst of 4.
      for (const k of viewport.slice(0, 3)) expect(byKey.get(k)?.kind).toBe('tile');
      expect(byKey.get(keys[3]!)?.kind).toBe('missing');
      for (const k of keys.slice(4)) {
        expect(byKey.get(k)).toMatchObject({ kind: 'error', error: { code: 'RATE_LIMITED', status: 429 } });
      }
      expect(frames.at(-1)?.kind).toBe('end');
      expect(s.origin.count()).toBe(3 + 3);
    },
    SLOW,
  );

  it(
    'MISS_BUDGET_PER_SEC=0 turns it off: every cold key goes to the origin as before',
    async () => {
      const s = await start({
        origin: { files },
        config: { ...exact, missBudgetPerSec: 0, missBudgetBurst: 1 },
      });
      const b = await jsonBatch(s.serverUrl, '127.0.0.5', hostileKeys(100));
      expect(b.errors).toBeUndefined();
      expect(hostileGets(s)).toBe(300);
      expect(b.cache_stats.miss_budget).toEqual({ enabled: false, refused: 0, hits: 0, clients: 0 });
    },
    SLOW,
  );
});

describe('client address behind a proxy (TRUST_PROXY)', () => {
  it(
    'untrusted (default): X-Forwarded-For is ignored, so a client cannot pick a fresh bucket',
    async () => {
      const s = await start({
        origin: { files },
        config: { ...exact, missBudgetPerSec: 10, missBudgetBurst: 5 },
        deps: { now: () => 7_000_000 },
      });
      let refused = 0;
      for (let i = 0; i < 10; i++) {
        const r = await call(`${s.serverUrl}/api/tiles/vp/${hostileKeys(1)[0]}`, '127.0.0.6', {
          headers: { 'x-forwarded-for': `203.0.113.${i}` },
        });
        if (r.status === 429) refused++;
        else expect(r.status).toBe(404);
      }
      expect(refused).toBe(5);
      expect(hostileGets(s)).toBe(5 * 3);
    },
    SLOW,
  );

  it(
    'trusted: each forwarded client has its own bucket, and a spoofed left part is not believed',
    async () => {
      const s = await start({
        origin: { files },
        // One proxy hop (the loopback client plays the proxy): the right-most entry is the client.
        config: { ...exact, missBudgetPerSec: 10, missBudgetBurst: 5, trustProxy: 1 },
        deps: { now: () => 9_000_000 },
      });
      const proxy = '127.0.0.7';
      const a = await jsonBatch(s.serverUrl, proxy, hostileKeys(8), { 'x-forwarded-for': '203.0.113.7' });
      expect(refusedKeys(a)).toBe(3);
      // The same client forging a left-most entry is still 203.0.113.7: all refused.
      const forged = await jsonBatch(s.serverUrl, proxy, hostileKeys(8), {
        'x-forwarded-for': '198.51.100.1, 203.0.113.7',
      });
      expect(refusedKeys(forged)).toBe(8);
      // Another client behind the same proxy is served in full.
      const b = await jsonBatch(s.serverUrl, proxy, viewport.slice(0, 5), {
        'x-forwarded-for': '203.0.113.8',
      });
      expect(b.errors).toBeUndefined();
      expect(Object.values(b.tiles).every((t) => t !== null)).toBe(true);
      expect(hostileGets(s)).toBe(5 * 3);
      expect(s.server.context.guard.budget?.clients).toBe(2);
    },
    SLOW,
  );
});

describe('negative results stay cheap', () => {
  it(
    'a flood of distinct missing keys leaves the real tiles in the memory cache',
    async () => {
      const s = await start({
        origin: { files },
        // 64 KiB: the 40 real 1 KiB tiles fit; 300 remembered 404s (~300 B each) would not.
        config: { ...exact, cacheMaxBytes: 64 * 1024, cacheMaxEntryBytes: 8 * 1024, missBudgetPerSec: 0 },
      });
      const viewer = '127.0.0.8';
      await jsonBatch(s.serverUrl, viewer, viewport);
      expect(s.origin.count()).toBe(40);
      for (let i = 0; i < 3; i++) await jsonBatch(s.serverUrl, '127.0.0.9', hostileKeys(100));
      const cache = s.server.context.tiles.cache;
      expect(cache.negativeEvictions).toBeGreaterThan(0);
      expect(cache.evictions).toBe(0);
      expect(cache.bytes).toBeLessThanOrEqual(64 * 1024);

      const hitsBefore = s.server.context.tiles.hits;
      const again = await jsonBatch(s.serverUrl, viewer, viewport);
      for (const k of viewport)
        expect(Buffer.from(again.tiles[k]!, 'base64').equals(files[`vp/${k}`]!)).toBe(true);
      expect(s.server.context.tiles.hits - hitsBefore).toBe(40);
      for (const k of viewport) expect(s.origin.count(`vp/${k}`)).toBe(1);
      expect(again.cache_stats.negative_cache?.evictions).toBe(cache.negativeEvictions);
      expect(await metric(s.serverUrl, 'tile_negative_cache_evictions_total')).toBe(cache.negativeEvictions);
    },
    SLOW,
  );
});
