import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MockOrigin, startMockOrigin } from './MockOrigin.js';

const same = (a: Uint8Array | undefined, b: Uint8Array) => !!a && Buffer.compare(a, b) === 0;
const big = new Uint8Array(256 * 1024).map((_, i) => (i * 7) & 0xff);
let origin: MockOrigin;
let dir: string;
const agent = new Agent({ connections: 16 });

async function get(path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') {
  const res = await request(origin.url + path, { method, headers, dispatcher: agent });
  const body = new Uint8Array(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mock-origin-'));
  await mkdir(join(dir, 'sample', '0', '0'), { recursive: true });
  await writeFile(join(dir, 'sample', '0', '0', '0.jpg'), 'jpeg-bytes');
  await writeFile(join(dir, 'secret.txt'), 'outside');
});
afterAll(async () => {
  await agent.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await origin?.close();
});

describe('MockOrigin', () => {
  it('serves files and in-memory objects with Content-Type, ETag and counts per key', async () => {
    origin = await startMockOrigin({ root: join(dir, 'sample'), files: { 'a/b.png': 'png!' } });
    const a = await get('/0/0/0.jpg');
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('image/jpeg');
    expect(new TextDecoder().decode(a.body)).toBe('jpeg-bytes');
    const b = await get('/a/b.png', { 'x-probe': '1' });
    expect(b.headers['content-type']).toBe('image/png');
    expect(typeof b.headers.etag).toBe('string');
    expect((await get('/missing.jpg')).status).toBe(404);
    expect((await get('/../secret.txt')).status).toBe(404);
    expect((await get('/%2e%2e/secret.txt')).status).toBe(404);
    expect(origin.count()).toBe(5);
    expect(origin.count('a/b.png')).toBe(1);
    expect(origin.requests.find((r) => r.key === 'a/b.png')?.headers['x-probe']).toBe('1');
    origin.resetCounts();
    expect(origin.count()).toBe(0);
    origin.set({ maxRecorded: 1 });
    await get('/a/b.png');
    await get('/a/b.png');
    expect(origin.requests).toHaveLength(1);
    expect(origin.count('a/b.png')).toBe(2);
  });

  it('answers its counts path with the per-key counts under a prefix, without counting itself', async () => {
    origin = await startMockOrigin({ root: join(dir, 'sample'), countsPath: '/_mock/counts' });
    await get('/0/0/0.jpg');
    await get('/0/0/0.jpg');
    await get('/missing.jpg');
    const all = JSON.parse(new TextDecoder().decode((await get('/_mock/counts')).body));
    expect(all).toEqual({ total: 3, keys: { '0/0/0.jpg': 2, 'missing.jpg': 1 } });
    const some = JSON.parse(new TextDecoder().decode((await get('/_mock/counts?prefix=0/')).body));
    expect(some).toEqual({ total: 2, keys: { '0/0/0.jpg': 2 } });
    expect(origin.count()).toBe(3);
    // Without the option the path is an ordinary (missing) key.
    await origin.close();
    origin = await startMockOrigin({ root: join(dir, 'sample') });
    expect((await get('/_mock/counts')).status).toBe(404);
  });

  it('answers ranges with 206 / 416 and Content-Range, HEAD without a body, If-None-Match with 304', async () => {
    origin = await startMockOrigin({ files: { 'v.mp4': big } });
    const r = await get('/v.mp4', { range: 'bytes=10-19' });
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes 10-19/${big.length}`);
    expect(same(r.body, big.subarray(10, 20))).toBe(true);
    const suffix = await get('/v.mp4', { range: 'bytes=-5' });
    expect(same(suffix.body, big.subarray(big.length - 5))).toBe(true);
    const bad = await get('/v.mp4', { range: `bytes=${big.length}-` });
    expect(bad.status).toBe(416);
    expect(bad.headers['content-range']).toBe(`bytes */${big.length}`);
    const head = await get('/v.mp4', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(big.length));
    expect(head.body.length).toBe(0);
    const full = await get('/v.mp4');
    const cond = await get('/v.mp4', { 'if-none-match': String(full.headers.etag) });
    expect(cond.status).toBe(304);
    expect(cond.body.length).toBe(0);
  });

  it('adds latency before the headers', async () => {
    origin = await startMockOrigin({ files: { k: 'x' }, latencyMs: 120 });
    const t0 = performance.now();
    await get('/k');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(110);
  });

  it('caps bandwidth across all connections together', async () => {
    // 2 x 256 KiB at 1 MiB/s shared: ~0.5 s in total, not ~0.25 s.
    origin = await startMockOrigin({ files: { k: big }, bandwidthBytesPerSec: 1024 * 1024 });
    const t0 = performance.now();
    const [a, b] = await Promise.all([get('/k'), get('/k')]);
    const elapsed = performance.now() - t0;
    expect(same(a.body, big)).toBe(true);
    expect(same(b.body, big)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(420);
    expect(elapsed).toBeLessThan(5000);
  });

  it('injects seeded 5xx at the configured rate, reproducibly', async () => {
    const run = async () => {
      origin = await startMockOrigin({ files: { k: 'x' }, errorRate: 0.3, seed: 42 });
      const statuses: number[] = [];
      for (let i = 0; i < 100; i++) statuses.push((await get('/k')).status);
      await origin.close();
      return statuses;
    };
    const first = await run();
    const second = await run();
    const errors = first.filter((s) => s === 503).length;
    expect(errors).toBeGreaterThan(15);
    expect(errors).toBeLessThan(45);
    expect(first.every((s) => s === 200 || s === 503)).toBe(true);
    expect(second).toEqual(first);
  });

  it('overrides the status per key, with Retry-After on 429', async () => {
    origin = await startMockOrigin({
      files: { a: 'x', b: 'y' },
      status: (k) => (k === 'a' ? 429 : undefined),
      retryAfterSec: 3,
    });
    const a = await get('/a');
    expect(a.status).toBe(429);
    expect(a.headers['retry-after']).toBe('3');
    expect((await get('/b')).status).toBe(200);
  });

  it('hangs without answering and counts the client that gives up as aborted', async () => {
    origin = await startMockOrigin({ files: { k: 'x' }, hang: (k) => k === 'k' });
    await expect(
      request(`${origin.url}/k`, { dispatcher: agent, signal: AbortSignal.timeout(150) }),
    ).rejects.toThrow();
    for (let i = 0; i < 50 && origin.aborted() === 0; i++) await sleep(10);
    expect(origin.aborted()).toBe(1);
    expect(origin.count('k')).toBe(1);
  });

  it('resets the socket half-way through the body', async () => {
    origin = await startMockOrigin({ files: { k: big }, resetMidBody: true });
    const res = await request(`${origin.url}/k`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    await expect(res.body.arrayBuffer()).rejects.toThrow();
    expect(origin.aborted()).toBe(0);
  });

  it('sends a short body: fewer bytes than Content-Length, then closes', async () => {
    origin = await startMockOrigin({ files: { k: big }, shortBody: true });
    const res = await request(`${origin.url}/k`, { dispatcher: agent });
    expect(res.headers['content-length']).toBe(String(big.length));
    await expect(res.body.arrayBuffer()).rejects.toThrow();
  });

  it('drips the body slowly', async () => {
    origin = await startMockOrigin({ files: { k: new Uint8Array(8 * 1024) }, slowBodyMs: 30 });
    const t0 = performance.now();
    const r = await get('/k');
    expect(r.body.length).toBe(8 * 1024);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(7 * 30 - 10);
  });

  it('changes settings mid-run and reports open connections', async () => {
    origin = await startMockOrigin({ files: { k: 'x' } });
    expect((await get('/k')).status).toBe(200);
    expect(origin.connections()).toBeGreaterThanOrEqual(1);
    origin.set({ status: () => 503 });
    expect((await get('/k')).status).toBe(503);
    origin.set({ status: undefined, files: { k: 'new' } });
    expect(new TextDecoder().decode((await get('/k')).body)).toBe('new');
  });
});
