import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTileError } from './errors.js';
import {
  assertDatasetId,
  fillTemplate,
  formatTileKey,
  MAX_ZOOM,
  parseTileKey,
  TILE_EXTENSIONS,
  type TileCoord,
} from './tileKey.js';

const params = {
  numRuns: Number(process.env.FUZZ_RUNS ?? 500),
  seed: Number(process.env.FUZZ_SEED ?? 0x71e),
};

const coordArb: fc.Arbitrary<TileCoord> = fc.integer({ min: 0, max: MAX_ZOOM }).chain((z) =>
  fc.record({
    z: fc.constant(z),
    x: fc.integer({ min: 0, max: 2 ** z - 1 }),
    y: fc.integer({ min: 0, max: 2 ** z - 1 }),
    ext: fc.constantFrom(...TILE_EXTENSIONS),
  }),
);

/** Pieces an attacker would splice into a key or a dataset id. */
const hostile = fc.constantFrom(
  '..',
  '../',
  '..\\',
  '%2e%2e',
  '%252e',
  '\0',
  '/',
  '\\',
  '\u2024\u2024', // one-dot leaders, a "unicode dot"
  '\uff0e\uff0e', // fullwidth full stops
  '%00',
  ' ',
  '\n',
  '+1',
  '-1',
  '1e3',
  '0x1',
  '01',
  '.',
  '?',
  '#',
);

const keyLike = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc
    .array(fc.oneof(hostile, fc.nat(5000).map(String), fc.constantFrom('jpg', '.', '/')), { maxLength: 8 })
    .map((a) => a.join('')),
  coordArb.chain((c) =>
    fc.tuple(fc.nat(20), hostile).map(([at, h]) => {
      const k = formatTileKey(c);
      const i = at % (k.length + 1);
      return k.slice(0, i) + h + k.slice(i);
    }),
  ),
);

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!isTileError(e)) throw e;
    return e.code;
  }
}

describe('parseTileKey under fuzzing', () => {
  it('round-trips every valid coordinate', () => {
    fc.assert(
      fc.property(coordArb, (c) => {
        expect(parseTileKey(formatTileKey(c))).toEqual(c);
      }),
      params,
    );
  });

  it('accepts only canonical keys with in-range coordinates; everything else is a coded error', () => {
    fc.assert(
      fc.property(keyLike, (key) => {
        let c: TileCoord;
        try {
          c = parseTileKey(key);
        } catch (e) {
          expect(isTileError(e, 'BAD_TILE_KEY') || isTileError(e, 'BAD_EXTENSION')).toBe(true);
          return;
        }
        // Accepted: it must be exactly the canonical form, so it cannot carry anything else.
        expect(formatTileKey(c)).toBe(key);
        expect(c.z).toBeLessThanOrEqual(MAX_ZOOM);
        expect(c.x).toBeLessThan(2 ** c.z);
        expect(c.y).toBeLessThan(2 ** c.z);
        expect(key).not.toMatch(/\.\.|[\\\0%]/);
      }),
      params,
    );
  });

  it('refuses out-of-range coordinates', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.nat(), fc.nat(), (z, a, b) => {
        const n = 2 ** Math.min(z, MAX_ZOOM);
        const x = n + (a % 1000);
        const y = b % n;
        expect(codeOf(() => parseTileKey(`${z}/${x}/${y}.jpg`))).toBe('BAD_TILE_KEY');
        expect(codeOf(() => parseTileKey(`${z}/${y}/${x}.jpg`))).toBe('BAD_TILE_KEY');
      }),
      params,
    );
  });
});

describe('assertDatasetId under fuzzing', () => {
  it('never accepts anything that could leave the dataset directory or change an object key', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), keyLike, hostile), (id) => {
        const code = codeOf(() => assertDatasetId(id));
        if (code === undefined) {
          expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/);
          // and the key it builds has exactly the template's slashes
          const key = fillTemplate('{dataset}/{z}/{x}/{y}.{ext}', id, { z: 0, x: 0, y: 0, ext: 'jpg' });
          expect(key.split('/')).toHaveLength(4);
        } else {
          expect(code).toBe('BAD_DATASET');
        }
      }),
      params,
    );
  });
});
