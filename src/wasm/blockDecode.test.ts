import decodeDXT from 'decode-dxt';
import dxt from 'dxt-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeBC1, decodeBC3 } from './blockCodec.js';
import { type CodecModule, initCodecs } from './codecModule.js';

function rand(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('BC decode against libsquish (dxt-js) and decode-dxt', () => {
  let mod: CodecModule;
  beforeAll(async () => {
    mod = await initCodecs();
  });

  it('decodes arbitrary BC1/BC3 blocks bit-exactly like libsquish', () => {
    const w = 64;
    const h = 32;
    const b1 = rand((w / 4) * (h / 4) * 8, 1);
    expect(maxDiff(decodeBC1(b1, w, h, undefined, mod), dxt.decompress(b1, w, h, dxt.flags.DXT1))).toBe(0);
    const b3 = rand((w / 4) * (h / 4) * 16, 2);
    expect(maxDiff(decodeBC3(b3, w, h, undefined, mod), dxt.decompress(b3, w, h, dxt.flags.DXT5))).toBe(0);
  });

  it("reads libsquish's own output the way libsquish does", () => {
    const w = 32;
    const h = 16;
    const rgba = rand(w * h * 4, 3);
    for (const [flag, dec] of [
      [dxt.flags.DXT1, decodeBC1],
      [dxt.flags.DXT5, decodeBC3],
    ] as const) {
      const blocks = dxt.compress(rgba, w, h, flag | dxt.flags.ColourRangeFit).slice();
      expect(maxDiff(dec(blocks, w, h, undefined, mod), dxt.decompress(blocks, w, h, flag))).toBe(0);
    }
  });

  it('matches decode-dxt within its rounding (it rounds, we floor: at most 1 per channel, 2 on interpolants)', () => {
    const w = 64;
    const h = 64;
    const b1 = rand((w / 4) * (h / 4) * 8, 4);
    const d1 = decodeDXT(new DataView(b1.buffer), w, h, 'dxt1');
    const ours1 = decodeBC1(b1, w, h, undefined, mod);
    expect(maxDiff(ours1, d1)).toBeLessThanOrEqual(2);
    const b3 = rand((w / 4) * (h / 4) * 16, 5);
    expect(
      maxDiff(decodeBC3(b3, w, h, undefined, mod), decodeDXT(new DataView(b3.buffer), w, h, 'dxt5')),
    ).toBeLessThanOrEqual(2);
  });
});
