/**
 * The dataset the demo shows. Mirrors data/sample/manifest.json (written by the
 * tiler); the server has no manifest route, so the levels are derived here.
 */
export interface DatasetConfig {
  dataset: string;
  ext: 'jpg' | 'png' | 'webp';
  tileSize: number;
  minZoom: number;
  maxZoom: number;
  /** Size of the deepest level in px. */
  width: number;
  height: number;
}

export const SAMPLE: DatasetConfig = {
  dataset: 'sample',
  ext: 'jpg',
  tileSize: 256,
  minZoom: 0,
  maxZoom: 5,
  width: 8192,
  height: 7143,
};

/** Tile grid of level `z`; tiles past it are never requested (they are 404 by contract). */
export function levelGrid(ds: DatasetConfig, z: number): { cols: number; rows: number } {
  const f = 2 ** (ds.maxZoom - z);
  return {
    cols: Math.max(1, Math.ceil(ds.width / f / ds.tileSize)),
    rows: Math.max(1, Math.ceil(ds.height / f / ds.tileSize)),
  };
}

export function tileUrl(ds: DatasetConfig, z: number, x: number, y: number): string {
  return `/api/tiles/${ds.dataset}/${z}/${x}/${y}.${ds.ext}`;
}
