import { AwsV4Signer } from 'aws4fetch';
import { type Dispatcher, Pool } from 'undici';
import { TileError } from '../../src/protocol/errors.js';

/** Where and as whom to write: the same variables the server's S3 origin reads. */
export interface S3Target {
  /** S3_ENDPOINT_URL, e.g. https://<account>.r2.cloudflarestorage.com */
  endpoint: string;
  /** AWS_BUCKET_NAME */
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** AWS_REGION; R2 signs with 'auto'. */
  region?: string;
}

export interface HeadResult {
  size: number;
  etag: string | undefined;
}

function header(h: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function retryAfterSec(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
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
    try {
      this.#base = new URL(t.endpoint);
    } catch (e) {
      throw new TileError('BAD_CONFIG', 'S3_ENDPOINT_URL is not a URL', { value: t.endpoint }, { cause: e });
    }
    this.#pool = new Pool(this.#base.origin, { connections, pipelining: 1 });
  }

  #path(key: string): string {
    const prefix = this.#base.pathname.replace(/\/+$/, '');
    const enc = (s: string) => s.split('/').map(encodeURIComponent).join('/');
    return `${prefix}/${enc(this.t.bucket)}/${enc(key)}`;
  }

  async #send(
    method: 'HEAD' | 'PUT',
    key: string,
    headers: Record<string, string>,
    body: Uint8Array | undefined,
    signal: AbortSignal,
  ): Promise<Dispatcher.ResponseData> {
    const path = this.#path(key);
    const signer = new AwsV4Signer({
      url: this.#base.origin + path,
      method,
      headers,
      accessKeyId: this.t.accessKeyId,
      secretAccessKey: this.t.secretAccessKey,
      service: 's3',
      region: this.t.region ?? 'auto',
    });
    const signed: Record<string, string> = {};
    (await signer.sign()).headers.forEach((v, k) => {
      if (k !== 'host') signed[k] = v;
    });
    try {
      return await this.#pool.request({ path, method, headers: signed, body, signal });
    } catch (e) {
      if (signal.aborted) throw new TileError('ABORTED', `${method} ${key} aborted`, { key }, { cause: e });
      const code = (e as { code?: string }).code;
      const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
      throw new TileError(
        timeout ? 'ORIGIN_TIMEOUT' : 'ORIGIN_UNAVAILABLE',
        `${method} ${key} failed: ${code ?? e}`,
        {
          key,
          code,
        },
      );
    }
  }

  #statusError(method: string, key: string, res: Dispatcher.ResponseData): TileError {
    const ra = retryAfterSec(header(res.headers, 'retry-after'));
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
