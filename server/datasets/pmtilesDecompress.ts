import { promisify } from 'node:util';
import { brotliDecompress, gunzip } from 'node:zlib';
import { Compression } from 'pmtiles';
import { TileError } from '../../src/protocol/errors.js';

const gunzipAsync = promisify(gunzip);
const brotliAsync = promisify(brotliDecompress);

/** Largest inflated directory or tile: a bomb in an archive is refused, not inflated. */
export const MAX_INFLATED_BYTES = 32 * 1024 * 1024;

/** Compressions we can undo on Node 20 (zstd has no zlib binding there). */
export function isServedCompression(c: Compression): boolean {
  return (
    c === Compression.None || c === Compression.Unknown || c === Compression.Gzip || c === Compression.Brotli
  );
}

/**
 * Inflates `bytes` compressed with `c`, bounded by `maxBytes`. None and
 * Unknown are passed as they are; gzip and brotli by zlib; zstd is refused
 * with UNSUPPORTED (501).
 */
export async function inflate(
  bytes: Uint8Array,
  c: Compression,
  maxBytes = MAX_INFLATED_BYTES,
): Promise<Uint8Array> {
  try {
    if (c === Compression.None || c === Compression.Unknown) return bytes;
    if (c === Compression.Gzip) return await gunzipAsync(bytes, { maxOutputLength: maxBytes });
    if (c === Compression.Brotli) return await brotliAsync(bytes, { maxOutputLength: maxBytes });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new TileError('BAD_ARCHIVE', `inflates past ${maxBytes} bytes`, { maxBytes }, { cause: e });
    }
    throw new TileError('BAD_ARCHIVE', 'corrupt compressed data', { code }, { cause: e });
  }
  throw new TileError('UNSUPPORTED', `PMTiles compression ${Compression[c] ?? c} is not supported`, {
    compression: Compression[c] ?? c,
  });
}

/** The package's `DecompressFunc` shape (directories and metadata). */
export async function pmtilesDecompress(buf: ArrayBuffer, c: Compression): Promise<ArrayBuffer> {
  const out = await inflate(new Uint8Array(buf), c);
  return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer;
}
