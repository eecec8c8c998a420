import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** Bumped whenever the tiler's output for the same input changes (ensureSampleDataset rebuilds). */
export const GENERATOR_VERSION = 1;
export const GENERATOR_NAME = 'tile-accelerator-tiler';

export type TileFormat = 'jpg' | 'png' | 'webp';
export const TILE_FORMATS: readonly TileFormat[] = ['jpg', 'png', 'webp'];

/** `<dataset dir>/manifest.json`, written last, so its presence means the pyramid is complete. */
export interface DatasetManifest {
  dataset: string;
  /** Size of the deepest level, in px (the size a viewer gives the image). */
  width: number;
  height: number;
  tileSize: number;
  minZoom: number;
  maxZoom: number;
  format: TileFormat;
  /** Size of the image the pyramid was made from. */
  sourceWidth: number;
  sourceHeight: number;
  /** Per level: size in px and the tile grid (tiles outside it are missing: 404). */
  levels: { z: number; width: number; height: number; cols: number; rows: number }[];
  tileCount: number;
  generator: typeof GENERATOR_NAME;
  generatorVersion: number;
  createdAt: string;
}

export function manifestPath(datasetDir: string): string {
  return path.join(datasetDir, 'manifest.json');
}

/** The manifest, or null when it is missing or not ours (a half-written or foreign directory). */
export async function readManifest(datasetDir: string): Promise<DatasetManifest | null> {
  let text: string;
  try {
    text = await readFile(manifestPath(datasetDir), 'utf8');
  } catch {
    return null;
  }
  try {
    const m = JSON.parse(text) as Partial<DatasetManifest>;
    if (m.generator !== GENERATOR_NAME || typeof m.generatorVersion !== 'number') return null;
    return m as DatasetManifest;
  } catch {
    return null;
  }
}
