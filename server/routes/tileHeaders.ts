import { TILE_GENERATION_HEADER } from '../../src/protocol/swMessages.js';
import type { TileEntry } from '../tiles/MemoryTileCache.js';
import type { TileSource } from '../tiles/TileService.js';

/** `Cache-Control` of tile and video answers: private when reads need a token (API_TOKEN). */
export function tileCacheControl(config: { apiToken?: string | undefined; tileMaxAgeSec: number }): string {
  return `${config.apiToken ? 'private' : 'public'}, max-age=${config.tileMaxAgeSec}`;
}

/** What a tile response's headers are made of (by name: nothing reads a header by position). */
export interface TileHeaderFields {
  contentType: string;
  /** Body bytes. */
  length: number;
  etag: string;
  cacheControl: string;
  source: TileSource;
  /** The dataset's cache generation (`X-Tile-Generation`): changes on cache-clear. */
  generation: number;
}

/** Flat `writeHead` list of a 200 tile answer: the body's type and length, then what a 304 says. */
export function okHeaders(f: TileHeaderFields): string[] {
  return ['Content-Type', f.contentType, 'Content-Length', String(f.length), ...notModifiedHeaders(f)];
}

/** Flat `writeHead` list of a 304: what a 200 would have said about caching, no body headers. */
export function notModifiedHeaders(f: Omit<TileHeaderFields, 'contentType' | 'length'>): string[] {
  return [
    'ETag',
    f.etag,
    'Cache-Control',
    f.cacheControl,
    'X-Content-Type-Options',
    'nosniff',
    'X-Tile-Source',
    f.source,
    TILE_GENERATION_HEADER,
    String(f.generation),
  ];
}

/**
 * The 200 and 304 lists of a memory hit, built on an entry's first hit and kept
 * while the entry lives (weakly: the cache's eviction frees them), so every
 * later hit allocates nothing. Only entries of the current generation are ever
 * stored (MemoryTileCache), so one pair per entry is enough.
 */
const prebuilt = new WeakMap<TileEntry, [ok: string[], notModified: string[]]>();

/**
 * The `writeHead` list for answering `entry` (200, or 304 when `notModified`)
 * from `source` while the dataset's generation is `generation`.
 */
export function tileResponseHeaders(
  entry: TileEntry,
  source: TileSource,
  generation: number,
  notModified: boolean,
  cacheControl: string,
): string[] {
  const hit = source === 'memory-cache' && entry.generation === generation;
  if (hit) {
    const lists = prebuilt.get(entry);
    if (lists !== undefined) return notModified ? lists[1] : lists[0];
  }
  const f = {
    contentType: entry.contentType,
    length: entry.bytes?.length ?? 0,
    etag: entry.etag,
    cacheControl,
    source,
    generation,
  };
  const vary = entry.gzip ? ['Vary', 'Accept-Encoding'] : [];
  if (!hit) return notModified ? [...notModifiedHeaders(f), ...vary] : [...okHeaders(f), ...vary];
  const lists: [string[], string[]] = [
    [...okHeaders(f), ...vary],
    [...notModifiedHeaders(f), ...vary],
  ];
  prebuilt.set(entry, lists);
  return notModified ? lists[1] : lists[0];
}

/** The ETag of the gzip form of `entry`: another representation, so another tag. */
export function gzipEtag(entry: TileEntry): string {
  return entry.etag.endsWith('"') ? `${entry.etag.slice(0, -1)}-gz"` : entry.etag;
}

/**
 * The `writeHead` list of the gzip form of `entry` (200, or 304 when
 * `notModified`): its own ETag, `Content-Encoding: gzip`.
 */
export function gzipResponseHeaders(
  entry: TileEntry,
  source: TileSource,
  generation: number,
  notModified: boolean,
  cacheControl: string,
): string[] {
  const f = { etag: gzipEtag(entry), cacheControl, source, generation };
  const common = [...notModifiedHeaders(f), 'Vary', 'Accept-Encoding'];
  if (notModified) return common;
  const gz = entry.gzip?.length ?? 0;
  return [
    'Content-Type',
    entry.contentType,
    'Content-Encoding',
    'gzip',
    'Content-Length',
    String(gz),
    ...common,
  ];
}
