import { TileError } from './errors.js';

/**
 * Extensions the routes accept; `dds` is made on the fly from a raster source;
 * `mvt` and `pbf` are vector tiles (Mapbox Vector Tile).
 */
export const TILE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp', 'avif', 'mvt', 'pbf', 'dds'] as const;
export type TileExt = (typeof TILE_EXTENSIONS)[number];

/** Raster formats tried, in order, when the asked one is missing at the origin. */
export const RASTER_FALLBACK: readonly TileExt[] = ['jpg', 'png', 'webp'];

/** Vector-tile extensions (the same bytes under either name). */
export function isVectorExt(ext: TileExt): boolean {
  return ext === 'mvt' || ext === 'pbf';
}

/** The seeds' limit on tiles per batch request. */
export const MAX_BATCH_TILES = 100;

/** Deepest zoom level accepted: keeps `2^z` and tile coordinates exact in a double. */
export const MAX_ZOOM = 30;

const DATASET_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const KEY_RE = /^(0|[1-9][0-9]{0,9})\/(0|[1-9][0-9]{0,9})\/(0|[1-9][0-9]{0,9})\.([a-z]{3,4})$/;

export interface TileCoord {
  z: number;
  x: number;
  y: number;
  ext: TileExt;
}

/** Dataset ids: 1–64 of `[A-Za-z0-9_-]`, not starting with `-` or `_`. No dots, so no traversal. */
export function isValidDatasetId(id: string): boolean {
  return DATASET_RE.test(id);
}

export function assertDatasetId(id: string): string {
  if (!isValidDatasetId(id)) {
    throw new TileError('BAD_DATASET', 'dataset id must be 1-64 characters of [A-Za-z0-9_-]', {
      dataset: id.slice(0, 80),
    });
  }
  return id;
}

export function isTileExt(ext: string): ext is TileExt {
  return (TILE_EXTENSIONS as readonly string[]).includes(ext);
}

/** Validates numeric parts: non-negative integers, `z <= MAX_ZOOM`, `x, y < 2^z`. */
export function checkCoord(z: number, x: number, y: number): void {
  if (!Number.isSafeInteger(z) || z < 0 || z > MAX_ZOOM) {
    throw new TileError('BAD_TILE_KEY', `z must be an integer in 0..${MAX_ZOOM}`, { z });
  }
  const n = 2 ** z;
  if (!Number.isSafeInteger(x) || x < 0 || x >= n || !Number.isSafeInteger(y) || y < 0 || y >= n) {
    throw new TileError('BAD_TILE_KEY', `x and y must be integers in 0..${n - 1} at z=${z}`, { z, x, y });
  }
}

/** Parses `z/x/y.ext` (the batch key form). Throws BAD_TILE_KEY or BAD_EXTENSION. */
export function parseTileKey(key: string): TileCoord {
  const m = KEY_RE.exec(key);
  if (!m) throw new TileError('BAD_TILE_KEY', 'tile key must look like z/x/y.ext', { key: key.slice(0, 80) });
  const ext = m[4]!;
  if (!isTileExt(ext)) {
    throw new TileError('BAD_EXTENSION', `extension must be one of ${TILE_EXTENSIONS.join(', ')}`, { ext });
  }
  const z = Number(m[1]);
  const x = Number(m[2]);
  const y = Number(m[3]);
  checkCoord(z, x, y);
  return { z, x, y, ext };
}

export function formatTileKey(c: TileCoord): string {
  return `${c.z}/${c.x}/${c.y}.${c.ext}`;
}

/** Path of a single tile on the companion server. */
export function tilePath(dataset: string, c: TileCoord): string {
  return `/api/tiles/${dataset}/${formatTileKey(c)}`;
}

const DZI_TILE_RE =
  /^([A-Za-z0-9][A-Za-z0-9_-]{0,57}_files)\/(\d{1,10})\/(\d{1,10})_(\d{1,10})\.([a-z]{3,4})$/;

/**
 * `d_files/{level}/{col}_{row}.{ext}` (a Deep Zoom tile path) as the z/x/y rest
 * `d_files/{level}/{col}/{row}.{ext}` of dataset `d_files`, the DZI view of `d`
 * (the batch and cache key of that tile); anything else unchanged.
 */
export function dziTileRest(rest: string): string {
  const m = DZI_TILE_RE.exec(rest);
  return m ? `${m[1]}/${m[2]}/${m[3]}/${m[4]}.${m[5]}` : rest;
}

/** Path of the batch route. */
export function batchPath(dataset: string): string {
  return `/api/tiles/${dataset}/batch`;
}

/** Fills `{dataset} {z} {x} {y} {ext}` in an object-key or URL template. Values are validated first. */
export function fillTemplate(template: string, dataset: string, c: TileCoord): string {
  return template
    .replaceAll('{dataset}', dataset)
    .replaceAll('{z}', String(c.z))
    .replaceAll('{x}', String(c.x))
    .replaceAll('{y}', String(c.y))
    .replaceAll('{ext}', c.ext);
}

/**
 * Where a dataset's single objects live (`d.pmtiles`, `d.dzi`, `d_files/`): the
 * template's text before `{dataset}`, or undefined when the template has no
 * `{dataset}` (then only the z/x/y tree is served). Shared by the server's
 * discovery and the tiler's uploader, so the keys written are the keys read.
 */
export function datasetKeyPrefix(template: string): string | undefined {
  const at = template.indexOf('{dataset}');
  return at < 0 ? undefined : template.slice(0, at);
}
