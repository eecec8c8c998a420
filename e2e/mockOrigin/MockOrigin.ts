import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { drainOrClose } from '../../server/http/drainOrClose.js';
import { contentTypeFor } from '../../server/origin/contentType.js';
import { parseRange } from '../../server/video/parseRange.js';
import { TokenBucket } from './TokenBucket.js';

export interface MockOriginOptions {
  /** Serve files from this directory (keys = relative paths). */
  root?: string;
  /** Or/and in-memory objects by key (checked before `root`). */
  files?: Record<string, Uint8Array | string>;
  /** Delay before the headers. */
  latencyMs?: number;
  /** Shared cap over all connections (token bucket). */
  bandwidthBytesPerSec?: number;
  /** Fraction of requests answered with `errorStatus` (default 503), seeded. */
  errorRate?: number;
  errorStatus?: number;
  seed?: number;
  /** Never answer (a function also sees the Range header, to hang one part of an archive). */
  hang?: boolean | ((key: string, range: string | undefined) => boolean);
  /** Send half the body, then reset the socket (RST). */
  resetMidBody?: boolean | ((key: string) => boolean);
  /** Drip: delay between small (1 KiB) body chunks. */
  slowBodyMs?: number;
  /** Content-Length of the whole object, but only half is sent before the connection ends. */
  shortBody?: boolean | ((key: string) => boolean);
  /** Per-key status override (404, 429, 503...). */
  status?: (key: string) => number | undefined;
  /** Sent as Retry-After with 429/503. */
  retryAfterSec?: number;
  /** How many requests `requests` keeps (the first N; default 100 000, 0 for long benchmarks). */
  maxRecorded?: number;
  /**
   * A path (e.g. `/_mock/counts`) answered with the per-key request counts as
   * JSON, `{ total, keys: { key: n } }`, only keys starting with `?prefix=`;
   * itself never counted. For an origin in another process (the benches).
   */
  countsPath?: string;
}

export interface RecordedRequest {
  key: string;
  method: string;
  /** Raw request target as sent (path and query, still encoded). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface MockOrigin {
  /** http://127.0.0.1:PORT (keys are paths under it). */
  url: string;
  /** Change settings mid-run. */
  set(opts: Partial<MockOriginOptions>): void;
  /** Requests seen (for a key, or all). */
  count(key?: string): number;
  requests: RecordedRequest[];
  /** Requests whose client went away before the response ended. */
  aborted(): number;
  /** Sockets open right now (leak checks). */
  connections(): number;
  resetCounts(): void;
  close(): Promise<void>;
}

const CHUNK = 16 * 1024;
const DRIP_CHUNK = 1024;

/** mulberry32: a tiny seeded PRNG so a fault pattern is reproducible run to run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function flag(
  v: boolean | ((key: string, range: string | undefined) => boolean) | undefined,
  key: string,
  range?: string,
): boolean {
  return typeof v === 'function' ? v(key, range) : v === true;
}

interface Found {
  bytes: Uint8Array;
  etag: string;
  lastModified: string | undefined;
}

/**
 * A real HTTP origin on loopback for tests and benchmarks: serves a directory
 * and/or in-memory objects, and injects the faults the engine must survive
 * (latency, bandwidth cap, seeded 5xx, hang, reset, drip, short body).
 */
