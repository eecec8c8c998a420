import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTileError } from '../../src/protocol/errors.js';
import { safeKeyPath } from './safeKeyPath.js';

const params = {
  numRuns: Number(process.env.FUZZ_RUNS ?? 1000),
  seed: Number(process.env.FUZZ_SEED ?? 0x5afe),
};
const ROOT = path.resolve('/srv/tiles');
const seg = fc.oneof(
  fc.constantFrom(
    '..',
    '.',
    '',
    'a',
    'ds',
    '0',
    '1.jpg',
    '\\..',
    '..\\',
    '\0',
    '%2e%2e',
    '\u2024\u2024',
    '~',
    '/',
  ),
  fc.string({ maxLength: 6 }),
);
const key = fc.array(seg, { maxLength: 6 }).map((s) => s.join('/'));

describe('safeKeyPath under fuzzing', () => {
  it('every accepted key resolves strictly inside the root; everything else is BAD_TILE_KEY', () => {
    fc.assert(
      fc.property(fc.oneof(key, fc.string({ maxLength: 30 })), (k) => {
        let p: string;
        try {
          p = safeKeyPath(ROOT, k);
        } catch (e) {
          expect(isTileError(e, 'BAD_TILE_KEY')).toBe(true);
          return;
        }
        expect(p.startsWith(ROOT + path.sep)).toBe(true);
        expect(path.relative(ROOT, p).split(path.sep)).not.toContain('..');
        expect(k).not.toMatch(/\0|\\/);
      }),
      params,
    );
  });
});
