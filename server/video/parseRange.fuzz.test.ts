import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRange } from './parseRange.js';

const params = {
  numRuns: Number(process.env.FUZZ_RUNS ?? 1000),
  seed: Number(process.env.FUZZ_SEED ?? 0x4a6e),
};

const num = fc.oneof(
  fc.nat(2000).map(String),
  fc.constantFrom(
    '',
    '-1',
    '1e3',
    '0x10',
    ' 5',
    '99999999999999999999',
    '9007199254740993',
    '+3',
    '1.5',
    '٣',
  ),
);
const header = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc
    .tuple(
      fc.constantFrom('bytes=', 'BYTES =', 'bytes= ', 'items=', 'bytes', ''),
      num,
      fc.constantFrom('-', '', '--', '–'),
      num,
    )
    .map(([u, a, d, b]) => `${u}${a}${d}${b}`),
  fc
    .array(fc.tuple(num, num), { minLength: 2, maxLength: 3 })
    .map((xs) => `bytes=${xs.map(([a, b]) => `${a}-${b}`).join(',')}`),
);

describe('video Range parser under fuzzing', () => {
  it('any header on any size gives full, unsatisfiable, or a range inside the object', () => {
    fc.assert(
      fc.property(fc.option(header, { nil: undefined }), fc.nat(5000), (h, size) => {
        const d = parseRange(h, size);
        if (d.kind === 'partial') {
          expect(Number.isSafeInteger(d.start) && Number.isSafeInteger(d.end)).toBe(true);
          expect(d.start).toBeGreaterThanOrEqual(0);
          expect(d.end).toBeGreaterThanOrEqual(d.start);
          expect(d.end).toBeLessThan(size);
        } else expect(['full', 'unsatisfiable']).toContain(d.kind);
      }),
      params,
    );
  });

  it('well-formed single ranges follow RFC 9110 exactly', () => {
    fc.assert(
      fc.property(fc.nat(5000), fc.nat(6000), fc.option(fc.nat(6000), { nil: undefined }), (size, a, b) => {
        const d = parseRange(`bytes=${a}-${b ?? ''}`, size);
        if (b !== undefined && b < a) expect(d.kind).toBe('full');
        else if (a >= size) expect(d.kind).toBe('unsatisfiable');
        else expect(d).toEqual({ kind: 'partial', start: a, end: Math.min(b ?? size - 1, size - 1) });
        const s = parseRange(`bytes=-${a}`, size);
        if (a === 0 || size === 0) expect(s.kind).toBe('unsatisfiable');
        else expect(s).toEqual({ kind: 'partial', start: Math.max(0, size - a), end: size - 1 });
      }),
      params,
    );
  });
});
