import { Coalescer } from '../async/Coalescer.js';
import { TileError } from '../protocol/errors.js';
import {
  chunkRange,
  chunkSpan,
  parseContentRange,
  parseRange,
  resolveRange,
  sliceChunk,
} from './rangeSlicer.js';
import type { SwCounters } from './SwCounters.js';
import type { VideoStore } from './VideoStore.js';

export interface VideoChunksOptions {
  fetch: typeof fetch;
  store: VideoStore;
  counters: SwCounters;
  chunkBytes: number;
  prefetchAhead: number;
  timeoutMs: number;
}

interface VideoInfo {
  total: number;
  contentType: string;
  etag: string | undefined;
}

/** Hands work that must outlive the response (Cache Storage writes) to the fetch event. */
type Keep = (p: Promise<unknown>) => void;

interface Chunk {
  bytes: Uint8Array;
  info: VideoInfo;
  cached: boolean;
}

/**
 * Serves ranged video from fixed, aligned chunks kept in their own store on the persistent tier.
 * A seek into fetched parts never touches the network; missing chunks are
 * fetched with ranged requests, coalesced across readers, one chunk read
 * ahead. The body is a pull stream: nothing is fetched faster than the
 * reader reads (plus the read-ahead), and a cancelled body aborts its fetch.
 * Writes to the store run behind the bytes (`waitUntil`), never before them.
 */
export class VideoChunks {
  private readonly coalescer = new Coalescer<Chunk>();
  private readonly infos = new Map<string, VideoInfo>();

  constructor(private readonly o: VideoChunksOptions) {}

  private chunkUrl(url: string, i: number): string {
    return `${url}${url.includes('?') ? '&' : '?'}ta-chunk=${i}&ta-size=${this.o.chunkBytes}`;
  }

  async serve(request: Request, url: string, keep: Keep = () => {}): Promise<Response> {
    this.o.counters.inc('video_requests');
    const spec = parseRange(request.headers.get('Range'));
    const ac = new AbortController();
    const stop = () => ac.abort(new TileError('ABORTED', 'video request aborted'));
    request.signal?.addEventListener('abort', stop, { once: true });
    const info = await this.info(url, spec, ac.signal, keep);
    const span = spec ? resolveRange(spec, info.total) : { start: 0, end: info.total - 1 };
    if (!span || info.total === 0) {
      return new Response(null, {
        status: 416,
        headers: { 'Content-Range': `bytes */${info.total}`, 'X-Tile-Source': 'sw-cache' },
      });
    }
    const { first } = chunkSpan(span.start, span.end, this.o.chunkBytes);
    const head = await this.chunk(url, first, ac.signal, keep);
    let pos = span.start;
    const end = span.end;
    const C = this.o.chunkBytes;
    let firstChunk: Chunk | undefined = head;
    const body = new ReadableStream<Uint8Array>(
      {
        pull: async (ctrl) => {
          if (pos > end) {
            ctrl.close();
            return;
          }
          const i = Math.floor(pos / C);
          const c = firstChunk ?? (await this.chunk(url, i, ac.signal, keep));
          firstChunk = undefined;
          const part = sliceChunk(c.bytes, i, C, pos, end);
          if (part.byteLength === 0) {
            ctrl.error(new TileError('TRUNCATED', 'video chunk shorter than its range', { i }));
            return;
          }
          ctrl.enqueue(part.slice());
          pos += part.byteLength;
          this.readAhead(url, i + 1, info.total, keep);
          if (pos > end) ctrl.close();
        },
        cancel: () => stop(),
      },
      { highWaterMark: 0 },
    );
    const headers = new Headers({
      'Content-Type': info.contentType,
      'Content-Length': String(end - span.start + 1),
      'Accept-Ranges': 'bytes',
      'X-Tile-Source': head.cached ? 'sw-cache' : 'network',
    });
    if (info.etag) headers.set('ETag', info.etag);
    if (!spec) return new Response(body, { status: 200, headers });
    headers.set('Content-Range', `bytes ${span.start}-${end}/${info.total}`);
    return new Response(body, { status: 206, headers });
  }

