import type { Readable } from 'node:stream';

/**
 * Where tiles and videos live: a local directory, a public HTTP base (R2
 * public URL) or a signed S3/R2 endpoint. One small interface so the engine,
 * the caches and the tests never care which. Every call takes an AbortSignal;
 * aborting must release the socket/file handle.
 */
export interface Origin {
  /** Short name for logs, metrics and the breaker ("local", "http", "s3"). */
  readonly name: string;
  /**
   * GET one object by key (already made from TILE_KEY_TEMPLATE / VIDEO_KEY_TEMPLATE).
   * Resolves `null` when the object does not exist (404). Rejects with a
   * TileError: ORIGIN_ERROR (with details.status for HTTP statuses), ORIGIN_TIMEOUT,
   * ORIGIN_UNAVAILABLE (refused/reset), ABORTED. The caller must consume or
   * destroy `body` on every path.
   */
  get(key: string, opts: OriginGetOptions): Promise<OriginObject | null>;
  /** Closes pools and handles. */
  close(): Promise<void>;
}

export interface OriginGetOptions {
  signal: AbortSignal;
  /** Inclusive byte range; `end` omitted means to the end. */
  range?: { start: number; end?: number };
  /** Conditional request; a match resolves with status 304 and an empty body. */
  ifNoneMatch?: string;
}

export interface OriginObject {
  status: 200 | 206 | 304;
  body: Readable;
  contentType: string | undefined;
  etag: string | undefined;
  /** Length of `body` when known. */
  contentLength: number | undefined;
  /** Whole object size (from Content-Range on a 206, or Content-Length on a 200). */
  totalSize: number | undefined;
  lastModified: string | undefined;
}
