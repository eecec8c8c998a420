import { setImmediate as nextTurn } from 'node:timers/promises';
import sharp, { type OutputInfo } from 'sharp';
import { TileError } from '../../src/protocol/errors.js';
import { initCodecs } from '../../src/wasm/codecModule.js';
import { encodeDDS } from '../../src/wasm/dds.js';

/** Default bound on the source raster: 1024x1024 (a tile is 256 or 512 px). See DDS_MAX_PIXELS. */
export const DEFAULT_DDS_MAX_PIXELS = 1024 * 1024;

export interface RasterToDDSOptions {
  /** 'fast' (default) keeps the event loop free (see docs/codecs.md for the measured cost); 'high' is ~30x slower. */
  quality?: 'fast' | 'high';
  /**
   * Largest raster (width x height) converted; bigger is IMAGE_TOO_LARGE before any
   * pixel is decoded. The encode runs on the event loop (~40 ms per megapixel here).
   */
  maxPixels?: number;
}

/**
 * Largest compressed input accepted for `maxPixels`: 5 bytes per pixel (more
 * than an RGBA PNG stored without compression) plus 1 MiB of metadata room.
 */
export function maxInputBytes(maxPixels: number): number {
  return maxPixels * 5 + 1024 * 1024;
}

function aborted(signal: AbortSignal): TileError {
  return new TileError('ABORTED', 'DDS conversion aborted', {}, { cause: signal.reason });
}

function tooLarge(what: string, limit: number): TileError {
  return new TileError('IMAGE_TOO_LARGE', `source raster ${what} over the limit of ${limit}`, { limit });
}

/**
 * JPEG/PNG/WebP bytes -> DDS: decoded by sharp to RGBA, then the same WASM codec the
 * browser uses: BC1 (DXT1) when every pixel is opaque, BC3 (DXT5) otherwise, with the
 * full mip chain (box filter in linear light). Undecodable input is BAD_IMAGE; input
 * over `maxPixels` (checked on the header first, then by the decoder) or over
 * {@link maxInputBytes} is IMAGE_TOO_LARGE.
 */
export async function rasterToDDS(
  raster: Uint8Array,
  signal: AbortSignal,
  opts: RasterToDDSOptions = {},
): Promise<Uint8Array> {
  if (signal.aborted) throw aborted(signal);
  const maxPixels = opts.maxPixels ?? DEFAULT_DDS_MAX_PIXELS;
  if (raster.length > maxInputBytes(maxPixels)) {
    throw tooLarge(`of ${raster.length} bytes`, maxInputBytes(maxPixels));
  }
  const codecs = await initCodecs();
  let size: { width?: number | undefined; height?: number | undefined };
  try {
    // Reads the header only: a huge image is refused before its pixels are decoded.
    size = await sharp(raster).metadata();
  } catch (e) {
    throw new TileError('BAD_IMAGE', 'raster could not be decoded', { bytes: raster.length }, { cause: e });
  }
  const pixels = (size.width ?? 0) * (size.height ?? 0);
  if (pixels > maxPixels) throw tooLarge(`of ${size.width}x${size.height} pixels`, maxPixels);
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(raster, { limitInputPixels: maxPixels, failOn: 'error' })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new TileError('BAD_IMAGE', 'raster could not be decoded', { bytes: raster.length }, { cause: e });
  }
  // Let pending I/O run before the synchronous encode.
  await nextTurn();
  // sharp's decode cannot be cancelled; the (synchronous) encode is skipped once aborted
  if (signal.aborted) throw aborted(signal);
  const { data, info } = decoded;
  if (info.channels !== 4)
    throw new TileError('BAD_IMAGE', `unexpected ${info.channels} channels after decode`);
  if (info.width * info.height > maxPixels)
    throw tooLarge(`of ${info.width}x${info.height} pixels`, maxPixels);
  const rgba = new Uint8Array(data.buffer, data.byteOffset, data.length);
  return encodeDDS(rgba, info.width, info.height, { quality: opts.quality ?? 'fast' }, codecs);
}
