import { readFile } from 'node:fs/promises';
import parseDDSRef from 'parse-dds';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isTileError } from '../../src/protocol/errors.js';
import { decodeBC1, decodeBC3 } from '../../src/wasm/blockCodec.js';
import { parseDDS } from '../../src/wasm/dds.js';
import { DEFAULT_DDS_MAX_PIXELS, maxInputBytes, rasterToDDS } from './rasterToDDS.js';

const fixture = (name: string) => readFile(new URL(`../../fixtures/images/${name}`, import.meta.url));

async function tile(
  format: 'jpeg' | 'png' | 'webp',
  alpha: boolean,
): Promise<{ bytes: Uint8Array; rgba: Uint8Array }> {
  let img = sharp(await fixture('coffee.png')).resize(256, 256);
  if (alpha) img = img.ensureAlpha(0.5);
  else img = img.removeAlpha();
  const bytes = new Uint8Array(
    await img.toFormat(format, { quality: 90, lossless: format === 'webp' }).toBuffer(),
  );
  const { data } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { bytes, rgba: new Uint8Array(data) };
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) if (i % 4 !== 3) s += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10((255 * 255 * a.length * 0.75) / s);
}

describe('rasterToDDS', () => {
  for (const [format, alpha] of [
    ['jpeg', false],
    ['png', true],
    ['webp', false],
    ['webp', true],
  ] as const) {
    it(`turns ${format}${alpha ? ' with alpha' : ''} into ${alpha ? 'DXT5' : 'DXT1'} with a full mip chain`, async () => {
      const { bytes, rgba } = await tile(format, alpha);
      const dds = await rasterToDDS(bytes, new AbortController().signal);
      const ref = parseDDSRef(
        dds.buffer.slice(dds.byteOffset, dds.byteOffset + dds.byteLength) as ArrayBuffer,
      );
      expect(ref.format).toBe(alpha ? 'dxt5' : 'dxt1');
      expect(ref.images.length).toBe(9);
      const p = parseDDS(dds);
      const top = p.levels[0]!;
      const px = alpha ? decodeBC3(top.data, 256, 256) : decodeBC1(top.data, 256, 256);
      expect(psnr(rgba, px)).toBeGreaterThan(30);
      if (alpha) expect(Math.abs(px[3]! - 128)).toBeLessThanOrEqual(1);
    });
  }

  it('answers BAD_IMAGE for bytes that are not an image, and ABORTED when aborted', async () => {
    await expect(rasterToDDS(new Uint8Array([1, 2, 3, 4]), new AbortController().signal)).rejects.toSatisfy(
      (e) => isTileError(e, 'BAD_IMAGE'),
    );
    const truncated = (await tile('jpeg', false)).bytes.subarray(0, 200);
    await expect(rasterToDDS(truncated, new AbortController().signal)).rejects.toSatisfy((e) =>
      isTileError(e, 'BAD_IMAGE'),
    );
    const ac = new AbortController();
    ac.abort();
    await expect(rasterToDDS((await tile('png', false)).bytes, ac.signal)).rejects.toSatisfy((e) =>
      isTileError(e, 'ABORTED'),
    );
  });
});

describe('rasterToDDS bounds (DDS_MAX_PIXELS)', () => {
  const png = (w: number, h: number) =>
    sharp({ create: { width: w, height: h, channels: 3, background: { r: 10, g: 20, b: 30 } } })
      .png()
      .toBuffer()
      .then((b) => new Uint8Array(b));

  it('refuses a raster over maxPixels with IMAGE_TOO_LARGE (from its header), and converts one at the limit', async () => {
    const signal = new AbortController().signal;
    await expect(rasterToDDS(await png(257, 256), signal, { maxPixels: 256 * 256 })).rejects.toSatisfy(
      (e) => isTileError(e, 'IMAGE_TOO_LARGE') && e.details['limit'] === 256 * 256,
    );
    const ok = await rasterToDDS(await png(256, 256), signal, { maxPixels: 256 * 256 });
    expect(parseDDS(ok).width).toBe(256);
    // The default bound is 1024x1024.
    expect(DEFAULT_DDS_MAX_PIXELS).toBe(1024 * 1024);
    await expect(rasterToDDS(await png(1025, 1024), signal)).rejects.toSatisfy((e) =>
      isTileError(e, 'IMAGE_TOO_LARGE'),
    );
  });

  it('refuses input bytes over maxInputBytes(maxPixels) before looking at them', async () => {
    const max = maxInputBytes(16);
    expect(max).toBe(16 * 5 + 1024 * 1024);
    const huge = new Uint8Array(max + 1);
    await expect(rasterToDDS(huge, new AbortController().signal, { maxPixels: 16 })).rejects.toSatisfy((e) =>
      isTileError(e, 'IMAGE_TOO_LARGE'),
    );
  });
});
