import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTileError } from '../../src/protocol/errors.js';
import { MAX_BATCH_TILES, parseTileKey } from '../../src/protocol/tileKey.js';
import { validateBatchKeys } from './batchKeys.js';

const params = {
  numRuns: Number(process.env.FUZZ_RUNS ?? 500),
  seed: Number(process.env.FUZZ_SEED ?? 0xba7c),
};

const good = fc
  .tuple(fc.nat(6), fc.nat(63), fc.nat(63), fc.constantFrom('jpg', 'png', 'webp', 'dds'))
  .filter(([z, x, y]) => x < 2 ** z && y < 2 ** z)
  .map(([z, x, y, e]) => `${z}/${x}/${y}.${e}`);
const anyJson = fc.oneof(good, fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 2 }));

describe('batch key list under fuzzing', () => {
  it('accepts only lists of 1..100 valid keys; anything else is a 4xx code', () => {
    fc.assert(
      fc.property(fc.array(anyJson, { maxLength: MAX_BATCH_TILES + 5 }), (keys) => {
        let items: ReturnType<typeof validateBatchKeys>;
        try {
          items = validateBatchKeys(keys);
        } catch (e) {
          expect(isTileError(e)).toBe(true);
          expect(['BAD_REQUEST', 'TOO_MANY_TILES', 'BAD_TILE_KEY', 'BAD_EXTENSION']).toContain(
            (e as { code: string }).code,
          );
          return;
        }
        expect(keys.length).toBeGreaterThan(0);
        expect(keys.length).toBeLessThanOrEqual(MAX_BATCH_TILES);
        // deduplicated, every key canonical and in range
        expect(new Set(items.map((i) => i.key)).size).toBe(items.length);
        for (const i of items) expect(parseTileKey(i.key)).toEqual(i.coord);
        expect(new Set(items.map((i) => i.key))).toEqual(new Set(keys));
      }),
      params,
    );
  });
});
