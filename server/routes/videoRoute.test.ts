import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { asJson } from '../../e2e/harness/asJson.js';
import type { Stack, StackOptions } from '../../e2e/harness/startStack.js';
import { useStack } from '../../e2e/harness/useStack.js';

const startOne = useStack();

const SIZE = 1_000_003; // not a multiple of the chunk size
const video = randomBytes(SIZE);
const CHUNK = 64 * 1024;

async function start(opts: StackOptions = {}): Promise<Stack> {
  return await startOne({
    origin: { files: { 'videos/clip.mp4': video }, ...opts.origin },
    config: { videoChunkBytes: CHUNK, ...opts.config },
  });
}

async function get(s: Stack, headers: Record<string, string> = {}, method = 'GET') {
  const r = await fetch(`${s.serverUrl}/api/video/clip.mp4`, { headers, method });
  return { r, body: Buffer.from(await r.arrayBuffer()) };
}

describe('video route', () => {
  it('serves the whole file with 200 and Accept-Ranges', async () => {
    const s = await start();
    const { r, body } = await get(s);
    expect(r.status).toBe(200);
    expect(r.headers.get('accept-ranges')).toBe('bytes');
    expect(r.headers.get('content-type')).toBe('video/mp4');
    expect(Number(r.headers.get('content-length'))).toBe(SIZE);
    expect(body.equals(video)).toBe(true);
    // Learning the size fetched chunk 0; the rest came in one ranged request.
    expect(s.origin.count('videos/clip.mp4')).toBe(2);
    expect(s.origin.requests.every((q) => typeof q.headers['range'] === 'string')).toBe(true);
  });

  it.each([
    ['bytes=100-199', 100, 199],
    ['bytes=0-0', 0, 0],
    ['bytes=999000-', 999_000, SIZE - 1],
    ['bytes=-500', SIZE - 500, SIZE - 1],
    ['bytes=65530-131080', 65_530, 131_080], // spans three chunks
    ['bytes=999999-2000000', 999_999, SIZE - 1],
  ])('%s -> 206 with the right bytes and Content-Range', async (range, a, b) => {
    const s = await start();
    const { r, body } = await get(s, { range });
    expect(r.status).toBe(206);
    expect(r.headers.get('content-range')).toBe(`bytes ${a}-${b}/${SIZE}`);
    expect(Number(r.headers.get('content-length'))).toBe(b - a + 1);
    expect(body.equals(video.subarray(a, b + 1))).toBe(true);
  });

  it('416 with Content-Range bytes */SIZE past the end', async () => {
    const s = await start();
    const { r } = await get(s, { range: `bytes=${SIZE}-` });
    expect(r.status).toBe(416);
    expect(r.headers.get('content-range')).toBe(`bytes */${SIZE}`);
  });

  it('answers several ranges with the whole file (200)', async () => {
    const s = await start();
    const { r, body } = await get(s, { range: 'bytes=0-1,10-11' });
    expect(r.status).toBe(200);
    expect(body.length).toBe(SIZE);
  });

  it('If-Range: a matching ETag keeps the range, another gives 200 full', async () => {
    const s = await start();
    const { r: first } = await get(s, { range: 'bytes=0-9' });
    const etag = first.headers.get('etag')!;
    expect(etag).toBeTruthy();
    const match = await get(s, { range: 'bytes=10-19', 'if-range': etag });
    expect(match.r.status).toBe(206);
    expect(match.body.equals(video.subarray(10, 20))).toBe(true);
    const other = await get(s, { range: 'bytes=10-19', 'if-range': '"something-else"' });
    expect(other.r.status).toBe(200);
    expect(other.body.length).toBe(SIZE);
  });

  it('a second request for a cached range makes no origin request', async () => {
    const s = await start();
    const a = await get(s, { range: 'bytes=200000-400000' });
    expect(a.body.equals(video.subarray(200_000, 400_001))).toBe(true);
    const before = s.origin.count();
    const b = await get(s, { range: 'bytes=210000-390000' });
    expect(b.r.status).toBe(206);
    expect(b.body.equals(video.subarray(210_000, 390_001))).toBe(true);
    expect(s.origin.count()).toBe(before);
    const head = await get(s, {}, 'HEAD');
    expect(head.r.status).toBe(200);
    expect(Number(head.r.headers.get('content-length'))).toBe(SIZE);
    expect(s.origin.count()).toBe(before);
  });

  it('origin ranges are chunk aligned', async () => {
    const s = await start();
    await get(s, { range: 'bytes=300000-300010' });
    const ranges = s.origin.requests.map((q) => q.headers['range']);
    const c = Math.floor(300_000 / CHUNK);
    expect(ranges).toEqual([`bytes=0-${CHUNK - 1}`, `bytes=${c * CHUNK}-${(c + 1) * CHUNK - 1}`]);
  });

  it('a client abort stops the upstream fetch', async () => {
    const s = await start({ origin: { files: { 'videos/clip.mp4': video }, slowBodyMs: 5 } });
    const ac = new AbortController();
    const r = await fetch(`${s.serverUrl}/api/video/clip.mp4`, {
      headers: { range: 'bytes=100000-' },
      signal: ac.signal,
    });
    expect(r.status).toBe(206);
    const reader = r.body!.getReader();
    let got = 0;
    while (got < 4096) got += (await reader.read()).value!.length;
    ac.abort();
    const t0 = Date.now();
    while (s.origin.aborted() === 0 && Date.now() - t0 < 3_000) await sleep(20);
    expect(s.origin.aborted()).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${s.serverUrl}/healthz`)).status).toBe(200);
  });

  it('404 for a missing video, 400 for a bad id', async () => {
    const s = await start();
    const missing = await fetch(`${s.serverUrl}/api/video/nope.mp4`);
    expect(missing.status).toBe(404);
    expect((await missing.json().then(asJson)).error.code).toBe('NOT_FOUND');
    for (const id of ['..%2F..%2Fetc%2Fpasswd', '.hidden', 'a..b.mp4', '%00']) {
      const r = await fetch(`${s.serverUrl}/api/video/${id}`);
      expect(r.status, id).toBe(400);
    }
  });

  it('an origin that stalls mid-body is cut by the idle deadline (504 before headers, a cut stream after)', async () => {
    const s = await start({
      origin: { files: { 'videos/clip.mp4': video }, slowBodyMs: 2_000 },
      config: { originAttemptTimeoutMs: 300, originRetries: 0 },
    });
    const t0 = Date.now();
    const r = await fetch(`${s.serverUrl}/api/video/clip.mp4`, { headers: { range: 'bytes=0-0' } });
    expect(r.status).toBe(504);
    expect((await r.json().then(asJson)).error.code).toBe('ORIGIN_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(1_500);
    expect((await fetch(`${s.serverUrl}/healthz`)).status).toBe(200);
  });

  it('viewers opening a video together share one size probe', async () => {
    const s = await start({ origin: { files: { 'videos/clip.mp4': video }, latencyMs: 100 } });
    const rs = await Promise.all(Array.from({ length: 5 }, () => get(s, { range: 'bytes=0-99' })));
    for (const { r, body } of rs) {
      expect(r.status).toBe(206);
      expect(body.equals(video.subarray(0, 100))).toBe(true);
    }
    expect(s.origin.count('videos/clip.mp4')).toBe(1);
  });

  it('is marked private under API_TOKEN, so a shared cache keeps no credentialed copy', async () => {
    const s = await start({ config: { apiToken: 'read-secret' } });
    expect((await get(s)).r.status).toBe(401);
    const { r, body } = await get(s, { authorization: 'Bearer read-secret', range: 'bytes=0-9' });
    expect(r.status).toBe(206);
    expect(body.equals(video.subarray(0, 10))).toBe(true);
    expect(r.headers.get('cache-control')).toMatch(/^private,/);
  });

  it('an empty video is a 200 with no body, and any range of it a 416', async () => {
    const s = await start({ origin: { files: { 'videos/empty.mp4': new Uint8Array(0) } } });
    const whole = await fetch(`${s.serverUrl}/api/video/empty.mp4`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-length')).toBe('0');
    expect((await whole.arrayBuffer()).byteLength).toBe(0);
    const ranged = await fetch(`${s.serverUrl}/api/video/empty.mp4`, { headers: { range: 'bytes=0-' } });
    expect(ranged.status).toBe(416);
    expect(ranged.headers.get('content-range')).toBe('bytes */0');
  });
});
