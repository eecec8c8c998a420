import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { TileError } from '../../src/protocol/errors.js';
import { datasetKeyPrefix } from '../../src/protocol/tileKey.js';
import { contentTypeFor } from '../origin/contentType.js';
import { mapLimit } from './mapLimit.js';
import { S3Bucket, type S3Target } from './s3Bucket.js';
import { withRetry } from './withRetry.js';

export interface UploadProgress {
  done: number;
  total: number;
  uploaded: number;
  skipped: number;
  bytes: number;
}

/** One local file and the bucket key it goes to. */
export interface UploadItem {
  file: string;
  key: string;
}

/** What every upload takes, whatever the layout. */
export interface UploadCommonOptions {
  target: S3Target;
  /** TILE_KEY_TEMPLATE, so the uploaded keys are the ones the server reads. */
  keyTemplate?: string;
  concurrency?: number;
  /** Attempts per request, including the first. */
  attempts?: number;
  attemptTimeoutMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: UploadProgress) => void;
  onRetry?: (key: string, e: TileError, attempt: number, delayMs: number) => void;
}

/** A single-part upload's ETag is the body's MD5 on S3 and R2; multipart ones ("...-N") are not. */
function etagMd5(etag: string | undefined): string | undefined {
  const m = etag ? /^(?:W\/)?"?([0-9a-f]{32})"?$/i.exec(etag.trim()) : null;
  return m ? m[1]!.toLowerCase() : undefined;
}

/**
 * Uploads files to an S3/R2 bucket: concurrent, each request retried with
 * backoff, and resumable. A key already in the bucket with the same size (and
 * the same MD5 when its ETag carries one) is skipped, so a rerun after a
 * failure only sends what is missing. `last` goes after all the others: it is
 * the object whose presence tells the server the dataset is complete (a
 * manifest, a DZI descriptor, or a whole archive).
 *
 * Stops at the first request that fails for good (a 4xx, or retries used up)
 * and rejects with that TileError, `details.progress` saying how far it got.
 */
export async function uploadObjects(
  items: Iterable<UploadItem>,
  count: number,
  last: UploadItem,
  o: UploadCommonOptions,
): Promise<UploadProgress> {
  const concurrency = o.concurrency ?? 16;
  const bucket = new S3Bucket(o.target, concurrency);
  const progress: UploadProgress = { done: 0, total: count + 1, uploaded: 0, skipped: 0, bytes: 0 };
  const retry = (key: string) => ({
    attempts: o.attempts ?? 5,
    attemptTimeoutMs: o.attemptTimeoutMs ?? 30_000,
    baseDelayMs: o.baseDelayMs ?? 250,
    maxDelayMs: o.maxDelayMs ?? 10_000,
    ...(o.signal ? { signal: o.signal } : {}),
    onRetry: (e: TileError, attempt: number, delay: number) => o.onRetry?.(key, e, attempt, delay),
  });

  const one = async ({ file, key }: UploadItem): Promise<void> => {
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch (e) {
      throw new TileError('NOT_FOUND', `file missing: ${file}`, { file }, { cause: e });
    }
    const head = await withRetry((signal) => bucket.head(key, signal), retry(key));
    const remoteMd5 = etagMd5(head?.etag);
    const same =
      head !== null &&
      head.size === body.byteLength &&
      (remoteMd5 === undefined || remoteMd5 === createHash('md5').update(body).digest('hex'));
    if (same) {
      progress.skipped++;
    } else {
      const sha256 = createHash('sha256').update(body).digest('hex');
      const type = contentTypeFor(file) ?? 'application/octet-stream';
      await withRetry((signal) => bucket.put(key, body, type, sha256, signal), retry(key));
      progress.uploaded++;
      progress.bytes += body.byteLength;
    }
    progress.done++;
    o.onProgress?.({ ...progress });
  };

  try {
    await mapLimit(items, concurrency, one, o.signal);
    await one(last);
    return { ...progress };
  } catch (e) {
    const err =
      e instanceof TileError
        ? e
        : o.signal?.aborted
          ? new TileError('ABORTED', 'upload aborted', {}, { cause: e })
          : new TileError('INTERNAL', String(e), {}, { cause: e });
    err.details.progress = { ...progress };
    throw err;
  } finally {
    await bucket.close();
  }
}

/**
 * The key prefix of a dataset's single objects (`d.pmtiles`, `d.dzi`, `d_files/`)
 * under TILE_KEY_TEMPLATE; a template without `{dataset}` is refused, as the
 * server would never look for them.
 */
export function singleObjectPrefix(template: string): string {
  const prefix = datasetKeyPrefix(template);
  if (prefix === undefined) {
    throw new TileError(
      'BAD_CONFIG',
      'TILE_KEY_TEMPLATE has no {dataset}: the server finds PMTiles archives and DZI descriptors only beside {dataset}',
      { variable: 'TILE_KEY_TEMPLATE' },
    );
  }
  return prefix;
}
