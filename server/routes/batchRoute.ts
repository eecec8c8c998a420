import { setMaxListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BATCH_MEDIA_TYPE,
  type BatchFrame,
  encodeBatchHeader,
  encodeFrame,
} from '../../src/protocol/batchFraming.js';
import { isTileError, TileError } from '../../src/protocol/errors.js';
import { requireToken } from '../http/auth.js';
import { drainOrClose, finishOrClose } from '../http/drainOrClose.js';
import { errorInfo, sendError } from '../http/respond.js';
import type { ServerContext } from '../http/ServerContext.js';
import { sendDeadline } from '../http/sendDeadline.js';
import type { ServedTile } from '../tiles/TileService.js';
import { type BatchItem, readBatchKeys } from './batchKeys.js';
import { buildCacheStats } from './buildCacheStats.js';
import { FrameBatcher } from './FrameBatcher.js';
import { FrameWriter } from './FrameWriter.js';

type Outcome = { item: BatchItem; result: ServedTile } | { item: BatchItem; error: unknown };

/**
 * The byte budget of one batch answer (BATCH_MAX_BYTES, tile bytes before
 * base64). Tiles are admitted in completion order while they fit; the first
 * that does not closes the budget, and it and every tile after it are
 * answered BATCH_TOO_LARGE (never dropped silently).
 */
export class ByteBudget {
  used = 0;
  closed = false;

  constructor(readonly limit: number) {}

  take(bytes: number): boolean {
    if (this.closed || this.used + bytes > this.limit) {
      this.closed = true;
      return false;
    }
    this.used += bytes;
    return true;
  }
}

/** `GET|POST /api/tiles/{dataset}/batch`: JSON with base64 (the seeds') or the binary streamed framing. */
export async function batchRoute(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ServerContext,
  dataset: string,
  query: string,
): Promise<void> {
  requireToken(req, ctx.config.apiToken, false);
  const items = await readBatchKeys(req, query, ctx.config.maxBodyBytes);
  ctx.counters.batches++;
  ctx.counters.batchTiles += items.length;
  // Ends this batch's tile waits: when the client leaves, or when the byte budget closes
  // (a fetch shared with other clients goes on; one nobody else waits for is aborted).
  const ac = new AbortController();
  // One signal is shared by every tile of the batch (each adds and later removes a listener).
  setMaxListeners(0, ac.signal);
  let clientGone = false;
  const onClose = () => {
    if (res.writableFinished) return;
    clientGone = true;
    ac.abort();
  };
  res.once('close', onClose);
  const budget = new ByteBudget(ctx.config.batchMaxBytes);
  const overBudget = () => {
    ctx.counters.batchTilesOverLimit++;
    return new TileError('BATCH_TOO_LARGE', `a batch answer carries at most ${budget.limit} tile bytes`, {
      limit: budget.limit,
    });
  };
  // Each cold tile of the batch takes one miss from the client's budget; hits take none.
  const ticket = ctx.guard.ticket(req);
  const one = async (item: BatchItem): Promise<Outcome> => {
    try {
      const cacheKey = `${dataset}/${item.key}`;
      const hit = ctx.tiles.lookup(cacheKey);
      let result: ServedTile;
      // Outside a known pyramid: missing at no origin cost, so no budget token is taken.
      const outside = hit === undefined ? ctx.tiles.knownMissing(dataset, item.coord) : undefined;
      if (hit !== undefined) result = { entry: hit, source: 'memory-cache' };
      else if (outside) result = outside;
      else {
        const refused = ticket.take();
        if (refused !== undefined) return { item, error: refused };
        result = await ctx.tiles.fetch(dataset, item.coord, cacheKey, ac.signal);
        ticket.settle(result.source);
      }
      const bytes = result.entry.bytes;
      if (bytes !== null && !budget.take(bytes.byteLength)) {
        const error = overBudget();
        // Nothing after this tile fits either: stop waiting for the rest.
        if (!ac.signal.aborted) ac.abort(error);
        return { item, error };
      }
      ctx.counters.tilesBySource[result.source]++;
      return { item, result };
    } catch (error) {
      if (
        budget.closed &&
        !clientGone &&
        (isTileError(error, 'ABORTED') || isTileError(error, 'BATCH_TOO_LARGE'))
      ) {
        return { item, error: overBudget() };
      }
      return { item, error };
    }
  };
  const gone = () => clientGone;
  try {
    const accept = req.headers.accept ?? '';
    if (accept.includes(BATCH_MEDIA_TYPE)) await streamBinary(res, ctx, dataset, items, one, gone);
    else await answerJson(res, ctx, dataset, items, one, gone);
  } finally {
    res.off('close', onClose);
  }
}

