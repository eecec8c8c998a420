import { Pool } from 'undici';
import type { Origin, OriginGetOptions, OriginObject } from './Origin.js';
import { pooledGet, transportError } from './pooledGet.js';
import { type S3Target, s3EndpointUrl, s3ObjectPath, signS3 } from './s3Request.js';

export interface S3OriginOptions extends S3Target {
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
    this.#base = s3EndpointUrl(o.endpoint);
    this.pool = new Pool(this.#base.origin, { connections: o.connections, pipelining: 1 });
  }

  async get(key: string, opts: OriginGetOptions): Promise<OriginObject | null> {
    const path = s3ObjectPath(this.#base, this.o.bucket, key);
    const headers: Record<string, string> = {};
    // aws4fetch leaves `range` out of the signature (UNSIGNABLE_HEADERS), which S3 accepts.
    if (opts.range) headers.range = `bytes=${opts.range.start}-${opts.range.end ?? ''}`;
    if (opts.ifNoneMatch) headers['if-none-match'] = opts.ifNoneMatch;
    let signed: Record<string, string>;
    try {
      signed = await signS3(this.o, this.#base, 'GET', path, headers);
    } catch (e) {
      throw transportError(e, opts.signal, this.name);
    }
    // pooledGet sets these two itself, from the same options.
    delete signed.range;
    delete signed['if-none-match'];
    return pooledGet(this.pool, path, signed, opts, this.name);
  }

  #closing: Promise<void> | undefined;
  /** Idempotent: the engine and the server may both close it. */
  close(): Promise<void> {
    this.#closing ??= this.pool.close();
    return this.#closing;
  }
}
