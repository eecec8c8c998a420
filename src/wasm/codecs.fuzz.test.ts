import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { refBase64Decode, refBase64Encode } from '../../test/support/wasm/reference/base64.js';
import { refDecode } from '../../test/support/wasm/reference/bcDecode.js';
import { isTileError, TileError } from '../protocol/errors.js';
import { base64Decode, base64DecodeBytes, base64Encode } from './base64.js';
import { blockBytes, decodeBC1, decodeBC3 } from './blockCodec.js';
import { type CodecModule, instantiateCodecModule } from './codecModule.js';

// Seeded, bounded: FUZZ_RUNS raises it for long runs.
const params = {
  numRuns: Number(process.env.FUZZ_RUNS ?? 300),
  seed: Number(process.env.FUZZ_SEED ?? 0xc0dec),
};

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';
/** Characters a mutation splices in: other alphabets, whitespace, non-ASCII, NUL. */
const noise = fc.constantFrom('-', '_', ' ', '\n', '=', '==', '\0', '\u00e9', '\u{1f600}', '.', '%', 'A');

const b64ish = fc.oneof(
  fc.string({ unit: fc.constantFrom(...B64), maxLength: 64 }),
  fc.string({ maxLength: 40 }),
  fc.tuple(fc.uint8Array({ maxLength: 80 }), fc.nat(), noise, fc.boolean()).map(([bytes, at, n, replace]) => {
    const s = Buffer.from(bytes).toString('base64');
    const i = at % (s.length + 1);
    return s.slice(0, i) + n + s.slice(i + (replace ? 1 : 0));
  }),
);

function expectOffsetIn(err: TileError | undefined, s: string): void {
  expect(err?.code, JSON.stringify(s)).toBe('BAD_BASE64');
  const off = err!.details['offset'];
  expect(Number.isInteger(off) && (off as number) >= 0 && (off as number) <= s.length, `offset ${off}`).toBe(
    true,
  );
  // an invalid character is blamed exactly where it is
  if (err!.details['reason'] === 'invalid-character') expect(s.length).toBeGreaterThan(off as number);
}

/** A TileError with the code, or a failure naming what leaked instead. */
function coded(f: () => unknown, codes: string[]): TileError | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!(e instanceof TileError) || !codes.includes(e.code)) {
      throw new Error(`leaked a non-coded error: ${String(e)}`, { cause: e });
    }
    return e;
  }
}

describe.each(['simd', 'scalar'] as const)('codecs under fuzzing (%s build)', (flavour) => {
  let mod: CodecModule;
  beforeAll(async () => {
    mod = await instantiateCodecModule(flavour);
  });

  /** The module still decodes a known value after whatever the fuzz case did. */
  function stillUsable(): void {
    expect(Buffer.from(base64Decode('aGVsbG8=', { backend: 'wasm' }, mod)).toString()).toBe('hello');
  }

  it('base64Decode gives the exact bytes or BAD_BASE64 at the reference offset', () => {
    fc.assert(
      fc.property(b64ish, fc.boolean(), (s, url) => {
        const alphabet = url ? 'base64url' : 'base64';
        const want = refBase64Decode(s, url);
        for (const backend of ['wasm', 'buffer', 'auto'] as const) {
          let got: Uint8Array | undefined;
          const err = coded(() => {
            got = base64Decode(s, { alphabet, backend }, mod);
          }, ['BAD_BASE64']);
          if (typeof want === 'number') {
            // Where a padding/length error is blamed is a choice (the reference and the
            // codec differ on e.g. "A="); that it is an offset inside the input is not.
            expectOffsetIn(err, s);
          } else {
            expect(err, `${backend} ${JSON.stringify(s)}`).toBeUndefined();
            expect(Buffer.from(got!).equals(Buffer.from(want))).toBe(true);
          }
        }
        stillUsable();
      }),
      params,
    );
  });

  it('base64DecodeBytes agrees with the string decoder on ASCII input', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...B64, ' ', '*'), maxLength: 64 }), (s) => {
        const want = refBase64Decode(s);
        let got: Uint8Array | undefined;
        const err = coded(() => {
          got = base64DecodeBytes(new TextEncoder().encode(s), {}, mod);
        }, ['BAD_BASE64']);
        if (typeof want === 'number') expectOffsetIn(err, s);
        else expect(Buffer.from(got!).equals(Buffer.from(want))).toBe(true);
        stillUsable();
      }),
      params,
    );
  });

  it('base64Encode round-trips random bytes on both alphabets, with and without padding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), fc.boolean(), (bytes, url, padding) => {
        const alphabet = url ? 'base64url' : 'base64';
        const pad = url ? padding : true;
        const s = base64Encode(bytes, { alphabet, padding: pad, backend: 'wasm' }, mod);
        expect(s).toBe(refBase64Encode(bytes, url, pad));
        expect(
          Buffer.from(base64Decode(s, { alphabet, backend: 'wasm' }, mod)).equals(Buffer.from(bytes)),
        ).toBe(true);
      }),
      params,
    );
  });

  const sizeArb = fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 })),
    fc.tuple(
      fc.constantFrom(
        0,
        -1,
        -4,
        0.5,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        32769,
        2 ** 31,
        2 ** 32 + 4,
        1e300,
      ),
      fc.integer({ min: 1, max: 8 }),
    ),
  );

  it.each(['bc1', 'bc3'] as const)(
    '%s decode: right pixels, or TRUNCATED/BAD_IMAGE, never a trap',
    (format) => {
      const decodeFn = format === 'bc1' ? decodeBC1 : decodeBC3;
      fc.assert(
        fc.property(
          sizeArb,
          fc.boolean(),
          fc.uint8Array({ maxLength: 2000 }),
          fc.integer({ min: -16, max: 16 }),
          ([w, h], swap, noise, slack) => {
            const [width, height] = swap ? [h, w] : [w, h];
            const sane =
              Number.isInteger(width) &&
              Number.isInteger(height) &&
              width >= 1 &&
              height >= 1 &&
              width <= 40 &&
              height <= 40;
            // blocks of the right length give or take `slack`, filled with random bytes
            const len = sane ? Math.max(0, blockBytes(format, width, height) + slack) : noise.length;
            const blocks = new Uint8Array(len);
            blocks.set(noise.subarray(0, len));
            let px: Uint8Array | undefined;
            const err = coded(() => {
              px = decodeFn(blocks, width, height, undefined, mod);
            }, ['TRUNCATED', 'BAD_IMAGE']);
            if (sane && slack >= 0) {
              expect(err).toBeUndefined();
              expect(Buffer.from(px!).equals(Buffer.from(refDecode(format, blocks, width, height)))).toBe(
                true,
              );
            } else if (sane) {
              expect(err?.code).toBe('TRUNCATED');
            } else {
              expect(err).toBeDefined();
            }
            stillUsable();
          },
        ),
        params,
      );
    },
  );

  it('decode into a caller buffer that is too small is BAD_IMAGE and writes nothing', () => {
    const out = new Uint8Array(10).fill(7);
    const err = coded(() => decodeBC1(new Uint8Array(8), 4, 4, out, mod), ['BAD_IMAGE']);
    expect(isTileError(err, 'BAD_IMAGE')).toBe(true);
    expect([...out]).toEqual(new Array(10).fill(7));
    stillUsable();
  });
});
