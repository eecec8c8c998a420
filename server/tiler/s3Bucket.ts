import { type Dispatcher, Pool } from 'undici';
import { TileError } from '../../src/protocol/errors.js';
import { header, transportError } from '../origin/pooledGet.js';
import { parseRetryAfter } from '../origin/retryAfter.js';
import { type S3Target, s3EndpointUrl, s3ObjectPath, signS3 } from '../origin/s3Request.js';

export type { S3Target } from '../origin/s3Request.js';

export interface HeadResult {
  size: number;
  etag: string | undefined;
}

/**
 * Signed HEAD and PUT of single objects, path-style (`/<bucket>/<key>`) like
 * the server's S3 origin, through one undici Pool so the connection count is
 * bounded. Errors: ORIGIN_ERROR with details.status (and retryAfterSec),
 * ORIGIN_UNAVAILABLE / ORIGIN_TIMEOUT for transport failures, ABORTED.
 */
export class S3Bucket {
  readonly #base: URL;
  readonly #pool: Pool;

  constructor(
    private readonly t: S3Target,
    connections: number,
  ) {
    this.#base = s3EndpointUrl(t.endpoint);
    this.#pool = new Pool(this.#base.origin, { connections, pipelining: 1 });
  }

  async #send(
    method: 'HEAD' | 'PUT',
    key: string,
    headers: Record<string, string>,
    body: Uint8Array | undefined,
    signal: AbortSignal,
  ): Promise<Dispatcher.ResponseData> {
    const path = s3ObjectPath(this.#base, this.t.bucket, key);
    const signed = await signS3(this.t, this.#base, method, path, headers);
    try {
      return await this.#pool.request({ path, method, headers: signed, body, signal });
    } catch (e) {
      const err = transportError(e, signal, 's3');
      err.details.key = key;
      throw err;
    }
  }

  #statusError(method: string, key: string, res: Dispatcher.ResponseData): TileError {
    const ra = parseRetryAfter(res.headers['retry-after']);
    return new TileError('ORIGIN_ERROR', `${method} ${key} answered ${res.statusCode}`, {
      key,
      status: res.statusCode,
      ...(ra !== undefined ? { retryAfterSec: ra } : {}),
    });
  }

  /** Size and ETag of an object, or null when it does not exist. */
  async head(key: string, signal: AbortSignal): Promise<HeadResult | null> {
    const res = await this.#send('HEAD', key, {}, undefined, signal);
    await res.body.dump().catch(() => {});
    if (res.statusCode === 404) return null;
    if (res.statusCode !== 200) throw this.#statusError('HEAD', key, res);
    return { size: Number(header(res.headers, 'content-length') ?? -1), etag: header(res.headers, 'etag') };
  }

  /** Writes one object; `sha256` (hex) is signed so the store rejects a corrupted body. */
  async put(
    key: string,
    body: Uint8Array,
    contentType: string,
    sha256: string,
    signal: AbortSignal,
  ): Promise<void> {
    const headers = {
      'content-type': contentType,
      'content-length': String(body.byteLength),
      'x-amz-content-sha256': sha256,
    };
    const res = await this.#send('PUT', key, headers, body, signal);
    await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
    if (res.statusCode < 200 || res.statusCode >= 300) throw this.#statusError('PUT', key, res);
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
