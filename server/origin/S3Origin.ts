import { AwsV4Signer } from 'aws4fetch';
import { Pool } from 'undici';
import { TileError } from '../../src/protocol/errors.js';
import type { Origin, OriginGetOptions, OriginObject } from './Origin.js';
import { encodeKey, pooledGet, transportError } from './pooledGet.js';

export interface S3OriginOptions {
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  /** S3_ENDPOINT_URL, e.g. https://<account>.r2.cloudflarestorage.com */
  endpoint: string;
  /** 'auto' for R2. */
  region?: string;
  connections: number;
}

/**
 * Signed S3/R2 reads: SigV4 by aws4fetch's AwsV4Signer, path-style URLs, and
 * the signed request sent through our own undici Pool (not global fetch) so
 * the connection limit and socket reuse are ours.
 */
export class S3Origin implements Origin {
  readonly name = 's3';
  readonly pool: Pool;
  readonly #base: URL;

  constructor(private readonly o: S3OriginOptions) {
    try {
      this.#base = new URL(o.endpoint);
    } catch (e) {
      throw new TileError('BAD_CONFIG', 'S3_ENDPOINT_URL is not a URL', { value: o.endpoint }, { cause: e });
    }
    this.pool = new Pool(this.#base.origin, { connections: o.connections, pipelining: 1 });
  }

  async get(key: string, opts: OriginGetOptions): Promise<OriginObject | null> {
    const prefix = this.#base.pathname.replace(/\/+$/, '');
    const path = `${prefix}/${encodeKey(this.o.bucket)}/${encodeKey(key)}`;
    const headers: Record<string, string> = {};
    // aws4fetch leaves `range` out of the signature (UNSIGNABLE_HEADERS), which S3 accepts.
    if (opts.range) headers.range = `bytes=${opts.range.start}-${opts.range.end ?? ''}`;
    if (opts.ifNoneMatch) headers['if-none-match'] = opts.ifNoneMatch;
    let signed: Headers;
    try {
      const signer = new AwsV4Signer({
        url: this.#base.origin + path,
        method: 'GET',
        headers,
        accessKeyId: this.o.accessKeyId,
        secretAccessKey: this.o.secretAccessKey,
        service: 's3',
        region: this.o.region ?? 'auto',
      });
      signed = (await signer.sign()).headers;
    } catch (e) {
      throw transportError(e, opts.signal, this.name);
    }
    const out: Record<string, string> = {};
    signed.forEach((v, k) => {
      if (k !== 'range' && k !== 'if-none-match' && k !== 'host') out[k] = v;
    });
    return pooledGet(this.pool, path, out, opts, this.name);
  }

  #closing: Promise<void> | undefined;
  /** Idempotent: the engine and the server may both close it. */
  close(): Promise<void> {
    this.#closing ??= this.pool.close();
    return this.#closing;
  }
}