async function answerJson(
  res: ServerResponse,
  ctx: ServerContext,
  dataset: string,
  items: BatchItem[],
  one: (i: BatchItem) => Promise<Outcome>,
  gone: () => boolean,
): Promise<void> {
  const outcomes = await Promise.all(items.map(one));
  if (gone()) return;
  const tiles: Record<string, string | null> = {};
  const errors: Record<string, { code: string; message: string; [detail: string]: unknown }> = {};
  let found = 0;
  for (const o of outcomes) {
    if ('result' in o && o.result.entry.bytes) {
      const b = o.result.entry.bytes;
      tiles[o.item.key] = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
      found++;
    } else {
      tiles[o.item.key] = null;
      if ('error' in o) {
        const info = errorInfo(o.error);
        errors[o.item.key] = { ...info.extra, code: info.code, message: info.message };
      }
    }
  }
  const body: Record<string, unknown> = {
    dataset_id: dataset,
    count: found,
    tiles,
    cache_stats: buildCacheStats(ctx, dataset),
  };
  if (Object.keys(errors).length > 0) body['errors'] = errors;
  await sendJsonSliced(res, ctx, JSON.stringify(body));
}

/** Slices of a big JSON answer: each is one socket write, so a slow reader's progress shows as `drain`s. */
const JSON_SLICE = 64 * 1024;

/**
 * The JSON answer (up to ~4/3 × BATCH_MAX_BYTES) written in slices with
 * backpressure under SEND_TIMEOUT_MS: one big `end(body)` would sit in the
 * socket buffer for as long as a client that stopped reading keeps the
 * connection open, and would show no progress to the send deadline.
 */
async function sendJsonSliced(res: ServerResponse, ctx: ServerContext, text: string): Promise<void> {
  const length = Buffer.byteLength(text);
  res.writeHead(200, {
    Vary: 'Accept',
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  const deadline = sendDeadline(ctx, res, 'batch');
  if (length <= JSON_SLICE) res.end(text);
  else {
    const bytes = Buffer.from(text);
    for (let off = 0; off < bytes.length; off += JSON_SLICE) {
      const ok = res.write(bytes.subarray(off, off + JSON_SLICE));
      if (!ok) await drainOrClose(res, deadline);
      if (res.destroyed) return;
    }
    res.end();
  }
  await finishOrClose(res, deadline);
}

function frameOf(o: Outcome): BatchFrame {
  if ('result' in o) {
    const e = o.result.entry;
    if (e.bytes === null) return { kind: 'missing', key: o.item.key };
    return {
      kind: 'tile',
      key: o.item.key,
      meta: { contentType: e.contentType, etag: e.etag, source: o.result.source },
      body: e.bytes,
    };
  }
  const info = errorInfo(o.error);
  if (info.code === 'NOT_FOUND') return { kind: 'missing', key: o.item.key };
  return {
    kind: 'error',
    key: o.item.key,
    error: { code: info.code, message: info.message, status: info.status },
  };
}

/** Header first, then one frame per tile in completion order, then END with the stats. */
async function streamBinary(
  res: ServerResponse,
  ctx: ServerContext,
  dataset: string,
  items: BatchItem[],
  one: (i: BatchItem) => Promise<Outcome>,
  gone: () => boolean,
): Promise<void> {
  res.writeHead(200, {
    'Content-Type': BATCH_MEDIA_TYPE,
    'Cache-Control': 'no-store',
    Vary: 'Accept',
    'X-Content-Type-Options': 'nosniff',
    // Read by the service worker before the first frame (src/protocol/swMessages.ts).
    'X-Tile-Generation': String(ctx.tiles.generation(dataset)),
  });
  // Send the header at once so the client sees the stream open before the slowest tile.
  res.flushHeaders();
  const w = new FrameWriter(res, sendDeadline(ctx, res, 'batch'));
  await w.write([encodeBatchHeader()]);
  const out = new FrameBatcher(w);
  let sent = 0;
  await Promise.all(
    items.map(async (item) => {
      const o = await one(item);
      if (gone()) return;
      try {
        await out.write(encodeFrame(frameOf(o)));
        sent++;
      } catch (e) {
        if (!isTileError(e, 'ABORTED')) ctx.log.warn({ err: e }, 'batch frame write failed');
      }
    }),
  );
  if (gone() || res.destroyed) return;
  try {
    await w.write(
      encodeFrame({
        kind: 'end',
        trailer: {
          count: sent,
          generation: ctx.tiles.generation(dataset),
          cache_stats: buildCacheStats(ctx, dataset),
        },
      }),
    );
    await w.end();
  } catch (e) {
    if (!isTileError(e, 'ABORTED')) sendError(res, e, ctx);
  }
}
