import { TileError } from '../protocol/errors.js';
import { type CodecModule, codecs } from './codecModule.js';

export type BlockFormat = 'bc1' | 'bc3';

/** Largest side accepted (D3D's limit is 16384; DDS allows more, memory does not). */
export const MAX_SIDE = 32768;

/** Bytes of `format` blocks covering width x height (edge blocks count whole). */
export function blockBytes(format: BlockFormat, width: number, height: number): number {
  return Math.ceil(width / 4) * Math.ceil(height / 4) * (format === 'bc1' ? 8 : 16);
}

export function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new TileError('BAD_IMAGE', `bad image size ${width}x${height}`, { width, height });
  }
  if (width > MAX_SIDE || height > MAX_SIDE) {
    throw new TileError('BAD_IMAGE', `image side above ${MAX_SIDE}`, { width, height });
  }
}

function decode(
  format: BlockFormat,
  blocks: Uint8Array,
  width: number,
  height: number,
  out: Uint8Array | undefined,
  mod: CodecModule,
): Uint8Array {
  checkSize(width, height);
  const need = blockBytes(format, width, height);
  if (blocks.length < need) {
    throw new TileError('TRUNCATED', `${format} data for ${width}x${height} needs ${need} bytes`, {
      need,
      have: blocks.length,
    });
  }
  const size = width * height * 4;
  if (out && out.length < size) throw new TileError('BAD_IMAGE', `output needs ${size} bytes`, { size });
  const outAt = (need + 15) & ~15;
  const base = mod.ensure(outAt + size);
  const u8 = mod.u8;
  u8.set(blocks.subarray(0, need), base);
  if (format === 'bc1') mod.exports.decodeBC1(base, width, height, base + outAt);
  else mod.exports.decodeBC3(base, width, height, base + outAt);
  const pixels = u8.subarray(base + outAt, base + outAt + size);
  // ArrayBuffer#slice: a plain memcpy (TypedArray#slice over wasm memory is slower in Chromium)
  if (!out) return new Uint8Array(u8.buffer.slice(base + outAt, base + outAt + size));
  out.set(pixels);
  return out.subarray(0, size);
}

/**
 * BC1 blocks -> RGBA8 (width*height*4), into `out` when given (no allocation: the fast path
 * for a caller that reuses a buffer). Short input is TRUNCATED, a bad size BAD_IMAGE.
 */
export function decodeBC1(
  blocks: Uint8Array,
  width: number,
  height: number,
  out?: Uint8Array,
  mod: CodecModule = codecs(),
): Uint8Array {
  return decode('bc1', blocks, width, height, out, mod);
}

/** BC3 blocks -> RGBA8 (width*height*4), into `out` when given. */
export function decodeBC3(
  blocks: Uint8Array,
  width: number,
  height: number,
  out?: Uint8Array,
  mod: CodecModule = codecs(),
): Uint8Array {
  return decode('bc3', blocks, width, height, out, mod);
}

export interface EncodeOptions {
  /** 'fast': range fit + one least-squares pass; 'high' (default): see docs/codecs.md. */
  quality?: 'fast' | 'high';
  /**
   * BC1 only. 'keep' (default): alpha < 128 becomes a transparent texel (3-colour blocks);
   * 'ignore': alpha is not used, so index 3 (black) may also stand for dark opaque texels.
   */
  alpha?: 'keep' | 'ignore';
}

function encode(
  format: BlockFormat,
  rgba: Uint8Array,
  width: number,
  height: number,
  opts: EncodeOptions,
  mod: CodecModule,
): Uint8Array {
  checkSize(width, height);
  const size = width * height * 4;
  if (rgba.length !== size) {
    throw new TileError('BAD_IMAGE', `RGBA for ${width}x${height} must be ${size} bytes`, {
      have: rgba.length,
    });
  }
  const need = blockBytes(format, width, height);
  const outAt = (size + 15) & ~15;
  const base = mod.ensure(outAt + need);
  const u8 = mod.u8;
  u8.set(rgba, base);
  const high = opts.quality === 'fast' ? 0 : 1;
  if (format === 'bc1')
    mod.exports.encodeBC1(base, width, height, base + outAt, high, opts.alpha === 'ignore' ? 1 : 0);
  else mod.exports.encodeBC3(base, width, height, base + outAt, high);
  return new Uint8Array(u8.buffer.slice(base + outAt, base + outAt + need));
}

/** RGBA8 -> BC1 blocks, any size (edge blocks padded by replication). */
export function encodeBC1(
  rgba: Uint8Array,
  width: number,
  height: number,
  opts: EncodeOptions = {},
  mod: CodecModule = codecs(),
): Uint8Array {
  return encode('bc1', rgba, width, height, opts, mod);
}

/** RGBA8 -> BC3 blocks (8- and 6-value alpha modes tried per block). */
export function encodeBC3(
  rgba: Uint8Array,
  width: number,
  height: number,
  opts: EncodeOptions = {},
  mod: CodecModule = codecs(),
): Uint8Array {
  return encode('bc3', rgba, width, height, opts, mod);
}
