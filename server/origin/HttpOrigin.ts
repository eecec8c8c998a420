import { Pool } from 'undici';
import { TileError } from '../../src/protocol/errors.js';
import type { Origin, OriginGetOptions, OriginObject } from './Origin.js';
import { encodeKey, pooledGet } from './pooledGet.js';

export interface HttpOriginOptions {
  /** Base URL (R2_PUBLIC_URL); may carry a path prefix. */
  baseUrl: string;
  /** Pool connection limit: bounds sockets to the origin. */
  connections: number;
}

/** Public HTTP reads (an R2 public bucket, a CDN, the mocked origin). */
export class HttpOrigin implements Origin {
  readonly name = 'http';
  readonly pool: Pool;
  readonly #prefix: string;

  constructor(o: HttpOriginOptions) {
    let url: URL;
    try {
      url = new URL(o.baseUrl);
    } catch (e) {
      throw new TileError('BAD_CONFIG', 'R2_PUBLIC_URL is not a URL', { value: o.baseUrl }, { cause: e });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TileError('BAD_CONFIG', 'R2_PUBLIC_URL must be http(s)', { value: o.baseUrl });
    }
    this.#prefix = url.pathname.replace(/\/+$/, '');
    // Timeouts are the engine's job (per attempt, via the signal); the pool's
    // own are kept as a backstop only.
    this.pool = new Pool(url.origin, { connections: o.connections, pipelining: 1 });
  }

  get(key: string, opts: OriginGetOptions): Promise<OriginObject | null> {
    return pooledGet(this.pool, `${this.#prefix}/${encodeKey(key)}`, {}, opts, this.name);
  }

  #closing: Promise<void> | undefined;
  /** Idempotent: the engine and the server may both close it. */
  close(): Promise<void> {
    this.#closing ??= this.pool.close();
    return this.#closing;
  }
}
