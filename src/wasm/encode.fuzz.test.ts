import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { refDecode } from '../../test/support/wasm/reference/bcDecode.js';
import { refEncode } from '../../test/support/wasm/reference/bcEncode.js';
import { decodeBC1, decodeBC3, encodeBC1, encodeBC3 } from './blockCodec.js';
import { type CodecModule, instantiateCodecModule } from './codecModule.js';

// Seeded, bounded: FUZZ_RUNS raises it for long runs.
const params = {
  numRuns: Number(process.env.FUZZ_RUNS ?? 150),
  seed: Number(process.env.FUZZ_SEED ?? 0xbc1),
};

type Kind = 'noise' | 'ramp' | 'flat' | 'solid';

/** A random image of one kind: the encoders' hard cases (noise), lines, near-flat and solid blocks. */
const image = fc
  .record({
    w: fc.integer({ min: 1, max: 13 }),
    h: fc.integer({ min: 1, max: 13 }),
    kind: fc.constantFrom<Kind>('noise', 'ramp', 'flat', 'solid'),
    alpha: fc.constantFrom('opaque', 'punch', 'any'),
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
  })
  .map(({ w, h, kind, alpha, seed }) => {
    let s = seed;
    const rnd = () => {
      s = (s * 1103515245 + 12345) >>> 0;
      return s >>> 24;
    };
    const a = [rnd(), rnd(), rnd()];
    const b = [rnd(), rnd(), rnd()];
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) {
      const f = rnd() / 255;
      for (let c = 0; c < 3; c++) {
        rgba[i * 4 + c] =
          kind === 'noise'
            ? rnd()
            : kind === 'ramp'
              ? a[c]! * f + b[c]! * (1 - f)
              : kind === 'flat'
                ? Math.min(255, a[c]! + (rnd() & 7))
                : a[c]!;
      }
      rgba[i * 4 + 3] = alpha === 'opaque' ? 255 : alpha === 'punch' ? (rnd() & 1) * 255 : rnd();
    }
    return { w, h, kind, alpha, rgba };
  });

function sse(a: Uint8Array, b: Uint8Array): number {
  let e = 0;
  for (let i = 0; i < a.length; i += 4) {
    for (let c = 0; c < 3; c++) e += (a[i + c]! - b[i + c]!) ** 2;
  }
  return e;
}

describe.each(['simd', 'scalar'] as const)('BC encoders under fuzzing (%s build)', (flavour) => {
  let mod: CodecModule;
  beforeAll(async () => {
    mod = await instantiateCodecModule(flavour);
  });

  for (const quality of ['fast', 'high'] as const) {
    it(`${quality}: BC1 keeps punch-through alpha exactly and opaque images stay within 1.5x the reference encoder's error`, () => {
      fc.assert(
        fc.property(image, ({ w, h, kind, alpha, rgba }) => {
          const blocks = encodeBC1(rgba, w, h, { quality }, mod);
          expect(blocks.length).toBe(Math.ceil(w / 4) * Math.ceil(h / 4) * 8);
          const ours = decodeBC1(blocks, w, h, undefined, mod);
          expect(ours).toEqual(refDecode('bc1', blocks, w, h));
          // alpha < 128 -> transparent texel, else opaque: never black-transparent by accident
          for (let i = 3; i < rgba.length; i += 4) expect(ours[i]).toBe(rgba[i]! < 128 ? 0 : 255);
          // the error bound for opaque images (3-colour punch-through blocks trade colour for alpha)
          if (alpha !== 'opaque') return;
          const ref = refDecode('bc1', refEncode('bc1', rgba, w, h), w, h);
          const mine = sse(rgba, ours);
          expect(mine).toBeLessThanOrEqual(1.5 * sse(rgba, ref) + 16 * w * h);
          if (kind === 'solid') expect(mine / (w * h)).toBeLessThanOrEqual(3 * 3 * 3);
        }),
        params,
      );
    });

    it(`${quality}: BC3 colour and alpha within 1.5x the reference encoder's error`, () => {
      fc.assert(
        fc.property(image, ({ w, h, rgba }) => {
          const blocks = encodeBC3(rgba, w, h, { quality }, mod);
          const ours = decodeBC3(blocks, w, h, undefined, mod);
          expect(ours).toEqual(refDecode('bc3', blocks, w, h));
          const ref = refDecode('bc3', refEncode('bc3', rgba, w, h), w, h);
          expect(sse(rgba, ours)).toBeLessThanOrEqual(1.5 * sse(rgba, ref) + 16 * w * h);
          let ea = 0;
          let er = 0;
          for (let i = 3; i < rgba.length; i += 4) {
            ea += (ours[i]! - rgba[i]!) ** 2;
            er += (ref[i]! - rgba[i]!) ** 2;
          }
          expect(ea).toBeLessThanOrEqual(1.5 * er + 16 * w * h);
        }),
        params,
      );
    });
  }

  it('fast keeps opaque BC1 blocks in 4-colour mode and is as good as high on solid blocks', () => {
    fc.assert(
      fc.property(image, ({ w, h, kind, rgba }) => {
        const opaque = rgba.map((v, i) => (i % 4 === 3 ? 255 : v));
        const blocks = encodeBC1(opaque, w, h, { quality: 'fast' }, mod);
        const dv = new DataView(blocks.buffer);
        for (let o = 0; o < blocks.length; o += 8) {
          const c0 = dv.getUint16(o, true);
          const c1 = dv.getUint16(o + 2, true);
          // c0 <= c1 would be 3-colour mode; allowed only as c0 == c1 with every index 0
          if (c0 <= c1) expect([c0, dv.getUint32(o + 4, true)]).toEqual([c1, 0]);
        }
        if (kind === 'solid') {
          const fast = decodeBC1(blocks, w, h, undefined, mod);
          const high = decodeBC1(encodeBC1(opaque, w, h, { quality: 'high' }, mod), w, h, undefined, mod);
          expect(sse(opaque, fast)).toBeLessThanOrEqual(sse(opaque, high));
        }
      }),
      params,
    );
  });
});
