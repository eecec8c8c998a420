import type { ConcurrencyLimiter } from '../async/ConcurrencyLimiter.js';
import { isTileError, TileError } from '../protocol/errors.js';
import { TILE_GENERATION_HEADER } from '../protocol/swMessages.js';
import { notFound, type TileResult } from './TileResult.js';

export interface SingleFetchOptions {
  fetch: typeof fetch;
  retries: number;
  backoffBaseMs: number;
  /** Deadline of each attempt (headers and body). */
  singleTimeoutMs: number;
  onSingleFetch?(): void;
  /** Injected for tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new TileError('ABORTED', 'aborted during backoff'));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new TileError('ABORTED', 'aborted during backoff'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const retryable = (status: number) => status >= 500 || status === 429;

/**
 * The error for a 401/403 from the companion. Never an answer the worker
 * gives or caches: the request goes to `fetch(event.request)` instead, which
 * carries whatever the browser itself would send (and is what the page would
 * have got without the worker).
 */
export function authError(status: number, url: string): TileError {
  return new TileError(status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', `the companion answered ${status}`, {
    status,
    url,
  });
}

export const isAuthStatus = (status: number) => status === 401 || status === 403;

/** Per-request extras of a single fetch. */
export interface SingleFetchExtras {
  /** The page request's `Authorization`, forwarded as is. */
  authorization?: string | undefined;
  /** Bounds how many attempts run at once (held for headers and body, released during backoff). */
  limit?: ConcurrencyLimiter | undefined;
}

/**
 * One tile by its own URL, retried on network errors, 5xx and 429 with
 * exponential backoff and jitter. Gives the last HTTP answer when retries
 * run out; throws when no answer came at all, and on 401/403 (`authError`):
 * the caller then lets the browser try the request itself.
 */
export async function fetchSingleTile(
  url: string,
  signal: AbortSignal,
  o: SingleFetchOptions,
  extras: SingleFetchExtras = {},
): Promise<TileResult> {
  const wait = o.sleep ?? sleep;
  let last: TileResult | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt <= o.retries; attempt++) {
    if (attempt > 0) {
      const base = o.backoffBaseMs * 2 ** (attempt - 1);
      await wait(base / 2 + Math.random() * base, signal);
    }
    if (signal.aborted) throw new TileError('ABORTED', 'tile request aborted');
    const once = async (): Promise<TileResult | undefined> => {
      o.onSingleFetch?.();
      const res = await o.fetch(url, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(o.singleTimeoutMs)]),
        ...(extras.authorization === undefined ? {} : { headers: { Authorization: extras.authorization } }),
      });
      const generation = res.headers.get(TILE_GENERATION_HEADER) ?? undefined;
      if (res.status === 404) {
        void res.body?.cancel().catch(() => {});
        return notFound('network', generation);
      }
      if (isAuthStatus(res.status)) {
        void res.body?.cancel().catch(() => {});
        throw authError(res.status, url);
      }
      const body = new Uint8Array(await res.arrayBuffer());
      last = {
        status: res.status,
        body,
        contentType: res.headers.get('Content-Type') ?? 'application/octet-stream',
        etag: res.headers.get('ETag') ?? undefined,
        source: 'network',
        generation,
        cacheControl: res.headers.get('Cache-Control') ?? undefined,
      };
      return retryable(res.status) ? undefined : last;
    };
    try {
      const r = await (extras.limit ? extras.limit.run(signal, once) : once());
      if (r) return r;
    } catch (e) {
      if (signal.aborted) throw new TileError('ABORTED', 'tile request aborted', {}, { cause: e });
      if (isTileError(e, 'UNAUTHORIZED') || isTileError(e, 'FORBIDDEN')) throw e;
      lastError = e;
    }
  }
  if (last) return last;
  throw new TileError('ORIGIN_UNAVAILABLE', `tile fetch failed: ${url}`, { url }, { cause: lastError });
}
