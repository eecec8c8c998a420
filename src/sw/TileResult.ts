import type { SwTileSource } from '../protocol/swMessages.js';

/** A tile answer, before it becomes a Response (one per waiter). */
export interface TileResult {
  /** 200, 404, or the error status the server gave. */
  status: number;
  body: Uint8Array;
  contentType: string;
  etag: string | undefined;
  source: SwTileSource;
  /** The server's cache generation when it said one. */
  generation: string | undefined;
  /** The server's Cache-Control when it sent one (single-tile fetches). */
  cacheControl?: string | undefined;
  /** Fetched by the prefetcher and not yet shown. */
  prefetched?: boolean;
}

/**
 * One waiter's Response. `cacheControl` (the server's value, else the
 * option) lets the page's in-memory image cache reuse the tile on a reload
 * without a round trip to the worker, as it would for a direct response.
 */
export function tileResponse(
  r: TileResult,
  source: SwTileSource = r.source,
  cacheControl?: string,
): Response {
  const headers = new Headers({ 'X-Tile-Source': source, 'Content-Type': r.contentType });
  const cc = r.status === 200 ? (r.cacheControl ?? cacheControl) : 'no-store';
  if (cc) headers.set('Cache-Control', cc);
  if (r.etag) headers.set('ETag', r.etag);
  if (r.generation) headers.set('X-Tile-Generation', r.generation);
  headers.set('Content-Length', String(r.body.byteLength));
  // The page gets a fresh copy: Response copies a BufferSource body.
  return new Response(r.status === 204 ? null : (r.body as Uint8Array<ArrayBuffer>), {
    status: r.status,
    headers,
  });
}

export function notFound(source: SwTileSource, generation?: string): TileResult {
  return {
    status: 404,
    body: new TextEncoder().encode('{"error":{"code":"NOT_FOUND","message":"tile not found"}}'),
    contentType: 'application/json',
    etag: undefined,
    source,
    generation,
  };
}
