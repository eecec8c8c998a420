import { TILE_GENERATION_HEADER } from '../../src/protocol/swMessages.js';
import type { TileSource } from './TileService.js';

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
