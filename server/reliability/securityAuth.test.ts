import { afterEach, describe, expect, it } from 'vitest';
import type { Stack } from '../../e2e/harness/startStack.js';
import { BATCH_MEDIA_TYPE } from '../../src/protocol/batchFraming.js';
import { startFaultStack } from '../../test/support/server/faultKit.js';
import { type RawResponse, rawRequest } from '../../test/support/server/rawHttp.js';
import { tokenEquals } from '../http/auth.js';

const API = 'read-token-abcdef';
const files = { 'ds/0/0/0.jpg': 'tile-ds-000', 'videos/clip.mp4': 'video-bytes-0123456789' };

function nosniff(r: RawResponse, what: string): void {
  expect(r.headers['x-content-type-options'], what).toBe('nosniff');
  // Every answer but a 304 names its type (RFC 9110 §15.4.5: a 304 SHOULD NOT carry it; it has no body).
  if (r.status === 304) expect(r.body.length, what).toBe(0);
  else expect(r.headers['content-type'], what).toBeTruthy();
  expect(r.body.toString('latin1'), what).not.toMatch(/\n\s+at |node:internal|\/work\//);
}

describe('security: auth contexts, CORS, headers, errors', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  const reads: Array<[string, string, Record<string, string>]> = [
    ['single', '/api/tiles/ds/0/0/0.jpg', {}],
    ['single HEAD', '/api/tiles/ds/0/0/0.jpg', {}],
    ['batch JSON', '/api/tiles/ds/batch?tiles=0/0/0.jpg', {}],
    ['batch binary', '/api/tiles/ds/batch?tiles=0/0/0.jpg', { Accept: BATCH_MEDIA_TYPE }],
    ['video', '/api/video/clip.mp4', { Range: 'bytes=0-3' }],
  ];

  it('API_TOKEN guards single, batch (JSON and binary) and video alike, and a cached tile too', async () => {
    stack = await startFaultStack({ origin: { files }, config: { apiToken: API } });
    // Warm the cache with the right token first: a hit must not bypass the check.
    for (const [what, target, headers] of reads) {
      const method = what.endsWith('HEAD') ? 'HEAD' : 'GET';
      const ok = await rawRequest(stack.serverUrl, target, {
        method,
        headers: { ...headers, Authorization: `Bearer ${API}` },
      });
      expect(ok.status, what).toBeLessThan(300);
    }
    const originBefore = stack.origin.count();
    for (const [what, target, headers] of reads) {
      const method = what.endsWith('HEAD') ? 'HEAD' : 'GET';
      const none = await rawRequest(stack.serverUrl, target, { method, headers });
      expect(none.status, `${what} without token`).toBe(401);
      const wrong = await rawRequest(stack.serverUrl, target, {
        method,
        headers: { ...headers, Authorization: `Bearer ${API}X` },
      });
      expect(wrong.status, `${what} wrong token`).toBe(403);
      if (method === 'GET') {
        nosniff(none, what);
        expect(none.body.toString()).not.toContain('tile-ds-000');
        expect(wrong.body.toString()).not.toContain('tile-ds-000');
      }
    }
    const post = await rawRequest(stack.serverUrl, '/api/tiles/ds/batch', {
      method: 'POST',
      body: '{"tiles":["0/0/0.jpg"]}',
    });
    expect(post.status).toBe(401);
    expect(stack.origin.count()).toBe(originBefore);
  });

  it('tiles served under API_TOKEN are marked private so shared HTTP caches keep them per user', async () => {
    stack = await startFaultStack({ origin: { files }, config: { apiToken: API } });
    const r = await rawRequest(stack.serverUrl, '/api/tiles/ds/0/0/0.jpg', {
      headers: { Authorization: `Bearer ${API}` },
    });
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toMatch(/\bprivate\b/);
  });

  it('CORS headers only for configured origins, preflight included', async () => {
    stack = await startFaultStack({ origin: { files }, config: { corsOrigins: ['https://viewer.example'] } });
    const good = await rawRequest(stack.serverUrl, '/api/tiles/ds/0/0/0.jpg', {
      headers: { Origin: 'https://viewer.example' },
    });
    expect(good.headers['access-control-allow-origin']).toBe('https://viewer.example');
    expect(good.headers['vary']).toMatch(/Origin/);
    for (const origin of [
      'https://evil.example',
      'https://viewer.example.evil',
      'null',
      'http://viewer.example',
    ]) {
      const bad = await rawRequest(stack.serverUrl, '/api/tiles/ds/0/0/0.jpg', {
        headers: { Origin: origin },
      });
      expect(bad.headers['access-control-allow-origin'], origin).toBeUndefined();
      const pre = await rawRequest(stack.serverUrl, '/api/tiles/ds/batch', {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
      });
      expect(pre.headers['access-control-allow-origin'], origin).toBeUndefined();
      expect(pre.headers['access-control-allow-methods'], origin).toBeUndefined();
    }
    const pre = await rawRequest(stack.serverUrl, '/api/tiles/ds/batch', {
      method: 'OPTIONS',
      headers: { Origin: 'https://viewer.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://viewer.example');
  });

  it('without CORS_ORIGINS no response carries CORS headers', async () => {
    stack = await startFaultStack({ origin: { files } });
    const r = await rawRequest(stack.serverUrl, '/api/tiles/ds/0/0/0.jpg', {
      headers: { Origin: 'https://any.example' },
    });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('every response carries nosniff, and Content-Type unless it is a 304: tiles, 304, 404, 405, 414, 416, stats, health, metrics', async () => {
    stack = await startFaultStack({ origin: { files }, config: { ownerToken: 'o' } });
    const tile = await rawRequest(stack.serverUrl, '/api/tiles/ds/0/0/0.jpg');
    const cases: Array<[string, string, Record<string, string>, string?]> = [
      ['tile', '/api/tiles/ds/0/0/0.jpg', {}],
      ['304', '/api/tiles/ds/0/0/0.jpg', { 'If-None-Match': tile.headers['etag']! }],
      ['missing tile', '/api/tiles/ds/5/1/1.jpg', {}],
      ['bad key', '/api/tiles/ds/x/y/z.jpg', {}],
      ['no route', '/api/nothing', {}],
      ['405', '/api/tiles/ds/0/0/0.jpg', {}, 'DELETE'],
      ['414', `/api/tiles/ds/batch?${'a'.repeat(10_000)}`, {}],
      ['206', '/api/video/clip.mp4', { Range: 'bytes=2-5' }],
      ['416', '/api/video/clip.mp4', { Range: 'bytes=999-' }],
      ['missing video', '/api/video/none.mp4', {}],
      ['stats', '/api/tiles/ds/cache-stats', {}],
      ['clear 401', '/api/tiles/ds/cache-clear', {}, 'POST'],
      ['health', '/healthz', {}],
      ['metrics', '/metrics', {}],
      ['static 404', '/nope.html', {}],
      ['binary batch', '/api/tiles/ds/batch?tiles=0/0/0.jpg', { Accept: BATCH_MEDIA_TYPE }],
    ];
    const seen: Record<string, number> = {};
    for (const [what, target, headers, method] of cases) {
      const r = await rawRequest(stack.serverUrl, target, { headers, method: method ?? 'GET' });
      seen[what] = r.status;
      nosniff(r, what);
    }
    expect(seen).toMatchObject({
      '304': 304,
      '405': 405,
      '414': 414,
      '206': 206,
      '416': 416,
      'missing tile': 404,
    });
  });

  it('an internal failure is a 500 INTERNAL with a fixed message: no stack, no internal text', async () => {
    stack = await startFaultStack({
      origin: { files },
      wrapEngine: (e) => ({
        ...e,
        stats: () => e.stats(),
        close: () => e.close(),
        getStream: (k, o) => e.getStream(k, o),
        getRange: (k, r, s) => e.getRange(k, r, s),
        getBytes: async () => {
          throw new Error('secret internal detail at /etc/shadow');
        },
      }),
    });
    const r = await rawRequest(stack.serverUrl, '/api/tiles/ds/0/0/0.jpg');
    expect(r.status).toBe(500);
    expect(JSON.parse(r.body.toString())).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
    nosniff(r, '500');
    const b = await rawRequest(stack.serverUrl, '/api/tiles/ds/batch?tiles=0/0/0.jpg');
    expect(b.body.toString()).not.toMatch(/secret|shadow/);
  });

  it('with OWNER_TOKEN unset, cache-clear is closed to everyone (403), whatever token is sent', async () => {
    stack = await startFaultStack({ origin: { files } });
    for (const auth of [undefined, 'Bearer ', 'Bearer undefined', 'Bearer null', 'Bearer anything']) {
      const r = await rawRequest(stack.serverUrl, '/api/tiles/ds/cache-clear', {
        method: 'POST',
        headers: auth === undefined ? {} : { Authorization: auth },
      });
      expect(r.status, String(auth)).toBe(403);
      nosniff(r, String(auth));
    }
  });

  it('token comparison is exact for any length and content (constant-time: sha256 + timingSafeEqual)', () => {
    expect(tokenEquals('abc', 'abc')).toBe(true);
    for (const g of ['', 'ab', 'abcd', 'abC', 'abc ', '\0abc', 'a'.repeat(10_000)])
      expect(tokenEquals(g, 'abc')).toBe(false);
  });
});
