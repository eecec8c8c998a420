import { beforeAll, describe, expect, it } from 'vitest';
import { refDecode } from '../../test/support/wasm/reference/bcDecode.js';
import { isTileError } from '../protocol/errors.js';
import { decodeBC1, decodeBC3 } from './blockCodec.js';
import { type CodecModule, instantiateCodecModule } from './codecModule.js';

function rand(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 255;
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

for (const flavour of ['simd', 'scalar'] as const) {
  describe(`BC decode (${flavour} wasm)`, () => {
    let mod: CodecModule;
    beforeAll(async () => {
      mod = await instantiateCodecModule(flavour);
    });

    it('decodes random BC1 and BC3 blocks exactly like the reference, odd sizes included', () => {
      for (const [w, h] of [
        [1, 1],
        [3, 5],
        [4, 4],
        [64, 36],
        [4097, 3],
        [13, 17],
      ] as const) {
        const n = Math.ceil(w / 4) * Math.ceil(h / 4);
        const b1 = rand(n * 8, w * 31 + h);
        // both colour modes occur: random endpoints are ordered either way
        expect(sameBytes(decodeBC1(b1, w, h, undefined, mod), refDecode('bc1', b1, w, h))).toBe(true);
        const b3 = rand(n * 16, w * 17 + h);
        expect(sameBytes(decodeBC3(b3, w, h, undefined, mod), refDecode('bc3', b3, w, h))).toBe(true);
      }
    });

    it('rejects short data and bad sizes with coded errors and keeps working', () => {
      const bad: [Uint8Array, number, number, string][] = [
        [new Uint8Array(7), 4, 4, 'TRUNCATED'],
        [new Uint8Array(8), 5, 4, 'TRUNCATED'],
        [new Uint8Array(8), 0, 4, 'BAD_IMAGE'],
        [new Uint8Array(8), 4.5, 4, 'BAD_IMAGE'],
        [new Uint8Array(8), 1e6, 1, 'BAD_IMAGE'],
      ];
      for (const [data, w, h, code] of bad) {
        let err: unknown;
        try {
          decodeBC1(data, w, h, undefined, mod);
        } catch (e) {
          err = e;
        }
        expect(isTileError(err) && err.code).toBe(code);
      }
      const ok = rand(16, 5);
      expect(sameBytes(decodeBC3(ok, 4, 4, undefined, mod), refDecode('bc3', ok, 4, 4))).toBe(true);
    });
  });
}
