import { LRUCache } from 'lru-cache';
import { isTileError, TileError } from '../../src/protocol/errors.js';
import { raceSignal } from '../engine/deadline.js';
import type { TileEngine } from '../engineContract.js';
import { contentTypeFor } from '../origin/contentType.js';
import type { OriginObject } from '../origin/Origin.js';

export interface VideoMeta {
  key: string;
  size: number;
  etag: string;
  contentType: string;
  lastModified: string | undefined;
}

/** A range opened for reading; `close()` releases an origin request that was opened but never read. */
export interface VideoReader {
  pieces: AsyncIterable<Uint8Array>;
  close(): void;
}

interface OpenRun {
  i: number;
  j: number;
  obj: OriginObject;
}

export interface VideoServiceOptions {
  engine: TileEngine;
  keyTemplate: string;
  chunkBytes: number;
  maxBytes: number;
  metaTtlMs: number;
  /** Longest wait for the next body piece from the origin (the engine's deadline covers headers only). */
  idleTimeoutMs: number;
  /** Deadline of the shared first-chunk probe that learns a video's size. */
  probeTimeoutMs: number;
}

/**
 * Iterates a body, failing with ORIGIN_TIMEOUT when the origin sends nothing
 * for `ms`. The clock only runs while we wait for the origin, never while the
 * consumer (a slow client) holds us up.
 */
async function* withIdleTimeout(body: AsyncIterable<Uint8Array>, ms: number): AsyncGenerator<Uint8Array> {
  const it = body[Symbol.asyncIterator]();
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TileError('ORIGIN_TIMEOUT', 'the origin stopped sending the video')),
        ms,
      );
    });
    try {
      const r = await Promise.race([it.next(), stalled]);
      if (r.done) return;
      yield r.value;
    } finally {
      clearTimeout(timer);
    }
  }
}

const VIDEO_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function assertVideoId(id: string): string {
  if (!VIDEO_ID_RE.test(id) || id.includes('..')) {
    throw new TileError('BAD_REQUEST', 'video id must be 1-128 of [A-Za-z0-9._-] without ..', {
      id: id.slice(0, 80),
    });
  }
  return id;
}

