import type { IncomingMessage, ServerResponse } from 'node:http';
import { isTileError, TileError } from '../../src/protocol/errors.js';
import { requireToken } from '../http/auth.js';
import { drainOrClose, finishOrClose } from '../http/drainOrClose.js';
import { sendError } from '../http/respond.js';
import type { ServerContext } from '../http/ServerContext.js';
import { sendDeadline } from '../http/sendDeadline.js';
import { parseRange } from '../video/parseRange.js';
import { assertVideoId, type VideoReader } from '../video/VideoService.js';

/**
 * `GET|HEAD /api/video/{id}` with RFC 9110 ranges. Bytes are written as the
 * origin delivers them; a slow client pauses the origin read (backpressure),
 * a client that leaves aborts it, and one that takes nothing for
 * SEND_TIMEOUT_MS is cut (which aborts it too).
 */
export async function videoRoute(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ServerContext,
  rawId: string,
): Promise<void> {
  requireToken(req, ctx.config.apiToken, false);
  const id = assertVideoId(rawId);
  const ac = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) ac.abort();
  };
  res.once('close', onClose);
  let reader: VideoReader | undefined;
  try {
    const m = await ctx.video.stat(id, ac.signal);
    if (!m) throw new TileError('NOT_FOUND', `video ${id} does not exist`);
    const ifRange = req.headers['if-range'] as string | undefined;
    // If-Range: only a strong ETag match (or the exact Last-Modified date) keeps the range (RFC 9110 §13.1.5).
    const rangeAllowed =
      ifRange === undefined ||
      (!ifRange.startsWith('W/') && (ifRange === m.etag || ifRange === m.lastModified));
    const d = rangeAllowed ? parseRange(req.headers.range, m.size) : { kind: 'full' as const };
    const common: Record<string, string | number> = {
      'Content-Type': m.contentType,
      'Accept-Ranges': 'bytes',
      ETag: m.etag,
      // Behind API_TOKEN the bytes are per-credential: a shared cache (CDN) must not keep them, as for tiles.
      'Cache-Control': ctx.cacheControl,
      'X-Content-Type-Options': 'nosniff',
    };
    if (m.lastModified) common['Last-Modified'] = m.lastModified;
    if (d.kind === 'unsatisfiable') {
      res.writeHead(416, {
        ...common,
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Range': `bytes */${m.size}`,
      });
      res.end(
        JSON.stringify({
          error: { code: 'RANGE_NOT_SATISFIABLE', message: `range outside 0-${m.size - 1}` },
        }),
      );
      return;
    }
    const start = d.kind === 'partial' ? d.start : 0;
    const end = d.kind === 'partial' ? d.end : m.size - 1;
    // Opened before the head: a failing origin is still an honest 5xx here, not a cut 206.
    reader =
      req.method === 'HEAD' || m.size === 0 ? undefined : await ctx.video.open(m, start, end, ac.signal);
    const headers: Record<string, string | number> = { ...common, 'Content-Length': end - start + 1 };
    if (d.kind === 'partial') headers['Content-Range'] = `bytes ${start}-${end}/${m.size}`;
    res.writeHead(d.kind === 'partial' ? 206 : 200, headers);
    if (!reader) {
      res.end();
      return;
    }
    const deadline = sendDeadline(ctx, res, 'video');
    for await (const piece of reader.pieces) {
      ctx.counters.videoBytes += piece.length;
      if (!res.write(piece)) await drainOrClose(res, deadline);
      // Cut for a send stall: returning ends the pieces, which destroys the origin body.
      if (ac.signal.aborted || res.destroyed) return;
    }
    res.end();
    await finishOrClose(res, deadline);
  } catch (e) {
    if (ac.signal.aborted || isTileError(e, 'ABORTED')) {
      res.destroy();
      return;
    }
    // Headers already out: the only honest signal left is a cut connection.
    if (res.headersSent) {
      ctx.log.warn({ err: e, id }, 'video stream failed mid-body');
      res.destroy();
      return;
    }
    sendError(res, e, ctx);
  } finally {
    reader?.close();
    res.off('close', onClose);
  }
}
