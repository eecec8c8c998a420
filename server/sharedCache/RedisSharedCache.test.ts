import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTileError } from '../../src/protocol/errors.js';
import { type RedisServer, startRedisServer } from '../../test/support/server/redisServer.js';
import { until } from '../../test/support/server/until.js';
import { RedisSharedCache, type RedisSharedCacheOptions } from './RedisSharedCache.js';

/** Deadline for the tests about deadlines; the others get a generous one (CPU is shared with other jobs). */
const TIMEOUT_MS = 80;
const RELAXED_TIMEOUT_MS = 1_000;
const never = new AbortController().signal;

function recordingLog() {
  const lines: Array<{ level: 'warn' | 'info'; msg: string }> = [];
  return {
    lines,
    warn: (_o: object, msg: string) => lines.push({ level: 'warn', msg }),
    info: (_o: object, msg: string) => lines.push({ level: 'info', msg }),
  };
}

/** Every byte value, CR/LF and NULs included: the value must come back bit for bit. */
function binaryTile(n = 1024): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 13) & 0xff;
  b.set([0, 13, 10, 0, 36, 42, 13, 10], 0);
  return b;
}

const tile = (bytes = binaryTile()) => ({ bytes, contentType: 'image/jpeg', etag: '"abc"' });

describe('RedisSharedCache', () => {
  let redis: RedisServer;
  const caches: RedisSharedCache[] = [];

  const open = async (o: Partial<RedisSharedCacheOptions> = {}): Promise<RedisSharedCache> => {
    const c = new RedisSharedCache({
      url: redis.url,
      ttlMs: 60_000,
      maxEntryBytes: 64 * 1024,
      timeoutMs: RELAXED_TIMEOUT_MS,
      maxReconnectDelayMs: 100,
      ...o,
    });
    caches.push(c);
    await until(() => c.stats().connected);
    return c;
  };

  beforeEach(async () => {
    redis = await startRedisServer();
  });

  afterEach(async () => {
    await Promise.allSettled(caches.splice(0).map((c) => c.close()));
    await redis.stop();
  });

  it('stores bytes and metadata binary-safe, only after a read under the same generation', async () => {
    const c = await open();
    await c.set('ds', 'ds/1/0/0.jpg', 0, tile(), never);
    expect(c.stats().staleWrites).toBe(1); // no read yet: the write could revive old bytes, so it is skipped
    expect(await c.get('ds', 'ds/1/0/0.jpg', 0, never)).toBeUndefined();
    await c.set('ds', 'ds/1/0/0.jpg', 0, tile(), never);
    const got = await c.get('ds', 'ds/1/0/0.jpg', 0, never);
    expect(got?.contentType).toBe('image/jpeg');
    expect(got?.etag).toBe('"abc"');
    expect(Buffer.from(got!.bytes).equals(Buffer.from(binaryTile()))).toBe(true);
    expect(c.stats()).toMatchObject({ hits: 1, misses: 1, writes: 1 });
  });

  it('does not store tiles over the size cap', async () => {
    const c = await open({ maxEntryBytes: 1000 });
    await c.get('ds', 'ds/0/0/0.png', 0, never);
    await c.set('ds', 'ds/0/0/0.png', 0, tile(binaryTile(1001)), never);
    expect(await c.get('ds', 'ds/0/0/0.png', 0, never)).toBeUndefined();
    expect(c.stats().oversize).toBe(1);
    await c.set('ds', 'ds/0/0/0.png', 0, tile(binaryTile(1000)), never);
    expect((await c.get('ds', 'ds/0/0/0.png', 0, never))?.bytes.length).toBe(1000);
  });

  it('lets entries expire after the TTL', async () => {
    const c = await open({ ttlMs: 150 });
    await c.get('ds', 'k', 0, never);
    await c.set('ds', 'k', 0, tile(), never);
    expect(await c.get('ds', 'k', 0, never)).toBeDefined();
    await sleep(300);
    expect(await c.get('ds', 'k', 0, never)).toBeUndefined();
  });

  it('clears a dataset for every instance and refuses writes from fetches begun before the clear', async () => {
    const a = await open();
    const b = await open();
    const remote: string[] = [];
    b.onRemoteClear((d) => remote.push(d));
    await a.get('ds', 'k', 0, never);
    await a.set('ds', 'k', 0, tile(), never);
    await a.get('other', 'o', 0, never);
    await a.set('other', 'o', 0, tile(), never);
    expect(await b.get('ds', 'k', 0, never)).toBeDefined();
    await b.get('ds', 'late', 0, never); // b's fetch of `late` begins before the clear...
    await a.clearDataset('ds', never);
    await until(() => remote.length > 0);
    expect(remote).toEqual(['ds']);
    await b.set('ds', 'late', 0, tile(), never); // ...and ends after it: refused
    expect(await a.get('ds', 'k', 1, never)).toBeUndefined();
    expect(await a.get('ds', 'late', 1, never)).toBeUndefined();
    expect(await a.get('other', 'o', 0, never)).toBeDefined(); // other datasets untouched
    expect(b.stats().staleWrites).toBe(1);
  });

  it('notices a clear it missed (no pub/sub message) on its next read', async () => {
    const a = await open();
    const b = await open();
    const remote: string[] = [];
    b.onRemoteClear((d) => remote.push(d));
    await b.get('ds', 'k', 0, never);
    // A clear made straight in Redis, as if the message was lost during a disconnect.
    const raw = new (await import('ioredis')).Redis(redis.url);
    try {
      await raw.incr('ta:{ds}:gen');
    } finally {
      raw.disconnect();
    }
    await b.set('ds', 'k', 0, tile(), never); // b does not know yet: Redis itself refuses the old write
    expect(b.stats()).toMatchObject({ writes: 0, staleWrites: 1 });
    await b.get('ds', 'k', 0, never);
    expect(remote).toEqual(['ds']);
    await a.get('ds', 'k', 0, never);
    expect(a.stats().remoteClears).toBe(0);
  });

  it('answers misses within the deadline while Redis is down, logs once, and resumes when it returns', async () => {
    const log = recordingLog();
    const c = await open({ log, timeoutMs: TIMEOUT_MS });
    await redis.kill();
    const started = Date.now();
    for (let i = 0; i < 50; i++) {
      const t0 = Date.now();
      expect(await c.get('ds', `k${i}`, 0, never)).toBeUndefined();
      await c.set('ds', `k${i}`, 0, tile(), never);
      expect(Date.now() - t0).toBeLessThan(TIMEOUT_MS + 250); // slack: a shared, loaded CPU
    }
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    await expect(c.clearDataset('ds', never)).rejects.toSatisfy((e) => isTileError(e, 'ORIGIN_UNAVAILABLE'));

    await redis.restart();
    await until(() => c.stats().connected);
    await c.get('ds', 'back', 0, never);
    await c.set('ds', 'back', 0, tile(), never);
    expect(await c.get('ds', 'back', 0, never)).toBeDefined();
    expect(log.lines.filter((l) => l.level === 'info')).toHaveLength(1);
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('starts while Redis is down (misses at once, one warning) and uses it once it comes up', async () => {
    await redis.kill();
    const log = recordingLog();
    const c = new RedisSharedCache({
      url: redis.url,
      ttlMs: 60_000,
      maxEntryBytes: 64 * 1024,
      timeoutMs: TIMEOUT_MS,
      maxReconnectDelayMs: 100,
      log,
    });
    caches.push(c);
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) expect(await c.get('ds', 'k', 0, never)).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(100); // nothing is queued while disconnected
    await sleep(400); // several reconnect attempts fail meanwhile
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.level).toBe('warn');
    await redis.restart();
    await until(() => c.stats().connected);
    await c.get('ds', 'k', 0, never);
    await c.set('ds', 'k', 0, tile(), never);
    expect(await c.get('ds', 'k', 0, never)).toBeDefined();
  });

  it('opens its breaker on a hung Redis (each call bounded by the deadline) and recovers through a trial', async () => {
    const log = recordingLog();
    const c = await open({ log, timeoutMs: TIMEOUT_MS, breaker: { failureThreshold: 3, openMs: 300 } });
    redis.pause();
    try {
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        expect(await c.get('ds', 'k', 0, never)).toBeUndefined();
        expect(Date.now() - t0).toBeLessThan(TIMEOUT_MS + 250); // slack: a shared, loaded CPU
      }
      expect(c.stats()).toMatchObject({ errors: 3, breaker: 'open' });
      const t0 = Date.now();
      for (let i = 0; i < 100; i++) await c.get('ds', 'k', 0, never);
      expect(Date.now() - t0).toBeLessThan(100); // open: nothing sent, nothing waited for
      expect(c.stats()).toMatchObject({ errors: 3, skipped: 100 });
    } finally {
      redis.resume();
    }
    await sleep(350);
    await c.get('ds', 'k', 0, never); // the half-open trial
    expect(c.stats().breaker).toBe('closed');
    expect(log.lines.map((l) => l.level)).toEqual(['warn', 'info']);
  });

  it('stops waiting when the caller aborts', async () => {
    const c = await open({ timeoutMs: 5_000 });
    redis.pause();
    try {
      const ctl = new AbortController();
      const t0 = Date.now();
      const p = c.get('ds', 'k', 0, ctl.signal);
      setTimeout(() => ctl.abort(), 20);
      expect(await p).toBeUndefined();
      expect(Date.now() - t0).toBeLessThan(500);
      expect(c.stats().errors).toBe(0);
    } finally {
      redis.resume();
    }
  });
});
