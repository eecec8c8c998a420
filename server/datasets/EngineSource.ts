import { EtagMismatch, type RangeResponse, type Source } from 'pmtiles';
import { isTileError, TileError } from '../../src/protocol/errors.js';
import type { TileEngine } from '../engineContract.js';

/**
 * The `pmtiles` package's `Source` over our FetchEngine: every header,
 * directory and tile read is one ranged origin request through the same pool,
 * deadlines, retries, breaker and coalescing as a tile.
 */
export class EngineSource implements Source {
  /** Origin range reads made through this source (tests and cache-stats). */
  reads = 0;
  #primed: { offset: number; length: number; response: RangeResponse } | undefined;
  /**
   * Reads served from the primed copy end before this offset: the header, root
   * directory and metadata, not leaf directories or tiles (those are read by
   * range, one request each, so their cost shows in the origin's counts).
   */
  primedLimit = 0;

  constructor(
    private readonly engine: TileEngine,
    private readonly key: string,
  ) {}

  getKey(): string {
    return this.key;
  }

  /** The resolver's probe already read the archive's first bytes (the header range). */
  prime(offset: number, length: number, response: RangeResponse): void {
    this.#primed = { offset, length, response };
  }

  async getBytes(
    offset: number,
    length: number,
    signal?: AbortSignal,
    etag?: string,
  ): Promise<RangeResponse> {
    // Reads inside the bytes the probe already has (the header, usually the root directory
    // and the metadata) are served from that copy, with its ETag: no origin request.
    const p = this.#primed;
    if (p && offset === p.offset && length === p.length) return p.response;
    const have = p ? p.response.data.byteLength : 0;
    if (
      p &&
      offset >= p.offset &&
      offset + length <= Math.min(p.offset + have, this.primedLimit) &&
      (etag === undefined || etag === p.response.etag)
    ) {
      const at = offset - p.offset;
      const data = p.response.data.slice(at, at + length);
      return p.response.etag === undefined ? { data } : { data, etag: p.response.etag };
    }
    this.reads++;
    let got: Awaited<ReturnType<TileEngine['getRange']>>;
    try {
      got = await this.engine.getRange(this.key, { offset, length }, signal ?? AbortSignal.timeout(30_000));
    } catch (e) {
      if (
        isTileError(e, 'RANGE_NOT_SATISFIABLE') ||
        (isTileError(e, 'ORIGIN_ERROR') && e.details.status === 416)
      ) {
        throw new TileError('BAD_ARCHIVE', `${this.key} is truncated: nothing at ${offset}`, { offset });
      }
      throw e;
    }
    if (got === null) {
      // The archive vanished since its header was read: a changed dataset, like a changed ETag.
      if (etag !== undefined) throw new EtagMismatch(`${this.key} is gone`);
      throw new TileError('NOT_FOUND', 'archive not found');
    }
    // A weak ETag says nothing about byte identity (as the package's FetchSource).
    const tag = got.etag?.startsWith('W/') ? undefined : got.etag;
    if (etag !== undefined && tag !== undefined && tag !== etag)
      throw new EtagMismatch(`${this.key} changed`);
    const b = got.bytes;
    // Only the header read may come back short (a small archive); a directory or tile cut short is a truncated archive.
    if (b.byteLength < length && offset !== 0) {
      throw new TileError('BAD_ARCHIVE', `${this.key} is truncated`, { offset, length, got: b.byteLength });
    }
    const data = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    return tag === undefined ? { data } : { data, etag: tag };
  }
}
