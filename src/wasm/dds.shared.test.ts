import { beforeAll, describe, expect, it } from 'vitest';
import { isTileError } from '../protocol/errors.js';
import { decodeBC1, decodeBC3, encodeBC1 } from './blockCodec.js';
import { type CodecModule, instantiateCodecModule } from './codecModule.js';
import { encodeDDS, parseDDS } from './dds.js';

function image(w: number, h: number, alpha: boolean): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      out.set([(x * 255) / w, (y * 255) / h, (x ^ y) & 255, alpha ? (x * 4) & 255 : 255], (y * w + x) * 4);
    }
  }
  return out;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isTileError(e)) return e.code;
    throw e;
  }
  return undefined;
}

for (const flavour of ['simd', 'scalar'] as const) {
  describe(`DDS (${flavour} wasm)`, () => {
    let mod: CodecModule;
    beforeAll(async () => {
      mod = await instantiateCodecModule(flavour);
    });

    it('writes DXT1 for opaque and DXT5 for alpha, with a full chain, flags and linear size', () => {
      for (const [w, h, alpha] of [
        [64, 32, false],
        [5, 3, true],
        [1, 1, false],
      ] as const) {
        const dds = encodeDDS(image(w, h, alpha), w, h, { quality: 'fast' }, mod);
        const dv = new DataView(dds.buffer);
        const count = Math.floor(Math.log2(Math.max(w, h))) + 1;
        const fmt = alpha ? 'bc3' : 'bc1';
        const size = (lw: number, lh: number) => Math.ceil(lw / 4) * Math.ceil(lh / 4) * (alpha ? 16 : 8);
        expect(String.fromCharCode(...dds.subarray(84, 88))).toBe(alpha ? 'DXT5' : 'DXT1');
        expect(dv.getUint32(8, true)).toBe(0x1 | 0x2 | 0x4 | 0x1000 | 0x80000 | (count > 1 ? 0x20000 : 0));
        expect(dv.getUint32(20, true)).toBe(size(w, h));
        expect(dv.getUint32(108, true)).toBe(0x1000 | (count > 1 ? 0x400008 : 0));
        const p = parseDDS(dds);
        expect([p.format, p.width, p.height, p.levels.length]).toEqual([fmt, w, h, count]);
        const last = p.levels.at(-1)!;
        expect([last.width, last.height]).toEqual([1, 1]);
        let total = 128;
        for (const l of p.levels) total += size(l.width, l.height);
        expect(dds.length).toBe(total);
        // level 0 is exactly what the block encoder gives
        if (!alpha)
          expect(p.levels[0]!.data).toEqual(encodeBC1(image(w, h, false), w, h, { quality: 'fast' }, mod));
      }
    });

    it('filters mips as a box in linear light (a solid image stays solid, black/white -> sRGB 188)', () => {
      const w = 8;
      const solid = new Uint8Array(w * w * 4).fill(200);
      for (let i = 3; i < solid.length; i += 4) solid[i] = 255;
      const p = parseDDS(encodeDDS(solid, w, w, {}, mod));
      for (const l of p.levels) {
        const px = decodeBC1(l.data, l.width, l.height, undefined, mod);
        expect(
          Math.max(...px.filter((_, i) => i % 4 !== 3).map((v) => Math.abs(v - 200))),
        ).toBeLessThanOrEqual(2);
      }
      const checker = new Uint8Array(4 * 4 * 4);
      for (let i = 0; i < 16; i++)
        checker.set(((i >> 2) + i) % 2 ? [255, 255, 255, 128] : [0, 0, 0, 128], i * 4);
      const q = parseDDS(encodeDDS(checker, 4, 4, {}, mod));
      const mip1 = decodeBC3(q.levels[1]!.data, 2, 2, undefined, mod);
      // linear average 0.5 -> sRGB 0.735 -> 188 (an sRGB-space average would give 128)
      expect(Math.abs(mip1[0]! - 188)).toBeLessThanOrEqual(3);
      expect(mip1[3]).toBe(128);
    });

    it('rejects every truncation and corruption with a coded error, and keeps working', () => {
      const dds = encodeDDS(image(8, 8, true), 8, 8, { quality: 'fast' }, mod);
      for (let n = 0; n < dds.length; n++) {
        const code = codeOf(() => parseDDS(dds.subarray(0, n)));
        expect(code).toBe('TRUNCATED');
      }
      const corrupt = (at: number, value: number) => {
        const c = dds.slice();
        new DataView(c.buffer).setUint32(at, value, true);
        return codeOf(() => parseDDS(c));
      };
      expect(corrupt(0, 0x12345678)).toBe('BAD_DDS'); // magic
      expect(corrupt(4, 100)).toBe('BAD_DDS'); // header size
      expect(corrupt(84, 0x33545844)).toBe('BAD_DDS'); // DXT3
      expect(corrupt(80, 0x40)).toBe('BAD_DDS'); // no FourCC
      expect(corrupt(16, 0)).toBe('BAD_DDS'); // width 0
      expect(corrupt(12, 0xffffffff)).toBe('BAD_DDS'); // absurd height
      expect(corrupt(28, 9)).toBe('BAD_DDS'); // more mips than 8x8 allows
      expect(corrupt(112, 0x200)).toBe('BAD_DDS'); // cube map
      expect(corrupt(16, 4096)).toBe('TRUNCATED'); // levels past the end
      expect(codeOf(() => parseDDS(new Uint8Array([0x44, 0x44, 0x53, 0x21, 1])))).toBe('BAD_DDS');
      expect(parseDDS(dds).levels.length).toBe(4);
      expect(codeOf(() => encodeDDS(new Uint8Array(3), 1, 1, {}, mod))).toBe('BAD_IMAGE');
    });
  });
}
