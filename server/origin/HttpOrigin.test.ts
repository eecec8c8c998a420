import { afterEach, describe, expect, it } from 'vitest';
import { type MockOrigin, startMockOrigin } from '../../e2e/mockOrigin/MockOrigin.js';
import { isTileError, type TileError } from '../../src/protocol/errors.js';
import { readBody } from '../engine/readBody.js';
import { HttpOrigin } from './HttpOrigin.js';

let origin: MockOrigin | undefined;
let http: HttpOrigin | undefined;
afterEach(async () => {
  await http?.close();
  await origin?.close();
  http = undefined;
  origin = undefined;
});
const signal = () => new AbortController().signal;

async function setup(files: Record<string, string | Uint8Array>, prefix = '') {
  origin = await startMockOrigin({ files });
  http = new HttpOrigin({ baseUrl: origin.url + prefix, connections: 2 });
  return { origin, http };
}

describe('HttpOrigin', () => {
  it('GETs under the base path with per-segment encoding', async () => {
    const { origin, http } = await setup(
      { 'pre/fix/sample/0/0/0.jpg': 'a', 'pre/fix/we ird/x?y#z.png': 'b' },
      '/pre/fix/',
    );
    const a = await http.get('sample/0/0/0.jpg', { signal: signal() });
    expect(a?.contentType).toBe('image/jpeg');
    expect(new TextDecoder().decode(await readBody(a!.body, a!.contentLength, 100))).toBe('a');
    const b = await http.get('we ird/x?y#z.png', { signal: signal() });
    expect(new TextDecoder().decode(await readBody(b!.body, b!.contentLength, 100))).toBe('b');
    expect(origin.requests[1]!.url).toBe('/pre/fix/we%20ird/x%3Fy%23z.png');
  });

  it('maps 404 to null, 5xx/429 to ORIGIN_ERROR with status and Retry-After', async () => {
    const { origin, http } = await setup({ a: 'x' });
    expect(await http.get('missing', { signal: signal() })).toBeNull();
    origin.set({ status: () => 429, retryAfterSec: 7 });
    const e = (await http.get('a', { signal: signal() }).catch((x: unknown) => x)) as TileError;
    expect(isTileError(e, 'ORIGIN_ERROR')).toBe(true);
    expect(e.details).toMatchObject({ status: 429, retryAfterSec: 7 });
    origin.set({ status: () => 503, retryAfterSec: undefined });
    const f = (await http.get('a', { signal: signal() }).catch((x: unknown) => x)) as TileError;
    expect(f.details.status).toBe(503);
  });

  it('passes ranges and If-None-Match through', async () => {
    const { http } = await setup({ v: '0123456789' });
    const r = await http.get('v', { signal: signal(), range: { start: 2, end: 4 } });
    expect(r?.status).toBe(206);
    expect(r?.totalSize).toBe(10);
    expect(new TextDecoder().decode(await readBody(r!.body, r!.contentLength, 100))).toBe('234');
    const c = await http.get('v', { signal: signal(), ifNoneMatch: r!.etag! });
    expect(c?.status).toBe(304);
    const e = await http.get('v', { signal: signal(), range: { start: 20 } }).catch((x: unknown) => x);
    expect(isTileError(e, 'RANGE_NOT_SATISFIABLE')).toBe(true);
  });

  it('maps refused connections to ORIGIN_UNAVAILABLE and aborts to ABORTED', async () => {
    const { origin, http } = await setup({ a: 'x' });
    origin.set({ hang: true });
    const ctl = new AbortController();
    const p = http.get('a', { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 50);
    expect(isTileError(await p.catch((x: unknown) => x), 'ABORTED')).toBe(true);
    const dead = new HttpOrigin({ baseUrl: 'http://127.0.0.1:1', connections: 1 });
    try {
      expect(
        isTileError(await dead.get('a', { signal: signal() }).catch((x: unknown) => x), 'ORIGIN_UNAVAILABLE'),
      ).toBe(true);
    } finally {
      await dead.close();
    }
  });

  it('keeps at most `connections` sockets after 300 x 404 and still serves a 200', async () => {
    const { origin, http } = await setup({ ok: 'fine' });
    await Promise.all(Array.from({ length: 300 }, (_, i) => http.get(`nope/${i}`, { signal: signal() })));
    expect(origin.connections()).toBeLessThanOrEqual(2);
    const ok = await http.get('ok', { signal: signal() });
    expect(new TextDecoder().decode(await readBody(ok!.body, ok!.contentLength, 100))).toBe('fine');
    expect(http.pool.stats.connected).toBeLessThanOrEqual(2);
  });

  it('rejects a bad base URL as BAD_CONFIG', () => {
    expect(() => new HttpOrigin({ baseUrl: 'not a url', connections: 1 })).toThrow(/R2_PUBLIC_URL/);
  });
});
