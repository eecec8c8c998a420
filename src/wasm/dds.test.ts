import decodeDXT from 'decode-dxt';
import dxt from 'dxt-js';
import parseDDSRef from 'parse-dds';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeBC1, decodeBC3 } from './blockCodec.js';
import { type CodecModule, initCodecs } from './codecModule.js';
import { encodeDDS, isOpaque, parseDDS } from './dds.js';

async function photo(name: string, size: number, alpha: boolean): Promise<Uint8Array> {
  const img = sharp(new URL(`../../fixtures/images/${name}`, import.meta.url).pathname).resize(size, size);
  const { data } = await img.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const px = new Uint8Array(data);
  if (alpha) for (let i = 3; i < px.length; i += 4) px[i] = (i >> 4) & 255;
  return px;
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('our DDS files in the reference parsers and decoders', () => {
  let mod: CodecModule;
  beforeAll(async () => {
    mod = await initCodecs();
  });

  for (const alpha of [false, true]) {
    it(`parse-dds, decode-dxt and libsquish read our ${alpha ? 'DXT5' : 'DXT1'} like we do`, async () => {
      const size = 64;
      const dds = encodeDDS(await photo('astronaut.png', size, alpha), size, size, { quality: 'fast' }, mod);
      const ref = parseDDSRef(
        dds.buffer.slice(dds.byteOffset, dds.byteOffset + dds.byteLength) as ArrayBuffer,
      );
      const ours = parseDDS(dds);
      expect(ref.format).toBe(alpha ? 'dxt5' : 'dxt1');
      expect(ref.shape).toEqual([size, size]);
      expect(ref.images.length).toBe(ours.levels.length);
      ref.images.forEach((img, i) => {
        const l = ours.levels[i]!;
        expect([img.offset, img.length, ...img.shape]).toEqual([
          l.data.byteOffset,
          l.data.length,
          l.width,
          l.height,
        ]);
        if (l.width < 4) return; // decode-dxt only decodes whole blocks
        const view = new DataView(dds.buffer, img.offset, img.length);
        const mine = alpha
          ? decodeBC3(l.data, l.width, l.height, undefined, mod)
          : decodeBC1(l.data, l.width, l.height, undefined, mod);
        expect(maxDiff(mine, decodeDXT(view, l.width, l.height, ref.format))).toBeLessThanOrEqual(2);
        const squish = dxt.decompress(
          l.data.slice(),
          l.width,
          l.height,
          alpha ? dxt.flags.DXT5 : dxt.flags.DXT1,
        );
        expect(maxDiff(mine, squish)).toBe(0);
      });
    });
  }
});

describe('isOpaque', () => {
  it('finds one non-opaque texel anywhere, in aligned and unaligned views', () => {
    const buf = new Uint8Array(4 + 9 * 4).fill(255);
    for (const offset of [0, 1, 4]) {
      const view = buf.subarray(offset, offset + 8 * 4);
      expect(isOpaque(view)).toBe(true);
      for (let px = 0; px < 8; px++) {
        for (const a of [0, 127, 254]) {
          view[px * 4 + 3] = a;
          expect(isOpaque(view), `offset ${offset} texel ${px} alpha ${a}`).toBe(false);
          view[px * 4 + 3] = 255;
        }
        // colour bytes never count
        view[px * 4] = 0;
        expect(isOpaque(view)).toBe(true);
        view[px * 4] = 255;
      }
    }
    expect(isOpaque(new Uint8Array(0))).toBe(true);
  });
});
