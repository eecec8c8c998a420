import { describe, expect, it } from 'vitest';
import { isTileError } from '../../src/protocol/errors.js';
import { dziLevels, dziMaxLevel, formatDzi, MAX_DZI_BYTES, parseDzi } from './parseDzi.js';

const enc = (s: string) => new TextEncoder().encode(s);
const VIPS = `<?xml version="1.0" encoding="UTF-8"?>
<Image xmlns="http://schemas.microsoft.com/deepzoom/2008"
  Format="jpeg"
  Overlap="1"
  TileSize="254"
  >
  <Size
    Height="400"
    Width="600"
  />
</Image>`;

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isTileError(e) ? e.code : 'not a TileError';
  }
  return undefined;
}

describe('parseDzi', () => {
  it('reads what vips dzsave writes', () => {
    expect(parseDzi(enc(VIPS))).toEqual({
      tileSize: 254,
      overlap: 1,
      format: 'jpeg',
      width: 600,
      height: 400,
    });
  });

  it('reads back its own descriptor', () => {
    const d = { tileSize: 512, overlap: 0, format: 'png', width: 1000, height: 3000 } as const;
    expect(parseDzi(enc(formatDzi(d)))).toEqual(d);
  });

  it.each([
    ['a DOCTYPE with an entity (no expansion, refused)', `<!DOCTYPE x [<!ENTITY a "b">]>${VIPS}`],
    ['not XML', 'hello'],
    ['no Size', '<Image Format="png" Overlap="0" TileSize="256"></Image>'],
    ['a bad number', VIPS.replace('254', '25x')],
    ['a zero tile size', VIPS.replace('"254"', '"0"')],
    ['an unknown format', VIPS.replace('jpeg', 'tiff')],
    ['a huge size', VIPS.replace('"600"', '"99999999999"')],
    ['an oversize document', VIPS + ' '.repeat(MAX_DZI_BYTES)],
  ])('refuses %s with BAD_DESCRIPTOR', (_what, text) => {
    expect(code(() => parseDzi(enc(text)))).toBe('BAD_DESCRIPTOR');
  });

  it('counts levels from a 1x1 image, sides rounded up', () => {
    expect(dziMaxLevel(600, 400)).toBe(10);
    expect(dziMaxLevel(1, 1)).toBe(0);
    const levels = dziLevels({ width: 600, height: 400, tileSize: 254 });
    expect(levels.get(10)).toEqual({ z: 10, width: 600, height: 400, cols: 3, rows: 2 });
    expect(levels.get(9)).toEqual({ z: 9, width: 300, height: 200, cols: 2, rows: 1 });
    expect(levels.get(0)).toEqual({ z: 0, width: 1, height: 1, cols: 1, rows: 1 });
  });
});
