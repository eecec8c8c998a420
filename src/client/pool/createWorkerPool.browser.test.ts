import { afterEach, describe, expect, it } from 'vitest';
import { isTileError } from '../../protocol/errors.js';
import { createWorkerPool, type WorkerPool } from './index.js';

/** A 4x2 PNG whose pixels are known: red, green, blue, white / black x4 with alpha 255. */
async function testPng(): Promise<Uint8Array> {
  const c = new OffscreenCanvas(4, 2);
  const ctx = c.getContext('2d')!;
  const colours = ['#ff0000', '#00ff00', '#0000ff', '#ffffff'];
  colours.forEach((col, i) => {
    ctx.fillStyle = col;
    ctx.fillRect(i, 0, 1, 1);
  });
  ctx.fillStyle = '#000000';
  ctx.fillRect(0, 1, 4, 1);
  const blob = await c.convertToBlob({ type: 'image/png' });
  return new Uint8Array(await blob.arrayBuffer());
}

function codecWorker(): Worker {
  return new Worker(new URL('../codecWorker.ts', import.meta.url), { type: 'module' });
}

function scriptWorker(source: string): Worker {
  return new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
}

let pool: WorkerPool | undefined;
afterEach(() => {
  pool?.close();
  pool = undefined;
});

describe('worker pool in Chromium', () => {
  it('decodes a PNG to exact RGBA in a worker and transfers the input (zero copy)', async () => {
    pool = createWorkerPool({ size: 2, createWorker: codecWorker });
    const png = await testPng();
    const res = await pool.decode(png, { as: 'rgba' });
    expect(png.byteLength).toBe(0); // detached: the buffer moved to the worker
    expect(res).toMatchObject({ kind: 'rgba', width: 4, height: 2 });
    expect([...res.data.subarray(0, 16)]).toEqual([
      255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255,
    ]);
    expect([...res.data.subarray(16, 20)]).toEqual([0, 0, 0, 255]);
  });

  it('returns an ImageBitmap for as: bitmap, and keeps the input with transfer: false', async () => {
    pool = createWorkerPool({ size: 1, createWorker: codecWorker });
    const png = await testPng();
    const res = await pool.decode(png, { as: 'bitmap', transfer: false });
    expect(png.byteLength).toBeGreaterThan(0);
    expect(res.bitmap).toBeInstanceOf(ImageBitmap);
    expect([res.bitmap.width, res.bitmap.height]).toEqual([4, 2]);
  });

  it('fails garbage with BAD_IMAGE and keeps working', async () => {
    pool = createWorkerPool({ size: 1, createWorker: codecWorker });
    await expect(pool.decode(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), { as: 'rgba' })).rejects.toSatisfy(
      (e) => isTileError(e, 'BAD_IMAGE'),
    );
    const jpegish = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0, 0, 0]);
    await expect(pool.decode(jpegish, { as: 'rgba' })).rejects.toSatisfy((e) => isTileError(e, 'BAD_IMAGE'));
    const ok = await pool.decode(await testPng(), { as: 'rgba' });
    expect(ok.width).toBe(4);
  });

  it('replaces a worker that crashes, failing only its job with WORKER_CRASHED', async () => {
    let made = 0;
    pool = createWorkerPool({
      size: 1,
      createWorker: () => (made++ === 0 ? scriptWorker('throw new Error("boom")') : codecWorker()),
    });
    const doomed = pool.decode(await testPng(), { as: 'rgba' });
    await expect(doomed).rejects.toSatisfy((e) => isTileError(e, 'WORKER_CRASHED'));
    const ok = await pool.decode(await testPng(), { as: 'rgba' });
    expect(ok.width).toBe(4);
    expect(made).toBe(2);
    expect(pool.stats()).toMatchObject({ crashed: 1, completed: 1 });
  });

  it('terminates a worker stuck past the deadline and serves the next job on a new one', async () => {
    let made = 0;
    pool = createWorkerPool({
      size: 1,
      createWorker: () =>
        made++ === 0 ? scriptWorker('self.onmessage = () => { for (;;) {} };') : codecWorker(),
    });
    const t0 = performance.now();
    await expect(pool.decode(await testPng(), { as: 'rgba', deadlineMs: 300 })).rejects.toSatisfy((e) =>
      isTileError(e, 'DEADLINE_EXCEEDED'),
    );
    expect(performance.now() - t0).toBeLessThan(2000);
    const ok = await pool.decode(await testPng(), { as: 'rgba' });
    expect(ok.width).toBe(4);
    expect(made).toBe(2);
  });

  it('runs visible jobs before queued prefetch jobs on a busy pool', async () => {
    pool = createWorkerPool({ size: 1, createWorker: codecWorker });
    const png = await testPng();
    const done: string[] = [];
    const jobs = [
      ...['p1', 'p2', 'p3'].map((n) =>
        pool!.decode(png.slice(), { as: 'rgba', priority: 'prefetch' }).then(() => done.push(n)),
      ),
      ...['v1', 'v2'].map((n) => pool!.decode(png.slice(), { as: 'rgba' }).then(() => done.push(n))),
    ];
    await Promise.all(jobs);
    // p1 was already running when the visible jobs arrived; the other prefetch jobs waited.
    expect(done).toEqual(['p1', 'v1', 'v2', 'p2', 'p3']);
  });

  it('an aborted queued job never reaches a worker', async () => {
    pool = createWorkerPool({ size: 1, createWorker: codecWorker });
    const png = await testPng();
    const first = pool.decode(png.slice(), { as: 'rgba' });
    const ac = new AbortController();
    const second = pool.decode(png.slice(), { as: 'rgba', signal: ac.signal });
    ac.abort();
    await expect(second).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    await first;
    expect(pool.stats()).toMatchObject({ completed: 1, cancelled: 1 });
  });

  it('fetches and decodes a JSON batch in a worker (codec fast path), keeping nulls and cache_stats', async () => {
    pool = createWorkerPool({ size: 1, createWorker: codecWorker });
    const a = new Uint8Array(5000).map((_, i) => (i * 31) & 255);
    const b64 = (u: Uint8Array) => btoa(String.fromCharCode(...u));
    const body = JSON.stringify({
      dataset_id: 'sample',
      count: 2,
      tiles: { '3/1/2.jpg': b64(a), '3/7/7.jpg': null },
      cache_stats: { hit_rate: '50.0%' },
    });
    const url = URL.createObjectURL(new Blob([body], { type: 'application/json' }));
    const res = await pool.fetchJsonBatch(url);
    expect(res.tiles['3/1/2.jpg']).toEqual(a);
    expect(res.tiles['3/7/7.jpg']).toBeNull();
    expect(res.cacheStats).toEqual({ hit_rate: '50.0%' });
    const bad = URL.createObjectURL(new Blob(['{"tiles": {"0/0/0.jpg": "@@@@"}}']));
    await expect(pool.fetchJsonBatch(bad)).rejects.toSatisfy((e) => isTileError(e, 'BAD_BASE64'));
  });

  it('encodes a PNG to BC1 blocks and raw RGBA to BC3 in a worker with the WASM codec', async () => {
    pool = createWorkerPool({ size: 1, createWorker: codecWorker });
    const bc1 = await pool.decode(await testPng(), { as: 'bc1' });
    expect(bc1).toMatchObject({ kind: 'blocks', format: 'bc1', width: 4, height: 2 });
    expect(bc1.data.byteLength).toBe(8); // one 4x4 block (edge rows padded)
    // Same bytes as the codec gives on the main thread for the same pixels (opaque source: alpha ignored).
    const { initCodecs, encodeBC1 } = await import('../../wasm/index.js');
    await initCodecs();
    const px = await pool.decode(await testPng(), { as: 'rgba' });
    expect(bc1.data).toEqual(encodeBC1(px.data, 4, 2, { quality: 'fast', alpha: 'ignore' }));
    const rgba = new Uint8Array(8 * 8 * 4).fill(200);
    const bc3 = await pool.decode(rgba, { as: 'bc3', rgba: { width: 8, height: 8 } });
    expect(bc3).toMatchObject({ format: 'bc3', width: 8, height: 8 });
    expect(bc3.data.byteLength).toBe(4 * 16);
  });

  it('decodes a DDS to RGBA and hands out its raw blocks for every mip level', async () => {
    pool = createWorkerPool({ size: 1, createWorker: codecWorker });
    const { initCodecs, encodeDDS, parseDDS, decodeBC1 } = await import('../../wasm/index.js');
    await initCodecs();
    const px = new Uint8Array(16 * 8 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 13) & 255));
    const dds = encodeDDS(px, 16, 8, { format: 'bc1', mipmaps: true });
    const ref = parseDDS(dds);
    const expected = decodeBC1(ref.levels[0]!.data, 16, 8);
    const blocks = await pool.decode(dds.slice(), { as: 'blocks' });
    expect(blocks.format).toBe('bc1');
    expect(blocks.levels.map((l) => [l.width, l.height])).toEqual(ref.levels.map((l) => [l.width, l.height]));
    expect(blocks.data).toEqual(ref.levels[0]!.data);
    const rgba = await pool.decode(dds.slice(), { as: 'rgba' });
    expect(rgba.data).toEqual(expected);
    const truncated = dds.slice(0, dds.length - 10);
    await expect(pool.decode(truncated, { as: 'rgba' })).rejects.toSatisfy((e) => isTileError(e));
  });
});
