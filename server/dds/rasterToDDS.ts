import sharp, { type OutputInfo } from 'sharp';
import { TileError } from '../../src/protocol/errors.js';
import { initCodecs } from '../../src/wasm/codecModule.js';
import { encodeDDS } from '../../src/wasm/dds.js';

/** Largest raster converted (a tile is 256 px; this leaves room for big single images). */
const MAX_PIXELS = 8192 * 8192;

export interface RasterToDDSOptions {
  /** 'fast' (default) keeps the event loop free: ~2 ms for a 256 px tile; 'high' is ~5x slower. */
  quality?: 'fast' | 'high';
}

function aborted(signal: AbortSignal): TileError {
  return new TileError('ABORTED', 'DDS conversion aborted', {}, { cause: signal.reason });
}

/**
 * JPEG/PNG/WebP bytes -> DDS: decoded by sharp to RGBA, then the same WASM codec the
 * browser uses: BC1 (DXT1) when every pixel is opaque, BC3 (DXT5) otherwise, with the
 * full mip chain (box filter in linear light). Undecodable input is BAD_IMAGE.
 */
export async function rasterToDDS(
  raster: Uint8Array,
  signal: AbortSignal,
  opts: RasterToDDSOptions = {},
): Promise<Uint8Array> {
  if (signal.aborted) throw aborted(signal);
  const codecs = await initCodecs();
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(raster, { limitInputPixels: MAX_PIXELS, failOn: 'error' })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new TileError('BAD_IMAGE', 'raster could not be decoded', { bytes: raster.length }, { cause: e });
  }
  // sharp's decode cannot be cancelled; the (synchronous) encode is skipped once aborted
  if (signal.aborted) throw aborted(signal);
  const { data, info } = decoded;
  if (info.channels !== 4)
    throw new TileError('BAD_IMAGE', `unexpected ${info.channels} channels after decode`);
  const rgba = new Uint8Array(data.buffer, data.byteOffset, data.length);
  return encodeDDS(rgba, info.width, info.height, { quality: opts.quality ?? 'fast' }, codecs);
}
