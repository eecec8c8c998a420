import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chunkRange,
  chunkSpan,
  parseContentRange,
  parseRange,
  resolveRange,
  sliceChunk,
} from './rangeSlicer.js';

describe('parseRange / resolveRange', () => {
  it('reads the three single-range forms', () => {
    expect(parseRange('bytes=0-')).toEqual({ start: 0, end: undefined });
    expect(parseRange('bytes=10-19')).toEqual({ start: 10, end: 19 });
    expect(parseRange('bytes=-500')).toEqual({ suffix: 500 });
    expect(resolveRange(parseRange('bytes=-500')!, 300)).toEqual({ start: 0, end: 299 });
    expect(resolveRange(parseRange('bytes=10-')!, 100)).toEqual({ start: 10, end: 99 });
    expect(resolveRange(parseRange('bytes=10-1000')!, 100)).toEqual({ start: 10, end: 99 });
  });

  it('ignores what it cannot serve as one range', () => {
    for (const h of [null, '', 'items=0-1', 'bytes=0-1,5-6', 'bytes=5-1', 'bytes=-', 'bytes=a-b']) {
      expect(parseRange(h)).toBeUndefined();
    }
  });

  it('says unsatisfiable past the end and for an empty suffix', () => {
    expect(resolveRange({ start: 100, end: undefined }, 100)).toBeUndefined();
    expect(resolveRange({ suffix: 0 }, 100)).toBeUndefined();
  });

  it('parses Content-Range, including the 416 form', () => {
    expect(parseContentRange('bytes 0-9/100')).toEqual({ start: 0, end: 9, total: 100 });
    expect(parseContentRange('bytes */100')).toEqual({ start: undefined, end: undefined, total: 100 });
    expect(parseContentRange('nonsense')).toBeUndefined();
  });
});

describe('chunk slicing', () => {
  it('reassembles any range exactly from aligned chunks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 700 }),
        fc.nat(),
        fc.nat(),
        (total, chunkBytes, a, b) => {
          const file = Uint8Array.from({ length: total }, (_, i) => (i * 31) & 255);
          const start = a % total;
          const end = start + (b % (total - start));
          const { first, last } = chunkSpan(start, end, chunkBytes);
          const parts: number[] = [];
          for (let i = first; i <= last; i++) {
            const r = chunkRange(i, chunkBytes, total);
            parts.push(...sliceChunk(file.subarray(r.start, r.end + 1), i, chunkBytes, start, end));
          }
          expect(Uint8Array.from(parts)).toEqual(file.subarray(start, end + 1));
        },
      ),
      { numRuns: 200 },
    );
  });
});
