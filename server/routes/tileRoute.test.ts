import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { asJson } from '../../e2e/harness/asJson.js';
import { useStack } from '../../e2e/harness/useStack.js';
import { TILE_GENERATION_HEADER } from '../../src/protocol/swMessages.js';
import { until } from '../../test/support/server/until.js';

const start = useStack();

const png = randomBytes(3000);
const jpg = randomBytes(2000);

describe('single tile route', () => {
  it('serves from the origin once, then from memory, with ETag, Cache-Control and nosniff', async () => {
    const s = await start({ origin: { files: { 'sample/1/0/1.jpg': jpg } } });
    const a = await fetch(`${s.serverUrl}/api/tiles/sample/1/0/1.jpg`);
    expect(a.status).toBe(200);
    expect(a.headers.get('x-tile-source')).toBe('origin');
    expect(Buffer.from(await a.arrayBuffer()).equals(jpg)).toBe(true);
    const b = await fetch(`${s.serverUrl}/api/tiles/sample/1/0/1.jpg`);
    expect(b.headers.get('x-tile-source')).toBe('memory-cache');
    expect(Buffer.from(await b.arrayBuffer()).equals(jpg)).toBe(true);
    expect(b.headers.get('content-type')).toBe('image/jpeg');
    expect(b.headers.get('etag')).toBe(a.headers.get('etag'));
    expect(b.headers.get('cache-control')).toMatch(/public, max-age=\d+/);
    expect(b.headers.get('x-content-type-options')).toBe('nosniff');
    expect(s.origin.count('sample/1/0/1.jpg')).toBe(1);
  });

  it('falls back jpg -> png -> webp and says the true Content-Type', async () => {
    const s = await start({ origin: { files: { 'sample/2/1/1.png': png, 'sample/2/1/2.webp': jpg } } });
    const a = await fetch(`${s.serverUrl}/api/tiles/sample/2/1/1.jpg`);
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await a.arrayBuffer()).equals(png)).toBe(true);
    const w = await fetch(`${s.serverUrl}/api/tiles/sample/2/1/2.jpg`);
    expect(w.headers.get('content-type')).toBe('image/webp');
    await w.arrayBuffer();
    expect(s.origin.count('sample/2/1/1.jpg')).toBe(1);
    expect(s.origin.count('sample/2/1/1.png')).toBe(1);
    expect(s.origin.count('sample/2/1/1.webp')).toBe(0);
    // The fallback answer is cached under the asked key: no new origin request.
    await (await fetch(`${s.serverUrl}/api/tiles/sample/2/1/1.jpg`)).arrayBuffer();
    expect(s.origin.count()).toBe(5);
  });

  it('answers If-None-Match with 304 and no body', async () => {
    const s = await start({ origin: { files: { 'sample/0/0/0.png': png } } });
    const a = await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`);
    await a.arrayBuffer();
    const etag = a.headers.get('etag')!;
    const b = await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`, {
      headers: { 'if-none-match': etag },
    });
    expect(b.status).toBe(304);
    expect(b.headers.get('x-tile-source')).toBe('memory-cache');
    expect((await b.arrayBuffer()).byteLength).toBe(0);
  });

  it('404s a tile missing in every format and remembers it briefly', async () => {
    const s = await start({ origin: { files: {} } });
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${s.serverUrl}/api/tiles/sample/3/1/1.jpg`);
      expect(r.status).toBe(404);
      expect(r.headers.get('x-tile-source')).toBe(i === 0 ? 'origin' : 'memory-cache');
      expect((await r.json().then(asJson)).error.code).toBe('NOT_FOUND');
    }
    expect(s.origin.count()).toBe(3); // jpg, png, webp once
  });

  it.each([
    ['/api/tiles/..%2F..%2Fetc/0/0/0.jpg', 400, 'BAD_DATASET'],
    ['/api/tiles/sample/..%2F..%2F/0/0.jpg', 400, 'BAD_TILE_KEY'],
    ['/api/tiles/sa.mple/0/0/0.jpg', 400, 'BAD_DATASET'],
    ['/api/tiles/sample/2/4/0.jpg', 400, 'BAD_TILE_KEY'],
    ['/api/tiles/sample/31/0/0.jpg', 400, 'BAD_TILE_KEY'],
    ['/api/tiles/sample/-1/0/0.jpg', 400, 'BAD_TILE_KEY'],
    ['/api/tiles/sample/0/0/0.gif', 400, 'BAD_EXTENSION'],
    ['/api/tiles/sample/0/0/0.jpg%00.png', 400, 'BAD_TILE_KEY'],
    [`/api/tiles/sample/0/0/0.jpg?${'q'.repeat(10_000)}`, 414, 'QUERY_TOO_LARGE'],
    ['/api/nothing', 404, 'NOT_FOUND'],
  ])('refuses %s with %i %s and stays up', async (path, status, code) => {
    const s = await start({ origin: { files: { 'sample/0/0/0.jpg': jpg } } });
    const r = await fetch(`${s.serverUrl}${path}`);
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toContain('application/json');
    const body = await r.json().then(asJson);
    expect(body.error.code).toBe(code);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
    expect(s.origin.count()).toBe(0);
    expect((await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.jpg`)).status).toBe(200);
  });

  it('refuses POST on a tile with 405', async () => {
    const s = await start({ origin: { files: {} } });
    const r = await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.jpg`, { method: 'POST' });
    expect(r.status).toBe(405);
    expect((await r.json().then(asJson)).error.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('maps an origin 5xx to 502 JSON, and serves a stale copy instead when it has one', async () => {
    let now = 1_000_000;
    const s = await start({
      origin: {
        files: { 'sample/0/0/0.png': png },
        status: (k) => (k === 'sample/1/1/1.png' ? 500 : undefined),
      },
      config: { originRetries: 0, cacheTtlMs: 1_000, staleIfErrorMs: 60_000 },
      deps: { now: () => now },
    });
    const bad = await fetch(`${s.serverUrl}/api/tiles/sample/1/1/1.png`);
    expect(bad.status).toBe(502);
    expect((await bad.json().then(asJson)).error.code).toBe('ORIGIN_ERROR');
    await (await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`)).arrayBuffer();
    now += 5_000; // past freshness
    s.origin.set({ status: () => 503 });
    const stale = await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`);
    expect(stale.status).toBe(200);
    expect(Buffer.from(await stale.arrayBuffer()).equals(png)).toBe(true);
    expect(s.server.context.tiles.staleHits).toBe(1);
    now += 120_000; // past stale-if-error too
    expect((await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`)).status).toBe(502);
  });

  it('answers 503 with Retry-After when the origin queue overflows', async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 8; i++) files[`sample/3/${i}/0.png`] = png;
    const s = await start({
      origin: { files, latencyMs: 300 },
      config: { originConcurrency: 1, originQueueLimit: 1 },
    });
    const rs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => fetch(`${s.serverUrl}/api/tiles/sample/3/${i}/0.png`)),
    );
    const over = rs.filter((r) => r.status === 503);
    expect(over.length).toBeGreaterThan(0);
    expect(Number(over[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await over[0]!.json().then(asJson)).error.code).toBe('OVERLOADED');
    expect(rs.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    await Promise.all(rs.map((r) => r.arrayBuffer().catch(() => undefined)));
  });

  it('requires API_TOKEN on tile routes when set', async () => {
    const s = await start({
      origin: { files: { 'sample/0/0/0.png': png } },
      config: { apiToken: 'read-secret' },
    });
    expect((await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`)).status).toBe(401);
    const wrong = await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`, {
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(403);
    const ok = await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`, {
      headers: { authorization: 'Bearer read-secret' },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toMatch(/^private/);
    const batch = await fetch(`${s.serverUrl}/api/tiles/sample/batch?tiles=0/0/0.png`);
    expect(batch.status).toBe(401);
  });

  it('sends CORS headers only to configured origins', async () => {
    const s = await start({
      origin: { files: { 'sample/0/0/0.png': png } },
      config: { corsOrigins: ['https://good.example'] },
    });
    const good = await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`, {
      headers: { origin: 'https://good.example' },
    });
    expect(good.headers.get('access-control-allow-origin')).toBe('https://good.example');
    const evil = await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`, {
      headers: { origin: 'https://evil.example' },
    });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    // Cached tiles vary by Origin even when the request had none (an <img>), so a CDN keeps them apart.
    const plain = await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`);
    expect(plain.headers.get('x-tile-source')).toBe('memory-cache');
    expect(plain.headers.get('vary')).toBe('Origin');
    const pre = await fetch(`${s.serverUrl}/api/tiles/sample/batch`, {
      method: 'OPTIONS',
      headers: { origin: 'https://good.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('keeps the memory cache under its byte bound through a flood of unique tiles', async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 300; i++) files[`flood/9/${i}/0.png`] = png;
    const s = await start({
      origin: { files },
      config: { cacheMaxBytes: 100_000, cacheMaxEntryBytes: 10_000 },
    });
    for (let i = 0; i < 300; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          fetch(`${s.serverUrl}/api/tiles/flood/9/${i + j}/0.png`).then((r) => r.arrayBuffer()),
        ),
      );
      expect(s.server.context.tiles.cache.bytes).toBeLessThanOrEqual(100_000);
    }
    const stats = (await (await fetch(`${s.serverUrl}/api/tiles/flood/cache-stats`)).json().then(asJson))
      .stats;
    expect(stats.cache_bytes).toBeLessThanOrEqual(100_000);
    expect(stats.evictions).toBeGreaterThan(200);
    expect(stats.cache_hits + stats.cache_misses).toBe(stats.total_requests);
    expect(stats.total_requests).toBe(300);
    expect(stats.origin.requests).toBe(300);
  });
  it('says X-Tile-Generation on every single-tile answer, and a cache-clear changes it', async () => {
    const s = await start({
      origin: { files: { 'sample/0/0/0.jpg': jpg, 'other/0/0/0.jpg': png } },
      config: { ownerToken: 'o' },
    });
    const tile = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${s.serverUrl}/api/tiles/${path}`, { headers }).then(async (r) => {
        await r.arrayBuffer();
        return r;
      });
    const gen = (r: Response) => r.headers.get(TILE_GENERATION_HEADER);
    const fromOrigin = await tile('sample/0/0/0.jpg');
    expect([fromOrigin.headers.get('x-tile-source'), gen(fromOrigin)]).toEqual(['origin', '0']);
    const hit = await tile('sample/0/0/0.jpg');
    expect([hit.headers.get('x-tile-source'), gen(hit)]).toEqual(['memory-cache', '0']);
    const etag = hit.headers.get('etag')!;
    const notModified = await tile('sample/0/0/0.jpg', { 'if-none-match': etag });
    expect([notModified.status, gen(notModified)]).toEqual([304, '0']);
    expect(notModified.headers.get('cache-control')).toBe(hit.headers.get('cache-control'));
    expect(notModified.headers.get('etag')).toBe(etag);
    const missing = await tile('sample/1/0/0.jpg');
    expect([missing.status, gen(missing)]).toEqual([404, '0']);
    const missingAgain = await tile('sample/1/0/0.jpg');
    expect([missingAgain.headers.get('x-tile-source'), gen(missingAgain)]).toEqual(['memory-cache', '0']);
    await tile('other/0/0/0.jpg');

    const clear = await fetch(`${s.serverUrl}/api/tiles/sample/cache-clear`, {
      method: 'POST',
      headers: { authorization: 'Bearer o' },
    });
    expect(clear.status).toBe(200);
    const refetched = await tile('sample/0/0/0.jpg');
    expect([refetched.headers.get('x-tile-source'), gen(refetched)]).toEqual(['origin', '1']);
    const rehit = await tile('sample/0/0/0.jpg');
    expect([rehit.headers.get('x-tile-source'), gen(rehit)]).toEqual(['memory-cache', '1']);
    const rehit304 = await tile('sample/0/0/0.jpg', { 'if-none-match': etag });
    expect([rehit304.status, gen(rehit304)]).toEqual([304, '1']);
    expect(gen(await tile('sample/1/0/0.jpg'))).toBe('1');
    // Generations are per dataset: the other one was not cleared and is still a hit.
    const other = await tile('other/0/0/0.jpg');
    expect([other.headers.get('x-tile-source'), gen(other)]).toEqual(['memory-cache', '0']);
    expect(s.origin.count('sample/0/0/0.jpg')).toBe(2);
  });

  it('a tile fetched across a cache-clear says the new generation and is not cached', async () => {
    const s = await start({
      origin: { files: { 'sample/0/0/0.jpg': jpg }, latencyMs: 300 },
      config: { ownerToken: 'o' },
    });
    const pending = fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.jpg`);
    await until(() => s.origin.count('sample/0/0/0.jpg') === 1);
    const clear = await fetch(`${s.serverUrl}/api/tiles/sample/cache-clear`, {
      method: 'POST',
      headers: { authorization: 'Bearer o' },
    });
    expect(clear.status).toBe(200);
    const r = await pending;
    expect(Buffer.from(await r.arrayBuffer()).equals(jpg)).toBe(true);
    expect([r.headers.get('x-tile-source'), r.headers.get(TILE_GENERATION_HEADER)]).toEqual(['origin', '1']);
    // Fetched under generation 0: the clear keeps it out of the cache, so the next ask goes to the origin.
    const next = await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.jpg`);
    await next.arrayBuffer();
    expect([next.headers.get('x-tile-source'), next.headers.get(TILE_GENERATION_HEADER)]).toEqual([
      'origin',
      '1',
    ]);
  });
});
