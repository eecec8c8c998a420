import { Readable } from 'node:stream';
import type { Dispatcher, Pool } from 'undici';
import { TileError } from '../../src/protocol/errors.js';
import type { OriginGetOptions, OriginObject } from './Origin.js';
import { parseRetryAfter } from './retryAfter.js';

/** One response header as a string (undici gives arrays for repeated ones). */
export function header(h: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Maps a transport error to the Origin contract's codes. */
export function transportError(e: unknown, signal: AbortSignal, originName: string): TileError {
  if (e instanceof TileError) return e;
  if (signal.aborted)
    return new TileError('ABORTED', 'origin request aborted', { origin: originName }, { cause: e });
  const code = (e as { code?: string }).code;
  if (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return new TileError('ORIGIN_TIMEOUT', 'origin timed out', { origin: originName, code }, { cause: e });
  }
  return new TileError(
    'ORIGIN_UNAVAILABLE',
    'origin connection failed',
    { origin: originName, code },
    { cause: e },
  );
}

/**
 * One GET through an undici Pool with the Origin contract: 404 -> null,
 * other non-2xx -> ORIGIN_ERROR (details.status, details.retryAfterSec), the
 * body of every non-returned response dumped so the socket goes back to the
 * pool instead of leaking.
 */
export async function pooledGet(
  pool: Pool,
  path: string,
  headers: Record<string, string>,
  opts: OriginGetOptions,
  originName: string,
): Promise<OriginObject | null> {
  if (opts.signal.aborted) throw new TileError('ABORTED', 'aborted before the request');
  const h: Record<string, string> = { ...headers };
  if (opts.range) h.range = `bytes=${opts.range.start}-${opts.range.end ?? ''}`;
  if (opts.ifNoneMatch) h['if-none-match'] = opts.ifNoneMatch;
  let res: Dispatcher.ResponseData;
  try {
    res = await pool.request({ path, method: 'GET', headers: h, signal: opts.signal });
  } catch (e) {
    throw transportError(e, opts.signal, originName);
  }
  const { statusCode: status, headers: rh, body } = res;
  if (status === 200 || status === 206 || status === 304) {
    const len = header(rh, 'content-length');
    const contentLength = status === 304 ? 0 : len !== undefined ? Number(len) : undefined;
    let totalSize = status === 200 ? contentLength : undefined;
    const cr = header(rh, 'content-range');
    const m = cr ? /\/(\d+)\s*$/.exec(cr) : null;
    if (m) totalSize = Number(m[1]);
    // undici's body emits AbortError when destroyed unread; callers are told to
    // destroy bodies they do not want, so that must never crash the process.
    // Readers (for-await, pipeline) still see every error through their own listeners.
    body.on('error', () => {});
    let out: Readable = body;
    if (status === 304) {
      await body.dump().catch(() => {});
      out = Readable.from([]);
    }
    return {
      status,
      body: out,
      contentType: header(rh, 'content-type'),
      etag: header(rh, 'etag'),
      contentLength,
      totalSize,
      lastModified: header(rh, 'last-modified'),
    };
  }
  // Not returned to the caller: drain a little (keeps the socket) or destroy.
  await body.dump({ limit: 64 * 1024 }).catch(() => {});
  if (status === 404) return null;
  if (status === 416) {
    throw new TileError('RANGE_NOT_SATISFIABLE', 'origin refused the range', { status, origin: originName });
  }
  const retryAfterSec = parseRetryAfter(rh['retry-after']);
  throw new TileError('ORIGIN_ERROR', `origin answered ${status}`, {
    status,
    origin: originName,
    ...(retryAfterSec !== undefined ? { retryAfterSec } : {}),
  });
}

/**
 * Per-segment RFC 3986 encoding: `/` stays a separator, everything else is
 * escaped, including the `!'()*` that encodeURIComponent leaves alone (SigV4
 * canonical URIs escape them, so the path we send must match what we sign).
 */
export function encodeKey(key: string): string {
  return key
    .split('/')
    .map((s) =>
      encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}
