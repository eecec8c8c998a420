import { describe, expect, it } from 'vitest';
import { parseRange } from './parseRange.js';

describe('parseRange', () => {
  it.each([
    [undefined, 1000, { kind: 'full' }],
    ['bytes=0-0', 1000, { kind: 'partial', start: 0, end: 0 }],
    ['bytes=10-19', 1000, { kind: 'partial', start: 10, end: 19 }],
    ['bytes=990-', 1000, { kind: 'partial', start: 990, end: 999 }],
    ['bytes=990-5000', 1000, { kind: 'partial', start: 990, end: 999 }],
    ['bytes=-100', 1000, { kind: 'partial', start: 900, end: 999 }],
    ['bytes=-5000', 1000, { kind: 'partial', start: 0, end: 999 }],
    ['bytes=1000-', 1000, { kind: 'unsatisfiable' }],
    ['bytes=-0', 1000, { kind: 'unsatisfiable' }],
    ['bytes=0-0', 0, { kind: 'unsatisfiable' }],
    ['bytes=5-1', 1000, { kind: 'full' }],
    ['bytes=0-1,5-6', 1000, { kind: 'full' }],
    ['items=0-1', 1000, { kind: 'full' }],
    ['bytes=abc', 1000, { kind: 'full' }],
    ['bytes=99999999999999999999-', 1000, { kind: 'full' }],
  ])('%s of %i bytes', (h, size, want) => {
    expect(parseRange(h, size)).toEqual(want);
  });
});