function videoType(id: string, fromOrigin: string | undefined): string {
  if (fromOrigin && /^(video|audio)\//.test(fromOrigin)) return fromOrigin;
  // Only a video type from the extension: the route must not label an id `x.json` as JSON.
  const byExt = contentTypeFor(id);
  return byExt?.startsWith('video/') ? byExt : 'application/octet-stream';
}

/**
 * Ranged video through fixed, aligned chunks: chunk i covers bytes
 * [i*C, (i+1)*C). Missing runs of chunks are fetched with one ranged origin
 * request and passed to the client as they arrive; only the chunk being
 * filled is held, so a file is never buffered whole. Chunk keys carry the
 * object's ETag, so two versions of a file can never be mixed.
 */
export class VideoService {
  readonly chunks: LRUCache<string, Uint8Array>;
  private readonly meta: LRUCache<string, VideoMeta>;
  private readonly probing = new Map<string, Promise<VideoMeta | null>>();
  originFetches = 0;

  constructor(private readonly o: VideoServiceOptions) {
    this.chunks = new LRUCache<string, Uint8Array>({
      maxSize: Math.max(1, o.maxBytes),
      maxEntrySize: Math.max(1, Math.min(o.chunkBytes, o.maxBytes)),
      sizeCalculation: (v) => Math.max(1, v.length),
    });
    this.meta = new LRUCache<string, VideoMeta>({ max: 10_000, ttl: o.metaTtlMs });
  }

  private chunkKey(m: VideoMeta, i: number): string {
    return `${m.key}@${m.etag}#${i}`;
  }

  /** Size, type and ETag; the first time, chunk 0 is fetched (and cached) to learn them. null = 404. */
  async stat(id: string, signal: AbortSignal): Promise<VideoMeta | null> {
    const key = this.o.keyTemplate.replaceAll('{id}', id);
    const known = this.meta.get(key);
    if (known) return known;
    // Viewers that open a video together share one probe; it runs under its own
    // deadline so the first viewer leaving does not fail the others.
    let p = this.probing.get(key);
    if (!p) {
      p = this.probe(id, key, AbortSignal.timeout(this.o.probeTimeoutMs)).finally(() =>
        this.probing.delete(key),
      );
      this.probing.set(key, p);
    }
    return await raceSignal(p, signal);
  }

  private async probe(id: string, key: string, signal: AbortSignal): Promise<VideoMeta | null> {
    const C = this.o.chunkBytes;
    this.originFetches++;
    let obj: OriginObject | null;
    try {
      obj = await this.o.engine.getStream(key, { signal, range: { start: 0, end: C - 1 } });
    } catch (e) {
      if (!isTileError(e, 'RANGE_NOT_SATISFIABLE')) throw e;
      // Only an empty object refuses `bytes=0-…`: ask for it whole to learn its size (0) and ETag.
      obj = await this.o.engine.getStream(key, { signal });
    }
    if (!obj) return null;
    const size = obj.totalSize ?? (obj.status === 200 ? obj.contentLength : undefined);
    if (size === undefined) {
      obj.body.destroy();
      throw new TileError('ORIGIN_ERROR', 'origin did not tell the video size');
    }
    const m: VideoMeta = {
      key,
      size,
      etag: obj.etag ?? `"${size.toString(36)}-${(obj.lastModified ?? '').replace(/\W/g, '')}"`,
      contentType: videoType(id, obj.contentType),
      lastModified: obj.lastModified,
    };
    const want = Math.min(C, size);
    const buf = new Uint8Array(want);
    let got = 0;
    try {
      for await (const c of withIdleTimeout(obj.body, this.o.idleTimeoutMs)) {
        const n = Math.min(c.length, want - got);
        buf.set(c.subarray(0, n), got);
        got += n;
        if (got >= want) break;
      }
    } finally {
      obj.body.destroy();
    }
    if (got !== want) throw new TileError('ORIGIN_ERROR', 'video body shorter than announced');
    this.chunks.set(this.chunkKey(m, 0), buf);
    this.meta.set(key, m);
    return m;
  }

  /**
   * Opens bytes [start, end] for reading: cached chunks and ranged origin
   * reads of the missing runs. The first missing run's origin request is made
   * here, before the caller writes a status line, so the usual failure (the
   * origin down, its breaker open, the file gone) is still a proper 5xx/404
   * rather than a cut 206. A later run (after cached chunks) can still only
   * fail by cutting the stream; the media element resumes from what it has.
   */
  async open(m: VideoMeta, start: number, end: number, signal: AbortSignal): Promise<VideoReader> {
    const C = this.o.chunkBytes;
    const last = Math.floor(end / C);
    let first = Math.floor(start / C);
    while (first <= last && this.chunks.has(this.chunkKey(m, first))) first++;
    const state: { pending: OpenRun | undefined } = {
      pending: first <= last ? await this.openRun(m, first, this.runEnd(m, first, last), signal) : undefined,
    };
    return {
      pieces: this.pieces(m, start, end, signal, state),
      close: () => {
        // Never iterated to the run (HEAD, a client gone early): release the origin body.
        state.pending?.obj.body.destroy();
        state.pending = undefined;
      },
    };
  }

  /** Last chunk of the missing run that starts at chunk i (runs stop at a cached chunk or at `last`). */
  private runEnd(m: VideoMeta, i: number, last: number): number {
    let j = i;
    while (j < last && !this.chunks.has(this.chunkKey(m, j + 1))) j++;
    return j;
  }

  private async *pieces(
    m: VideoMeta,
    start: number,
    end: number,
    signal: AbortSignal,
    state: { pending: OpenRun | undefined },
  ): AsyncGenerator<Uint8Array> {
    const C = this.o.chunkBytes;
    const last = Math.floor(end / C);
    let i = Math.floor(start / C);
    try {
      while (i <= last) {
        let run: OpenRun | undefined;
        if (state.pending?.i === i) {
          // The run opened before the head: used even if a twin reader has cached its chunks since.
          run = state.pending;
          state.pending = undefined;
        } else {
          const cached = this.chunks.get(this.chunkKey(m, i));
          if (cached) {
            const base = i * C;
            yield cached.subarray(
              Math.max(start, base) - base,
              Math.min(end, base + cached.length - 1) - base + 1,
            );
            i++;
            continue;
          }
          // A chunk evicted since open(), or a run after cached chunks: opened now, mid-stream.
          const stop = state.pending && state.pending.i > i ? state.pending.i - 1 : last;
          run = await this.openRun(m, i, this.runEnd(m, i, stop), signal);
        }
        yield* this.readRun(m, run, start, end);
        i = run.j + 1;
      }
    } finally {
      state.pending?.obj.body.destroy();
      state.pending = undefined;
    }
  }

  /** One ranged origin request for chunks i..j (headers only; the body is read by readRun). */
  private async openRun(m: VideoMeta, i: number, j: number, signal: AbortSignal): Promise<OpenRun> {
    const C = this.o.chunkBytes;
    const runStart = i * C;
    const runEnd = Math.min((j + 1) * C, m.size) - 1;
    this.originFetches++;
    const obj: OriginObject | null = await this.o.engine.getStream(m.key, {
      signal,
      range: { start: runStart, end: runEnd },
    });
    if (!obj) {
      this.meta.delete(m.key);
      throw new TileError('NOT_FOUND', 'video disappeared at the origin');
    }
    if (obj.etag !== undefined && obj.etag !== m.etag) {
      // The file changed under us: forget what we know so the next request starts over.
      this.meta.delete(m.key);
      obj.body.destroy();
      throw new TileError('ORIGIN_ERROR', 'video changed at the origin during the request');
    }
    return { i, j, obj };
  }

  /** Reads an opened run, caching whole chunks; yields the client's slice of each piece as it arrives. */
  private async *readRun(m: VideoMeta, run: OpenRun, start: number, end: number): AsyncGenerator<Uint8Array> {
    const C = this.o.chunkBytes;
    const { i, j, obj } = run;
    const runStart = i * C;
    // An origin that ignores Range answers 200 from byte 0: skip up to runStart.
    let pos = obj.status === 200 ? 0 : runStart;
    let chunkIdx = i;
    let buf = new Uint8Array(Math.min(C, m.size - chunkIdx * C));
    let fill = 0;
    try {
      for await (const piece of withIdleTimeout(obj.body, this.o.idleTimeoutMs)) {
        let p = piece;
        if (pos < runStart) {
          const skip = Math.min(p.length, runStart - pos);
          pos += skip;
          p = p.subarray(skip);
        }
        while (p.length > 0 && chunkIdx <= j) {
          const n = Math.min(p.length, buf.length - fill);
          const part = p.subarray(0, n);
          buf.set(part, fill);
          // The client's slice of this piece: [max(start,pos), min(end,pos+n-1)].
          const a = Math.max(start, pos);
          const b = Math.min(end, pos + n - 1);
          if (a <= b) yield part.subarray(a - pos, b - pos + 1);
          fill += n;
          pos += n;
          p = p.subarray(n);
          if (fill === buf.length) {
            this.chunks.set(this.chunkKey(m, chunkIdx), buf);
            chunkIdx++;
            if (chunkIdx > j) break;
            buf = new Uint8Array(Math.min(C, m.size - chunkIdx * C));
            fill = 0;
          }
        }
        // Read to the end of the last chunk even past the client's range, so that chunk is cached whole.
        if (chunkIdx > j) break;
      }
    } finally {
      obj.body.destroy();
    }
    if (chunkIdx <= j) throw new TileError('ORIGIN_ERROR', 'video body ended early');
  }
}