export async function startMockOrigin(initial: MockOriginOptions = {}, listenPort = 0): Promise<MockOrigin> {
  let opts: MockOriginOptions = { ...initial };
  let random = seeded(opts.seed ?? 1);
  let bucket = opts.bandwidthBytesPerSec ? new TokenBucket(opts.bandwidthBytesPerSec) : undefined;
  const counts = new Map<string, number>();
  const requests: RecordedRequest[] = [];
  let total = 0;
  let abortedCount = 0;
  const sockets = new Set<Socket>();

  async function lookup(key: string): Promise<Found | undefined> {
    const mem = opts.files?.[key];
    if (mem !== undefined) {
      const bytes = typeof mem === 'string' ? new TextEncoder().encode(mem) : mem;
      const etag = `"${createHash('sha1').update(bytes).digest('hex').slice(0, 16)}"`;
      return { bytes, etag, lastModified: undefined };
    }
    if (!opts.root) return undefined;
    // Keys never escape the root: the mock must not serve the test machine.
    if (key === '' || key.includes('\0') || key.includes('\\') || isAbsolute(key)) return undefined;
    if (key.split('/').some((s) => s === '..' || s === '.' || s === '')) return undefined;
    const root = resolve(opts.root);
    const path = join(root, key);
    if (!path.startsWith(root + sep)) return undefined;
    try {
      const st = await stat(path);
      if (!st.isFile()) return undefined;
      const bytes = await readFile(path);
      return {
        bytes,
        etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
        lastModified: st.mtime.toUTCString(),
      };
    } catch {
      return undefined;
    }
  }

  async function writeBody(
    req: IncomingMessage,
    res: ServerResponse,
    body: Uint8Array,
    key: string,
    done: AbortSignal,
  ): Promise<void> {
    const reset = flag(opts.resetMidBody, key);
    const short = flag(opts.shortBody, key);
    const limit = reset || short ? Math.floor(body.length / 2) : body.length;
    const chunk = opts.slowBodyMs ? DRIP_CHUNK : CHUNK;
    let off = 0;
    while (off < limit && !done.aborted) {
      const piece = body.subarray(off, Math.min(limit, off + chunk));
      if (bucket) await bucket.take(piece.length, done);
      if (opts.slowBodyMs && off > 0) await sleep(opts.slowBodyMs, undefined, { signal: done });
      off += piece.length;
      if (!res.write(piece)) await drainOrClose(res);
    }
    if (done.aborted) return;
    if (reset) {
      // RST, as a crashed origin or a middlebox would.
      (res as ServerResponse & { serverKilled?: boolean }).serverKilled = true;
      await new Promise<void>((r) => setImmediate(r));
      req.socket.resetAndDestroy();
      return;
    }
    if (short) {
      // FIN before Content-Length bytes: a truncated body the client must reject.
      (res as ServerResponse & { serverKilled?: boolean }).serverKilled = true;
      await new Promise<void>((r) => setImmediate(r));
      req.socket.end();
      req.socket.destroySoon();
      return;
    }
    res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://mock');
    let key: string;
    try {
      key = url.pathname
        .slice(1)
        .split('/')
        .map((s) => decodeURIComponent(s))
        .join('/');
    } catch {
      key = url.pathname.slice(1);
    }
    const method = req.method ?? 'GET';
    if (opts.countsPath !== undefined && url.pathname === opts.countsPath) {
      const prefix = url.searchParams.get('prefix') ?? '';
      const keys: Record<string, number> = {};
      let n = 0;
      for (const [k, c] of counts) {
        if (!k.startsWith(prefix)) continue;
        keys[k] = c;
        n += c;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ total: n, keys }));
      return;
    }
    total++;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (requests.length < (opts.maxRecorded ?? 100_000)) {
      requests.push({ key, method, url: req.url ?? '/', headers: { ...req.headers } });
    }

    const gone = new AbortController();
    res.on('close', () => {
      gone.abort();
      const killed = (res as ServerResponse & { serverKilled?: boolean }).serverKilled;
      if (!res.writableFinished && !killed) abortedCount++;
    });

    const range = typeof req.headers.range === 'string' ? req.headers.range : undefined;
    if (flag(opts.hang, key, range)) return; // answered by nobody; the client's deadline must fire
    if (opts.latencyMs) await sleep(opts.latencyMs, undefined, { signal: gone.signal });

    const retryAfter = opts.retryAfterSec !== undefined ? { 'retry-after': String(opts.retryAfterSec) } : {};
    const forced = opts.status?.(key);
    const randomError =
      forced === undefined && opts.errorRate !== undefined && opts.errorRate > 0 && random() < opts.errorRate;
    if (forced !== undefined && forced !== 200) {
      res.writeHead(forced, { 'content-type': 'text/plain', ...(forced >= 429 ? retryAfter : {}) });
      res.end(`status ${forced}`);
      return;
    }
    if (randomError) {
      res.writeHead(opts.errorStatus ?? 503, { 'content-type': 'text/plain', ...retryAfter });
      res.end('injected error');
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      res.end();
      return;
    }
    const found = await lookup(key);
    if (!found) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const base: Record<string, string> = {
      'content-type': contentTypeFor(key) ?? 'application/octet-stream',
      etag: found.etag,
      'accept-ranges': 'bytes',
    };
    if (found.lastModified) base['last-modified'] = found.lastModified;
    const inm = req.headers['if-none-match'];
    if (inm?.split(',').some((t) => t.trim() === found.etag || t.trim() === '*')) {
      res.writeHead(304, { etag: found.etag });
      res.end();
      return;
    }
    const size = found.bytes.length;
    let body = found.bytes;
    let status = 200;
    // The server's own parser: a multi-range or malformed header gets the whole object, as servers may.
    const r = parseRange(req.headers.range, size);
    if (r.kind === 'unsatisfiable') {
      res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-type': 'text/plain' });
      res.end();
      return;
    }
    if (r.kind === 'partial') {
      body = found.bytes.subarray(r.start, r.end + 1);
      status = 206;
      base['content-range'] = `bytes ${r.start}-${r.end}/${size}`;
    }
    res.writeHead(status, { ...base, 'content-length': String(body.length) });
    if (method === 'HEAD') {
      res.end();
      return;
    }
    await writeBody(req, res, body, key, gone.signal);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // Aborted sleeps and writes after the client left end up here: nothing to answer.
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500);
        res.end();
      } else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(listenPort, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    set(next) {
      opts = { ...opts, ...next };
      if ('seed' in next) random = seeded(opts.seed ?? 1);
      if ('bandwidthBytesPerSec' in next)
        bucket = opts.bandwidthBytesPerSec ? new TokenBucket(opts.bandwidthBytesPerSec) : undefined;
    },
    count: (key) => (key === undefined ? total : (counts.get(key) ?? 0)),
    requests,
    aborted: () => abortedCount,
    connections: () => sockets.size,
    resetCounts() {
      total = 0;
      abortedCount = 0;
      counts.clear();
      requests.length = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
