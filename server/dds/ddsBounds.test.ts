import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { useStack } from '../../e2e/harness/useStack.js';
import { BATCH_MEDIA_TYPE, BatchFrameDecoder } from '../../src/protocol/batchFraming.js';
import { get } from '../../test/support/server/faultKit.js';

const start = useStack();

const jpeg = (w: number, h: number) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 90, b: 30 } } })
    .jpeg()
    .toBuffer();

describe('.dds conversion is bounded (DDS_MAX_PIXELS, DDS_CONCURRENCY)', () => {
  it('a source raster over DDS_MAX_PIXELS is a 502 IMAGE_TOO_LARGE (single and batch); the server keeps converting others', async () => {
    const s = await start({
      origin: { files: { 'ds/1/0/0.jpg': await jpeg(512, 512), 'ds/1/1/0.jpg': await jpeg(256, 256) } },
      config: { ddsMaxPixels: 256 * 256 },
    });
    const big = await get(`${s.serverUrl}/api/tiles/ds/1/0/0.dds`);
    expect([big.status, big.code]).toEqual([502, 'IMAGE_TOO_LARGE']);
    expect(big.headers.get('x-content-type-options')).toBe('nosniff');
    expect(JSON.parse(big.bytes.toString())).toEqual({
      error: {
        code: 'IMAGE_TOO_LARGE',
        message: 'the source tile at the origin is too large to convert',
        limit: 256 * 256,
      },
    });
    expect(s.origin.count('ds/1/0/0.jpg')).toBe(1);
    const small = await get(`${s.serverUrl}/api/tiles/ds/1/1/0.dds`);
    expect(small.status).toBe(200);
    expect(small.bytes.toString('latin1', 0, 4)).toBe('DDS ');
    // The raster itself is still served as it is.
    expect((await get(`${s.serverUrl}/api/tiles/ds/1/0/0.jpg`)).status).toBe(200);
    const b = await get(`${s.serverUrl}/api/tiles/ds/batch?tiles=1/0/0.dds&tiles=1/1/0.dds`, {
      headers: { Accept: BATCH_MEDIA_TYPE },
    });
    const dec = new BatchFrameDecoder();
    const frames = dec.push(b.bytes);
    dec.finish();
    const byKey = Object.fromEntries(frames.flatMap((f) => (f.kind === 'end' ? [] : [[f.key, f]])));
    expect(byKey['1/0/0.dds']).toMatchObject({
      kind: 'error',
      error: { code: 'IMAGE_TOO_LARGE', status: 502 },
    });
    expect(byKey['1/1/0.dds']).toMatchObject({ kind: 'tile', meta: { contentType: 'image/vnd-ms.dds' } });
  });

  it('runs at most DDS_CONCURRENCY conversions at once, the rest wait their turn and all succeed', async () => {
    const files: Record<string, Buffer> = {};
    const keys: string[] = [];
    for (let x = 0; x < 8; x++) {
      files[`ds/3/${x}/0.jpg`] = Buffer.from(`raster-${x}`);
      keys.push(`3/${x}/0.dds`);
    }
    let running = 0;
    let peak = 0;
    let calls = 0;
    const s = await start({
      origin: { files },
      config: { ddsConcurrency: 2 },
      deps: {
        toDDS: async (raster) => {
          calls++;
          running++;
          peak = Math.max(peak, running);
          await sleep(15);
          running--;
          return new Uint8Array([...Buffer.from('DDS '), ...raster]);
        },
      },
    });
    const r = await get(`${s.serverUrl}/api/tiles/ds/batch?${keys.map((k) => `tiles=${k}`).join('&')}`);
    const body = JSON.parse(r.bytes.toString()) as { count: number; tiles: Record<string, string> };
    expect(body.count).toBe(8);
    for (let x = 0; x < 8; x++) {
      expect(Buffer.from(body.tiles[`3/${x}/0.dds`]!, 'base64').toString()).toBe(`DDS raster-${x}`);
    }
    expect(peak).toBe(2);
    expect(calls).toBe(8);
    const m = (await get(`${s.serverUrl}/metrics`)).bytes.toString();
    expect(m).toMatch(/^tile_dds_conversions_active 0$/m);
    expect(m).toMatch(/^tile_dds_conversions_queued 0$/m);
  });
});
