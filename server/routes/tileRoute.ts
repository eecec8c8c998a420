import type { IncomingMessage, ServerResponse } from 'node:http';
import { TileError } from '../../src/protocol/errors.js';
import { assertDatasetId, parseTileKey } from '../../src/protocol/tileKey.js';
import { sendError } from '../http/respond.js';
import type { ServerContext } from '../http/ServerContext.js';
import type { TileEntry } from '../tiles/MemoryTileCache.js';
import type { TileSource } from '../tiles/TileService.js';

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

/** Writes a tile. The memory-cache case uses the entry's prebuilt header list: no allocation. */
function writeTile(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ServerContext,
  entry: TileEntry,
  source: TileSource,
): void {
  ctx.counters.tilesBySource[source]++;
  let headers = entry.headers;
  if (source !== 'memory-cache') {
    headers = headers.slice();
    headers[headers.length - 1] = source;
  }
  if (etagMatches(req.headers['if-none-match'], entry.etag)) {
    ctx.counters.notModified++;
    res.writeHead(304, [
      'ETag',
      entry.etag,
      'Cache-Control',
      headers[7]!,
      'X-Tile-Source',
      source,
      'X-Content-Type-Options',
      'nosniff',
    ]);
    res.end();
    return;
  }
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : entry.bytes);
}

/**
 * `GET|HEAD /api/tiles/{dataset}/{z}/{x}/{y}.{ext}`; `rest` is the path after
 * `/api/tiles/` without the query. A fresh memory hit is answered inline,
 * before any parsing: only validated keys are ever cached.
 */
export function tileRoute(req: IncomingMessage, res: ServerResponse, ctx: ServerContext, rest: string): void {
  const hit = ctx.tiles.lookup(rest);
  if (hit !== undefined && hit.bytes !== null) {
    writeTile(req, res, ctx, hit, 'memory-cache');
    return;
  }
  const slash = rest.indexOf('/');
  const dataset = assertDatasetId(rest.slice(0, slash));
  const coord = parseTileKey(rest.slice(slash + 1));
  if (hit !== undefined) {
    // A remembered 404 (negative entry): answered without touching the origin.
    res.setHeader('X-Tile-Source', 'memory-cache');
    throw new TileError('NOT_FOUND', `tile ${rest} does not exist`);
  }
  const ac = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) ac.abort();
  };
  res.once('close', onClose);
  ctx.tiles.fetch(dataset, coord, rest, ac.signal).then(
    (r) => {
      res.off('close', onClose);
      if (ac.signal.aborted) return;
      if (r.entry.bytes === null) {
        res.setHeader('X-Tile-Source', r.source);
        sendError(res, new TileError('NOT_FOUND', `tile ${rest} does not exist`), ctx);
      } else writeTile(req, res, ctx, r.entry, r.source);
    },
    (e: unknown) => {
      res.off('close', onClose);
      if (ac.signal.aborted) return;
      sendError(res, e, ctx);
    },
  );
}