  private async info(
    url: string,
    spec: ReturnType<typeof parseRange>,
    signal: AbortSignal,
    keep: Keep,
  ): Promise<VideoInfo> {
    const known = this.infos.get(url);
    if (known) return known;
    // Bounded like a tile lookup: a stuck index costs a ranged fetch, not a stall.
    const saved = await this.o.store.getInfo(url, 250).catch(() => undefined);
    if (saved) {
      const v = JSON.parse(saved) as VideoInfo;
      this.infos.set(url, v);
      return v;
    }
    // Size unknown: fetching the first chunk the request needs tells it.
    const guess = spec && 'start' in spec ? Math.floor(spec.start / this.o.chunkBytes) : 0;
    return (await this.chunk(url, guess, signal, keep)).info;
  }

  private readAhead(url: string, from: number, total: number, keep: Keep): void {
    for (let i = from; i < from + this.o.prefetchAhead && i * this.o.chunkBytes < total; i++) {
      const key = this.chunkUrl(url, i);
      if (this.coalescer.has(key)) continue;
      // Own signal: read-ahead outlives the reader, but it is one chunk and bounded by the timeout.
      void this.chunk(url, i, AbortSignal.timeout(this.o.timeoutMs), keep).catch(() => {});
    }
  }

  private chunk(url: string, i: number, signal: AbortSignal, keep: Keep): Promise<Chunk> {
    const key = this.chunkUrl(url, i);
    return this.coalescer.run(key, signal, (s) => this.loadChunk(url, key, i, s, keep));
  }

  private async loadChunk(
    url: string,
    key: string,
    i: number,
    signal: AbortSignal,
    keep: Keep,
  ): Promise<Chunk> {
    const known = this.infos.get(url);
    const hit = await this.o.store.getChunk(key);
    if (hit && known) {
      this.o.counters.inc('video_chunk_hits');
      return { bytes: hit, info: known, cached: true };
    }
    this.o.counters.inc('video_chunk_fetches');
    const r = chunkRange(i, this.o.chunkBytes, known?.total);
    const res = await this.o.fetch(url, {
      headers: { Range: `bytes=${r.start}-${r.end}` },
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.o.timeoutMs)]),
    });
    const cr = parseContentRange(res.headers.get('Content-Range'));
    if (res.status === 416 && cr?.total !== undefined) {
      const info = await this.remember(url, cr.total, res, keep);
      return { bytes: new Uint8Array(0), info, cached: false };
    }
    if (res.status !== 206 || !cr || cr.start !== r.start || cr.total === undefined) {
      void res.body?.cancel().catch(() => {});
      throw new TileError('ORIGIN_ERROR', `ranged video fetch answered ${res.status}`, {
        status: res.status,
        url,
      });
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.byteLength !== cr.end! - cr.start! + 1) {
      throw new TileError('TRUNCATED', 'ranged video body shorter than its Content-Range', { i });
    }
    const info = await this.remember(url, cr.total, res, keep);
    // Behind the bytes: the store writes in groups (>= 30 ms, longer while visible tiles are pending).
    const stored = this.o.store.putChunk(key, url, {
      status: 200,
      body: bytes,
      contentType: info.contentType,
      etag: info.etag,
      source: 'network',
      generation: undefined,
    });
    keep(stored.catch(() => {}));
    return { bytes, info, cached: false };
  }

  private async remember(url: string, total: number, res: Response, keep: Keep): Promise<VideoInfo> {
    const info: VideoInfo = {
      total,
      contentType: res.headers.get('Content-Type') ?? 'application/octet-stream',
      etag: res.headers.get('ETag') ?? undefined,
    };
    const old = this.infos.get(url);
    if (old && (old.etag !== info.etag || old.total !== info.total)) {
      // The file changed upstream: its cached chunks are stale.
      await this.o.store.clear(url);
    }
    this.infos.set(url, info);
    keep(this.o.store.setInfo(url, JSON.stringify(info)).catch(() => {}));
    return info;
  }
}
