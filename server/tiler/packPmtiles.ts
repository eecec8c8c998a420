import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TileType } from 'pmtiles';
import type { DatasetManifest } from './manifest.js';
import { type PmtilesInputTile, writePmtiles } from './writePmtiles.js';

const TYPE = { jpg: TileType.Jpeg, png: TileType.Png, webp: TileType.Webp } as const;

/**
 * Packs a tree the tiler wrote (`dir/{z}/{x}/{y}.{format}` + manifest.json)
 * into `<dir>.pmtiles` beside it (written under a temporary name, then
 * renamed), and removes the tree: the server finds `<dataset>.pmtiles` first.
 * The manifest travels in the archive's metadata (`tileSize`, image size, per-level grids).
 */
export async function packPmtiles(dir: string, manifest: DatasetManifest): Promise<string> {
  const tiles: PmtilesInputTile[] = [];
  for (const l of manifest.levels) {
    for (let x = 0; x < l.cols; x++) {
      for (let y = 0; y < l.rows; y++) {
        tiles.push({
          z: l.z,
          x,
          y,
          bytes: await readFile(path.join(dir, String(l.z), String(x), `${y}.${manifest.format}`)),
        });
      }
    }
  }
  const archive = writePmtiles(tiles, {
    tileType: TYPE[manifest.format],
    metadata: {
      name: manifest.dataset,
      tileSize: manifest.tileSize,
      width: manifest.width,
      height: manifest.height,
      // Per-level grids: the server answers keys past a non-square image's edge without a directory read.
      levels: manifest.levels.map(({ z, width, height, cols, rows }) => ({ z, width, height, cols, rows })),
      generator: manifest.generator,
    },
  });
  const out = `${dir}.pmtiles`;
  const tmp = `${out}.partial`;
  await writeFile(tmp, archive);
  await rename(tmp, out);
  await rm(dir, { recursive: true, force: true });
  return out;
}
