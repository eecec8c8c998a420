import { beforeAll, describe, expect, it } from 'vitest';
import { refDecode } from '../../test/support/wasm/reference/bcDecode.js';
import { refEncode } from '../../test/support/wasm/reference/bcEncode.js';
import { isTileError } from '../protocol/errors.js';
import { decodeBC1, decodeBC3, encodeBC1, encodeBC3 } from './blockCodec.js';
import { type CodecModule, instantiateCodecModule } from './codecModule.js';

/** A smooth photo-like test image: gradients, a soft disc, texture noise; alpha ramps. */
function synthetic(w: number, h: number, seed = 1): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  let s = seed;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const n = (s >>> 24) / 16 - 8;
      const d = Math.hypot(x - w / 2, y - h / 3) < Math.min(w, h) / 4 ? 60 : 0;
      const o = (y * w + x) * 4;
      out[o] = Math.max(0, Math.min(255, (x * 255) / w + n + d));
      out[o + 1] = Math.max(0, Math.min(255, (y * 255) / h - n));
      out[o + 2] = Math.max(0, Math.min(255, 128 + 100 * Math.sin((x + y) / 9) + d));
      out[o + 3] = (x * 7 + y * 3) & 255;
    }
  }
  return out;
}

function psnr(a: Uint8Array, b: Uint8Array, channels: number[]): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < a.length; i += 4) {
    for (const c of channels) {
      s += (a[i + c]! - b[i + c]!) ** 2;
      n++;
    }
  }
  return s === 0 ? 99 : 10 * Math.log10((255 * 255 * n) / s);
}

const RGB = [0, 1, 2];

for (const flavour of ['simd', 'scalar'] as const) {
  describe(`BC encode (${flavour} wasm)`, () => {
    let mod: CodecModule;
    beforeAll(async () => {
      mod = await instantiateCodecModule(flavour);
    });

    it('beats the reference encoder on BC1 and BC3, high at least as good as fast', () => {
      const w = 96;
      const h = 64;
      const img = synthetic(w, h);
      const ref1 = psnr(img, refDecode('bc1', refEncode('bc1', img, w, h), w, h), RGB);
      const opaque = img.slice();
      for (let i = 3; i < opaque.length; i += 4) opaque[i] = 255;
      const fast = psnr(
        opaque,
        decodeBC1(encodeBC1(opaque, w, h, { quality: 'fast' }, mod), w, h, undefined, mod),
        RGB,
      );
      const high = psnr(
        opaque,
        decodeBC1(encodeBC1(opaque, w, h, { quality: 'high' }, mod), w, h, undefined, mod),
        RGB,
      );
      expect(fast).toBeGreaterThan(ref1 + 0.5);
      expect(high).toBeGreaterThanOrEqual(fast);
      const ref3 = refDecode('bc3', refEncode('bc3', img, w, h), w, h);
      const ours3 = decodeBC3(encodeBC3(img, w, h, {}, mod), w, h, undefined, mod);
      expect(psnr(img, ours3, RGB)).toBeGreaterThan(psnr(img, ref3, RGB));
      expect(psnr(img, ours3, [3])).toBeGreaterThanOrEqual(psnr(img, ref3, [3]));
    });

    it('encodes odd sizes (1x1, 3x5, 4097x3) with replicated edges', () => {
      for (const [w, h] of [
        [1, 1],
        [3, 5],
        [4097, 3],
      ] as const) {
        const img = synthetic(w, h, w + h);
        const opaque = img.map((v, i) => (i % 4 === 3 ? 255 : v));
        const b1 = encodeBC1(opaque, w, h, {}, mod);
        expect(b1.length).toBe(Math.ceil(w / 4) * Math.ceil(h / 4) * 8);
        const d1 = decodeBC1(b1, w, h, undefined, mod);
        expect(d1).toEqual(refDecode('bc1', b1, w, h));
        const ref = refDecode('bc1', refEncode('bc1', opaque, w, h), w, h);
        expect(psnr(img, d1, RGB)).toBeGreaterThanOrEqual(psnr(img, ref, RGB));
        if (w === 1) expect(psnr(img, d1, RGB)).toBeGreaterThan(40);
        const b3 = encodeBC3(img, w, h, { quality: 'fast' }, mod);
        expect(b3.length).toBe(Math.ceil(w / 4) * Math.ceil(h / 4) * 16);
        expect(psnr(img, decodeBC3(b3, w, h, undefined, mod), [3])).toBeGreaterThan(30);
      }
    });

    it('reproduces solid colours and exact 0/255 alpha', () => {
      const img = new Uint8Array(8 * 8 * 4);
      for (let i = 0; i < img.length; i += 4) img.set([200, 17, 99, (i / 4) % 2 ? 0 : 255], i);
      const d = decodeBC3(encodeBC3(img, 8, 8, {}, mod), 8, 8, undefined, mod);
      for (let i = 0; i < d.length; i += 4) {
        expect(
          Math.abs(d[i]! - 200) + Math.abs(d[i + 1]! - 17) + Math.abs(d[i + 2]! - 99),
        ).toBeLessThanOrEqual(3);
        expect(d[i + 3]).toBe(img[i + 3]);
      }
    });

    it('keeps BC1 punch-through alpha, and uses black for dark texels only when alpha is ignored', () => {
      const w = 8;
      const h = 8;
      const img = synthetic(w, h, 3);
      for (let i = 0; i < img.length; i += 4) img[i + 3] = (i / 4) % 3 === 0 ? 0 : 255;
      const d = decodeBC1(encodeBC1(img, w, h, {}, mod), w, h, undefined, mod);
      for (let i = 3; i < d.length; i += 4) expect(d[i]).toBe(img[i]! < 128 ? 0 : 255);
      const dark = new Uint8Array(4 * 4 * 4);
      for (let i = 0; i < 16; i++) dark.set(i % 2 ? [0, 0, 0, 255] : [250, 240, 10, 255], i * 4);
      const keep = decodeBC1(encodeBC1(dark, 4, 4, { alpha: 'keep' }, mod), 4, 4, undefined, mod);
      expect(keep.filter((v, i) => i % 4 === 3 && v !== 255).length).toBe(0);
      const ignore = decodeBC1(encodeBC1(dark, 4, 4, { alpha: 'ignore' }, mod), 4, 4, undefined, mod);
      expect(psnr(dark, ignore, RGB)).toBeGreaterThanOrEqual(psnr(dark, keep, RGB));
    });

    it('rejects bad input with coded errors and keeps working', () => {
      const bad: [() => unknown, string][] = [
        [() => encodeBC1(new Uint8Array(15), 2, 2, {}, mod), 'BAD_IMAGE'],
        [() => encodeBC3(new Uint8Array(0), 0, 0, {}, mod), 'BAD_IMAGE'],
        [() => encodeBC1(new Uint8Array(4), 1, -1, {}, mod), 'BAD_IMAGE'],
      ];
      for (const [fn, code] of bad) {
        let err: unknown;
        try {
          fn();
        } catch (e) {
          err = e;
        }
        expect(isTileError(err) && err.code).toBe(code);
      }
      expect(encodeBC1(new Uint8Array(64), 4, 4, {}, mod).length).toBe(8);
    });
  });
}
