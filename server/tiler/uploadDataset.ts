import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TileError } from '../../src/protocol/errors.js';
import { fillTemplate, type TileExt } from '../../src/protocol/tileKey.js';
import { s3TargetFrom } from '../config.js';
import { contentTypeFor } from '../origin/contentType.js';
import { type DatasetManifest, readManifest } from './manifest.js';
import { mapLimit } from './mapLimit.js';
import { S3Bucket, type S3Target } from './s3Bucket.js';
import { withRetry } from './withRetry.js';

export type { S3Target } from './s3Bucket.js';

export interface UploadProgress {
  done: number;
  total: number;
  uploaded: number;
  skipped: number;
  bytes: number;
}

export interface UploadOptions {
  /** A dataset directory written by tileImage (it must hold manifest.json). */
  datasetDir: string;
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

export interface UploadResult extends UploadProgress {
  dataset: string;
  manifestKey: string;
}

/** Where the manifest goes: beside the dataset's tiles, e.g. `sample/manifest.json` for the default template. */
export function manifestKeyFor(template: string, dataset: string): string {
  const head = template.slice(0, template.indexOf('{z}'));
  if (head.includes('{dataset}')) {
    const prefix = head.replaceAll('{dataset}', dataset);
    return `${prefix.endsWith('/') || prefix === '' ? prefix : `${prefix}/`}manifest.json`;
  }
  return `${dataset}/manifest.json`;
}

interface Item {
  file: string;
  key: string;
}

function* tileItems(m: DatasetManifest, dir: string, template: string): Generator<Item> {
  const ext = m.format as TileExt;
  for (const l of m.levels) {
    for (let x = 0; x < l.cols; x++) {
      for (let y = 0; y < l.rows; y++) {
        const file = path.join(dir, String(l.z), String(x), `${y}.${m.format}`);
        yield { file, key: fillTemplate(template, m.dataset, { z: l.z, x, y, ext }) };
      }
    }
  }
}

/** A single-part upload's ETag is the body's MD5 on S3 and R2; multipart ones ("...-N") are not. */
function etagMd5(etag: string | undefined): string | undefined {
  const m = etag ? /^(?:W\/)?"?([0-9a-f]{32})"?$/i.exec(etag.trim()) : null;
  return m ? m[1]!.toLowerCase() : undefined;
}

/**
 * Uploads a tiled dataset to an S3/R2 bucket: concurrent, each request
 * retried with backoff, and resumable. A key already in the bucket with the
 * same size (and the same MD5 when its ETag carries one) is skipped, so a
 * rerun after a failure only sends what is missing. The manifest goes last:
 * its presence in the bucket means every tile is there.
 *
 * Stops at the first request that fails for good (a 4xx, or retries used up)
 * and rejects with that TileError, `details.progress` saying how far it got.
 */
export async function uploadDataset(o: UploadOptions): Promise<UploadResult> {
  const datasetDir = path.resolve(o.datasetDir);
  const manifest = await readManifest(datasetDir);
  if (!manifest) {
    throw new TileError('BAD_REQUEST', `no tiler manifest.json in ${datasetDir}: not a complete dataset`, {
      datasetDir,
    });
  }
  const template = o.keyTemplate ?? '{dataset}/{z}/{x}/{y}.{ext}';
  const manifestKey = manifestKeyFor(template, manifest.dataset);
  const concurrency = o.concurrency ?? 16;
  const bucket = new S3Bucket(o.target, concurrency);
  const progress: UploadProgress = {
    done: 0,
    total: manifest.tileCount + 1,
    uploaded: 0,
    skipped: 0,
    bytes: 0,
  };
  const retry = (key: string) => ({
    attempts: o.attempts ?? 5,
    attemptTimeoutMs: o.attemptTimeoutMs ?? 30_000,
    baseDelayMs: o.baseDelayMs ?? 250,
    maxDelayMs: o.maxDelayMs ?? 10_000,
    ...(o.signal ? { signal: o.signal } : {}),
    onRetry: (e: TileError, attempt: number, delay: number) => o.onRetry?.(key, e, attempt, delay),
  });

  const one = async ({ file, key }: Item): Promise<void> => {
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch (e) {
      throw new TileError('NOT_FOUND', `tile file missing: ${file}`, { file }, { cause: e });
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
    await mapLimit(tileItems(manifest, datasetDir, template), concurrency, one, o.signal);
    await one({ file: path.join(datasetDir, 'manifest.json'), key: manifestKey });
    return { ...progress, dataset: manifest.dataset, manifestKey };
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

/** The bucket settings from the environment (the server's names), or a BAD_CONFIG error naming what is missing. */
export function s3TargetFromEnv(env: NodeJS.ProcessEnv = process.env): S3Target {
  return s3TargetFrom(env, 'for --upload');
}
