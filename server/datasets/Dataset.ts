import type { TileCoord } from '../../src/protocol/tileKey.js';

/** Where a dataset's tiles come from (server/datasets/DatasetResolver.ts finds it). */
export type DatasetKind = 'tree' | 'pmtiles' | 'dzi';

/** Formats a dataset can declare; a known one is the only one ever fetched. */
export type DatasetFormat = 'jpg' | 'png' | 'webp' | 'avif' | 'mvt';

/** One level's tile grid: keys at `z` with `x >= cols` or `y >= rows` do not exist. */
export interface LevelExtent {
  z: number;
  cols: number;
  rows: number;
  /** Level size in px, where known (image pyramids). */
  width?: number;
  height?: number;
}

/** What is known about a dataset without fetching its tiles (undefined = unknown). */
export interface DatasetInfo {
  kind: DatasetKind;
  format: DatasetFormat | undefined;
  /** Vector tiles (MVT): no `.dds`, `application/vnd.mapbox-vector-tile`. */
  vector: boolean;
  minZoom: number | undefined;
  maxZoom: number | undefined;
  tileSize: number | undefined;
  /** Per-level grid where known (manifest.json, DZI); absent = every `x, y < 2^z` may exist. */
  levels: ReadonlyMap<number, LevelExtent> | undefined;
  /** Size of the deepest level in px (image pyramids). */
  width: number | undefined;
  height: number | undefined;
  /** DZI overlap in px (0 elsewhere). */
  overlap: number;
  /** `[west, south, east, north]` in degrees (PMTiles header). */
  bounds: [number, number, number, number] | undefined;
  /** `[lon, lat, zoom]` (PMTiles header). */
  center: [number, number, number] | undefined;
  /** TileJSON extras from the archive's metadata (vector_layers, attribution, name...). */
  metadata: Record<string, unknown> | undefined;
}

/** A tile as the dataset holds it. `encoding: 'gzip'` means `bytes` are gzip (vector tiles). */
export interface DatasetTile {
  bytes: Uint8Array;
  contentType: string;
  encoding?: 'gzip';
  etag?: string;
}

/** One dataset of any kind: the tile data path's origin step. */
export interface Dataset {
  readonly info: DatasetInfo;
  /** False when the key is outside the known pyramid: answer 404 without asking the origin. */
  contains(c: { z: number; x: number; y: number }): boolean;
  /** The tile, or null when the dataset does not have it. Rejects with TileError. */
  getTile(c: TileCoord, signal: AbortSignal): Promise<DatasetTile | null>;
}

/** `contains` from an info: outside the zoom range or a level's grid is outside. */
export function extentContains(info: DatasetInfo, c: { z: number; x: number; y: number }): boolean {
  if (info.minZoom !== undefined && c.z < info.minZoom) return false;
  if (info.maxZoom !== undefined && c.z > info.maxZoom) return false;
  if (info.levels === undefined) return true;
  const level = info.levels.get(c.z);
  return level !== undefined && c.x < level.cols && c.y < level.rows;
}

/** An info with nothing known, to spread overrides into. */
export function unknownInfo(kind: DatasetKind): DatasetInfo {
  return {
    kind,
    format: undefined,
    vector: false,
    minZoom: undefined,
    maxZoom: undefined,
    tileSize: undefined,
    levels: undefined,
    width: undefined,
    height: undefined,
    overlap: 0,
    bounds: undefined,
    center: undefined,
    metadata: undefined,
  };
}
