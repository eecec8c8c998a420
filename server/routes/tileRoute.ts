import type { IncomingMessage, ServerResponse } from 'node:http';
import { TileError } from '../../src/protocol/errors.js';
import { TILE_GENERATION_HEADER } from '../../src/protocol/swMessages.js';
import { assertDatasetId, parseTileKey } from '../../src/protocol/tileKey.js';
import { sendError } from '../http/respond.js';
import type { ServerContext } from '../http/ServerContext.js';
import type { TileEntry } from '../tiles/MemoryTileCache.js';
import type { TileSource } from '../tiles/TileService.js';
import { gzipEtag, gzipResponseHeaders, tileResponseHeaders } from './tileHeaders.js';

/** True when If-None-Match names this ETag (or `*`). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined || etag === '') return false;
  if (header === etag || header === '*') return true;
  // Weak comparison (RFC 9110 13.1.2): W/"x" matches "x".
  for (const part of header.split(',')) {
    const t = part.trim();
    if (t === etag || t === `W/${etag}`) return true;
  }
  return false;
}

/** Writes a tile. A memory hit uses the entry's prebuilt header lists (tileHeaders.ts): no allocation. */
function writeTile(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ServerContext,
  entry: TileEntry,
  source: TileSource,
  generation: number,
): void {
  ctx.counters.tilesBySource[source]++;
  if (entry.gzip && acceptsGzip(req.headers['accept-encoding'])) {
    writeGzipTile(req, res, ctx, entry, source, generation);
    return;
  }
  if (etagMatches(req.headers['if-none-match'], entry.etag)) {
    ctx.counters.notModified++;
    res.writeHead(304, tileResponseHeaders(entry, source, generation, true, ctx.cacheControl));
    res.end();
    return;
  }
  res.writeHead(200, tileResponseHeaders(entry, source, generation, false, ctx.cacheControl));
  res.end(req.method === 'HEAD' ? undefined : entry.bytes);
}

/** True when Accept-Encoding allows gzip (`gzip` or `*`, without `q=0`). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name !== 'gzip' && name !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/** A gzip'd vector tile passed through as stored (server/tiles/TileService.ts keeps both forms). */
function writeGzipTile(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ServerContext,
  entry: TileEntry,
  source: TileSource,
  generation: number,
): void {
  const notModified = etagMatches(req.headers['if-none-match'], gzipEtag(entry));
  const headers = gzipResponseHeaders(entry, source, generation, notModified, ctx.cacheControl);
  if (notModified) ctx.counters.notModified++;
  res.writeHead(notModified ? 304 : 200, headers);
  res.end(notModified || req.method === 'HEAD' ? undefined : entry.gzip);
}

/** A tile missing in every format: 404 JSON, still saying where the answer came from and the generation. */
function notFound(rest: string, source: TileSource, generation: number, res: ServerResponse): TileError {
  res.setHeader('X-Tile-Source', source);
  res.setHeader(TILE_GENERATION_HEADER, String(generation));
  return new TileError('NOT_FOUND', `tile ${rest} does not exist`);
}

/**
 * `GET|HEAD /api/tiles/{dataset}/{z}/{x}/{y}.{ext}`; `rest` is the path after
 * `/api/tiles/` without the query. A fresh memory hit is answered inline,
 * before any parsing: only validated keys are ever cached. Every answer says
 * `X-Tile-Source` and `X-Tile-Generation` (the dataset's cache generation, so
 * a service worker sees a cache-clear on single tiles as on batches).
 */
export function tileRoute(req: IncomingMessage, res: ServerResponse, ctx: ServerContext, rest: string): void {
  const hit = ctx.tiles.lookup(rest);
  if (hit !== undefined && hit.bytes !== null) {
    // A stored entry's generation is always its dataset's current one (MemoryTileCache).
    writeTile(req, res, ctx, hit, 'memory-cache', hit.generation);
    return;
  }
  const slash = rest.indexOf('/');
  const dataset = assertDatasetId(rest.slice(0, slash));
  const coord = parseTileKey(rest.slice(slash + 1));
  if (hit !== undefined) {
    // A remembered 404 (negative entry): answered without touching the origin.
    throw notFound(rest, 'memory-cache', hit.generation, res);
  }
  // Outside a known pyramid: a 404 that costs the origin nothing, so no budget token either.
  const outside = ctx.tiles.knownMissing(dataset, coord);
  if (outside) throw notFound(rest, outside.source, outside.entry.generation, res);
  // A cold tile: charged to its client's miss budget (429 + Retry-After when spent).
  const ticket = ctx.guard.ticket(req);
  const refused = ticket.take();
  if (refused !== undefined) throw refused;
  const ac = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) ac.abort();
  };
  res.once('close', onClose);
  ctx.tiles.fetch(dataset, coord, rest, ac.signal).then(
    (r) => {
      res.off('close', onClose);
      ticket.settle(r.source);
      if (ac.signal.aborted) return;
      // The generation now, as the batch route sends it: a clear during the fetch shows.
      const generation = ctx.tiles.generation(dataset);
      if (r.entry.bytes === null) sendError(res, notFound(rest, r.source, generation, res), ctx);
      else writeTile(req, res, ctx, r.entry, r.source, generation);
    },
    (e: unknown) => {
      res.off('close', onClose);
      if (ac.signal.aborted) return;
      sendError(res, e, ctx);
    },
  );
}
