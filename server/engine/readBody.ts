import type { Readable } from 'node:stream';
import { TileError } from '../../src/protocol/errors.js';
import { discard } from '../origin/discard.js';

/**
 * Reads a whole (small) body into one buffer. Refuses more than `maxBytes`
 * (checked against Content-Length first, then while reading) and a body
 * shorter than its Content-Length: truncated bytes are never returned. The
 * stream is destroyed on every early exit so its socket is released.
 */
export async function readBody(
  body: Readable,
  contentLength: number | undefined,
  maxBytes: number,
): Promise<Uint8Array> {
  if (contentLength !== undefined && contentLength > maxBytes) {
    discard(body);
    throw new TileError('ORIGIN_ERROR', 'origin object too large', {
      contentLength,
      maxBytes,
      reason: 'too-large',
    });
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      const b = chunk as Buffer;
      total += b.length;
      if (total > maxBytes) {
        throw new TileError('ORIGIN_ERROR', 'origin object too large', { maxBytes, reason: 'too-large' });
      }
      chunks.push(b);
    }
  } catch (e) {
    discard(body);
    if (e instanceof TileError) throw e;
    throw new TileError('ORIGIN_UNAVAILABLE', 'origin body failed', { received: total }, { cause: e });
  }
  if (contentLength !== undefined && total !== contentLength) {
    throw new TileError('ORIGIN_UNAVAILABLE', 'origin body shorter than its Content-Length', {
      received: total,
      contentLength,
    });
  }
  const out = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
