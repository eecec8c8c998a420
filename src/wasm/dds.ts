import { TileError } from '../protocol/errors.js';
import { type BlockFormat, blockBytes, checkSize, MAX_SIDE } from './blockCodec.js';
import { type CodecModule, codecs } from './codecModule.js';

// DDS layout: https://learn.microsoft.com/en-us/windows/win32/direct3ddds/dds-header
const MAGIC = 0x20534444; // 'DDS '
const HEADER = 128;
const DDSD_CAPS = 0x1;
const DDSD_HEIGHT = 0x2;
const DDSD_WIDTH = 0x4;
const DDSD_PIXELFORMAT = 0x1000;
const DDSD_MIPMAPCOUNT = 0x20000;
const DDSD_LINEARSIZE = 0x80000;
const DDPF_FOURCC = 0x4;
const DDSCAPS_COMPLEX = 0x8;
const DDSCAPS_TEXTURE = 0x1000;
const DDSCAPS_MIPMAP = 0x400000;
const DDSCAPS2_CUBEMAP = 0x200;
const DDSCAPS2_VOLUME = 0x200000;
const DXT1 = 0x31545844;
const DXT5 = 0x35545844;
const DX10 = 0x30315844;
// DXGI_FORMAT values accepted behind a DX10 header
const DXGI: Record<number, BlockFormat> = { 71: 'bc1', 72: 'bc1', 77: 'bc3', 78: 'bc3' };

export interface DDSLevel {
  width: number;
  height: number;
  /** Blocks of this level: a view into the parsed buffer, not a copy. */
  data: Uint8Array;
}

export interface ParsedDDS {
  format: BlockFormat;
  width: number;
  height: number;
  levels: DDSLevel[];
}

export interface EncodeDDSOptions {
  /** 'auto' (default): BC1 when every alpha is 255, else BC3. */
  format?: BlockFormat | 'auto';
  quality?: 'fast' | 'high';
  /** Default true: the full chain down to 1x1. */
  mipmaps?: boolean;
}

/** Levels of a full chain: floor(log2(max side)) + 1. */
export function mipCount(width: number, height: number): number {
  return Math.floor(Math.log2(Math.max(width, height))) + 1;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function isOpaque(rgba: Uint8Array): boolean {
  if (LITTLE_ENDIAN && rgba.byteOffset % 4 === 0) {
    // one pixel per read: alpha is the top byte of a little-endian word
    const px = new Uint32Array(rgba.buffer, rgba.byteOffset, rgba.length >> 2);
    for (let i = 0; i < px.length; i++) if (px[i]! < 0xff000000) return false;
    return true;
  }
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) return false;
  return true;
}

/**
 * RGBA8 -> a DDS file (DXT1 or DXT5), with a box-filtered mip chain (filtered in linear
 * light, stored as sRGB-encoded data like the input). One copy into linear memory, every
 * level encoded and filtered there, one copy of the whole file out.
 */
export function encodeDDS(
  rgba: Uint8Array,
  width: number,
  height: number,
  opts: EncodeDDSOptions = {},
  mod: CodecModule = codecs(),
): Uint8Array {
  checkSize(width, height);
  if (rgba.length !== width * height * 4) {
    throw new TileError('BAD_IMAGE', `RGBA for ${width}x${height} must be ${width * height * 4} bytes`, {
      have: rgba.length,
    });
  }
  const format = opts.format && opts.format !== 'auto' ? opts.format : isOpaque(rgba) ? 'bc1' : 'bc3';
  const count = opts.mipmaps === false ? 1 : mipCount(width, height);
  const sizes: number[] = [];
  for (let i = 0; i < count; i++)
    sizes.push(blockBytes(format, Math.max(1, width >> i), Math.max(1, height >> i)));
  const total = sizes.reduce((a, b) => a + b, 0);
  // scratch: [file: header + blocks][level A pixels][level B pixels]
  const fileLen = HEADER + total;
  const aAt = (fileLen + 15) & ~15;
  const aLen = (width * height * 4 + 15) & ~15;
  const bAt = aAt + aLen;
  const base = mod.ensure(bAt + Math.max(4, (width >> 1) * (height >> 1) * 4 + 16));
  mod.u8.set(rgba, base + aAt);
  const high = opts.quality === 'fast' ? 0 : 1;
  let src = base + aAt;
  let tmp = base + bAt;
  let at = base + HEADER;
  for (let i = 0; i < count; i++) {
    const w = Math.max(1, width >> i);
    const h = Math.max(1, height >> i);
    if (format === 'bc1') mod.exports.encodeBC1(src, w, h, at, high, 0);
    else mod.exports.encodeBC3(src, w, h, at, high);
    at += sizes[i]!;
    if (i + 1 < count) {
      mod.exports.downsample(src, w, h, tmp);
      [src, tmp] = [tmp, src];
    }
  }
  const out = new Uint8Array(mod.u8.buffer.slice(base, base + fileLen));
  writeHeader(new DataView(out.buffer), format, width, height, count, sizes[0]!);
  return out;
}

