import type { ServerResponse } from 'node:http';
import { type ErrorCode, errorBody, isTileError } from '../../src/protocol/errors.js';

/** HTTP status of each error code (the table in docs/server.md); anything unknown is a 500. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_DATASET: 400,
  BAD_TILE_KEY: 400,
  BAD_EXTENSION: 400,
  BAD_RANGE: 400,
  BAD_REQUEST: 400,
  TOO_MANY_TILES: 400,
  BAD_FRAME: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  QUERY_TOO_LARGE: 414,
  HEADERS_TOO_LARGE: 431,
  RANGE_NOT_SATISFIABLE: 416,
  RATE_LIMITED: 429,
  UNSUPPORTED: 501,
  ORIGIN_ERROR: 502,
  BAD_IMAGE: 502,
  BAD_ARCHIVE: 502,
  BAD_DESCRIPTOR: 502,
  IMAGE_TOO_LARGE: 502,
  ORIGIN_UNAVAILABLE: 502,
  OVERLOADED: 503,
  // Per tile of a batch (a frame or an `errors` entry), never a whole response: the tile exists
  // but did not fit this answer; 5xx so the service worker fetches it alone (src/sw/Batcher.ts).
  BATCH_TOO_LARGE: 503,
  CIRCUIT_OPEN: 503,
  ORIGIN_TIMEOUT: 504,
  DEADLINE_EXCEEDED: 504,
};

function statusForCode(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

const PUBLIC_5XX: Partial<Record<ErrorCode, string>> = {
  ORIGIN_ERROR: 'the origin answered with an error',
  UNSUPPORTED: 'not available on this server',
  BAD_IMAGE: 'the source tile at the origin could not be decoded',
  BAD_ARCHIVE: 'the dataset archive at the origin is unreadable',
  BAD_DESCRIPTOR: 'the dataset descriptor at the origin is unreadable',
  IMAGE_TOO_LARGE: 'the source tile at the origin is too large to convert',
  ORIGIN_UNAVAILABLE: 'the origin is unreachable',
  OVERLOADED: 'too many requests waiting; retry later',
  BATCH_TOO_LARGE: 'this batch reached its byte limit (BATCH_MAX_BYTES); fetch this tile alone',
  CIRCUIT_OPEN: 'the origin is failing; retry later',
  ORIGIN_TIMEOUT: 'the origin did not answer in time',
  DEADLINE_EXCEEDED: 'the request deadline passed',
};

/** TileError details that are safe and useful for clients (the batch limit; which read of a dataset timed out). */
const PUBLIC_DETAILS = ['limit', 'maxBytes', 'read'] as const;

export interface ErrorInfo {
  status: number;
  code: ErrorCode;
  message: string;
  retryAfterSec: number | undefined;
  extra: Record<string, unknown>;
}

/** Turns anything thrown into what the client may see: never a stack, never an internal message. */
export function errorInfo(e: unknown): ErrorInfo {
  if (isTileError(e)) {
    const status = statusForCode(e.code);
    const ra = e.details['retryAfterSec'];
    const retryAfterSec = typeof ra === 'number' && ra >= 0 ? Math.ceil(ra) : status === 503 ? 1 : undefined;
    // Origin-side messages may name hosts or buckets: 5xx get a fixed text.
    const message = status >= 500 ? (PUBLIC_5XX[e.code] ?? 'internal error') : e.message;
    const extra: Record<string, unknown> = {};
    for (const k of PUBLIC_DETAILS) if (e.details[k] !== undefined) extra[k] = e.details[k];
    return { status, code: status === 500 ? 'INTERNAL' : e.code, message, retryAfterSec, extra };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error', retryAfterSec: undefined, extra: {} };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  extra?: Record<string, string>,
): void {
  const body = JSON.stringify(value);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    ...extra,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Where error responses are counted and logged (the server context). */
export interface ErrorSink {
  counters: { errors4xx: number; errors5xx: number };
  log: { error(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** Error JSON `{"error":{"code","message"}}`; if headers are already out, the socket is cut instead. */
export function sendError(res: ServerResponse, e: unknown, sink?: ErrorSink): void {
  const info = errorInfo(e);
  if (isTileError(e, 'ABORTED')) {
    res.destroy();
    return;
  }
  if (sink) {
    if (info.status >= 500) {
      sink.counters.errors5xx++;
      if (info.status === 500) sink.log.error({ err: e, url: res.req.url }, 'internal error');
      else sink.log.warn({ code: info.code, url: res.req.url }, 'upstream error');
    } else sink.counters.errors4xx++;
  }
  const extra: Record<string, string> = {};
  if (info.retryAfterSec !== undefined) extra['Retry-After'] = String(info.retryAfterSec);
  // RFC 9110 §15.5.6: a 405 must list the methods this route takes (cache-clear is POST only).
  if (info.status === 405) {
    const allow = isTileError(e) ? e.details.allow : undefined;
    extra['Allow'] = typeof allow === 'string' ? allow : 'GET, HEAD';
  }
  sendJson(res, info.status, errorBody(info.code, info.message, info.extra), extra);
}