function writeHeader(
  dv: DataView,
  format: BlockFormat,
  w: number,
  h: number,
  count: number,
  top: number,
): void {
  for (let i = 0; i < HEADER; i += 4) dv.setUint32(i, 0, true);
  const mips = count > 1;
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, 124, true);
  dv.setUint32(
    8,
    DDSD_CAPS | DDSD_HEIGHT | DDSD_WIDTH | DDSD_PIXELFORMAT | DDSD_LINEARSIZE | (mips ? DDSD_MIPMAPCOUNT : 0),
    true,
  );
  dv.setUint32(12, h, true);
  dv.setUint32(16, w, true);
  dv.setUint32(20, top, true); // linear size: bytes of the top level
  dv.setUint32(28, count, true);
  dv.setUint32(76, 32, true); // DDS_PIXELFORMAT.dwSize
  dv.setUint32(80, DDPF_FOURCC, true);
  dv.setUint32(84, format === 'bc1' ? DXT1 : DXT5, true);
  dv.setUint32(108, DDSCAPS_TEXTURE | (mips ? DDSCAPS_COMPLEX | DDSCAPS_MIPMAP : 0), true);
}

function bad(message: string, details: Record<string, unknown> = {}): TileError {
  return new TileError('BAD_DDS', message, details);
}

/**
 * Parse a DXT1/DXT5 (or DX10 BC1/BC3) DDS. Every field is checked against the buffer before
 * it is used: a short buffer is TRUNCATED, anything inconsistent or unsupported BAD_DDS.
 * Level data are views into `bytes`.
 */
export function parseDDS(bytes: Uint8Array): ParsedDDS {
  if (bytes.length < 4)
    throw new TileError('TRUNCATED', 'DDS shorter than its magic', { have: bytes.length });
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) throw bad('not a DDS file (magic)');
  if (bytes.length < HEADER) throw new TileError('TRUNCATED', 'DDS header truncated', { have: bytes.length });
  if (dv.getUint32(4, true) !== 124) throw bad('DDS header size is not 124', { size: dv.getUint32(4, true) });
  if (dv.getUint32(76, true) !== 32) throw bad('DDS pixel format size is not 32');
  const flags = dv.getUint32(8, true);
  const height = dv.getUint32(12, true);
  const width = dv.getUint32(16, true);
  const caps2 = dv.getUint32(112, true);
  if (caps2 & (DDSCAPS2_CUBEMAP | DDSCAPS2_VOLUME))
    throw bad('cube maps and volume textures are not supported');
  if ((dv.getUint32(80, true) & DDPF_FOURCC) === 0)
    throw bad('DDS without a FourCC (uncompressed) is not supported');
  const fourCC = dv.getUint32(84, true);
  let format: BlockFormat;
  let dataAt = HEADER;
  if (fourCC === DXT1) format = 'bc1';
  else if (fourCC === DXT5) format = 'bc3';
  else if (fourCC === DX10) {
    if (bytes.length < HEADER + 20)
      throw new TileError('TRUNCATED', 'DX10 header truncated', { have: bytes.length });
    const f = DXGI[dv.getUint32(HEADER, true)];
    if (!f || dv.getUint32(HEADER + 4, true) !== 3 || dv.getUint32(HEADER + 12, true) > 1) {
      throw bad('unsupported DX10 texture', { dxgiFormat: dv.getUint32(HEADER, true) });
    }
    format = f;
    dataAt += 20;
  } else {
    throw bad('unsupported FourCC', { fourCC: String.fromCharCode(...bytes.subarray(84, 88)) });
  }
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) {
    throw bad(`bad DDS size ${width}x${height}`, { width, height });
  }
  checkSize(width, height);
  const declared = flags & DDSD_MIPMAPCOUNT ? Math.max(1, dv.getUint32(28, true)) : 1;
  if (declared > mipCount(width, height))
    throw bad('more mip levels than the size allows', { mips: declared });
  const levels: DDSLevel[] = [];
  let at = dataAt;
  for (let i = 0; i < declared; i++) {
    const w = Math.max(1, width >> i);
    const h = Math.max(1, height >> i);
    const n = blockBytes(format, w, h);
    if (at + n > bytes.length) {
      throw new TileError('TRUNCATED', `DDS level ${i} needs ${n} bytes at ${at}`, {
        level: i,
        need: at + n,
        have: bytes.length,
      });
    }
    levels.push({ width: w, height: h, data: bytes.subarray(at, at + n) });
    at += n;
  }
  return { format, width, height, levels };
}
