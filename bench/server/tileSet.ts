// Synthetic tile trees for the server benchmarks: random bytes (incompressible,
// like JPEG) under `<root>/<dataset>/<z>/<x>/<y>.jpg`.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TileSet {
  dataset: string;
  /** Batch-form keys (`z/x/y.jpg`), in creation order. */
  keys: string[];
}

/** Writes `count` tiles of `bytes` each at zoom 12 (x, y < 4096). */
export function writeTileSet(root: string, dataset: string, count: number, bytes: number): TileSet {
  const keys: string[] = [];
  const z = 12;
  for (let i = 0; i < count; i++) {
    const x = i % 4096;
    const y = Math.floor(i / 4096);
    const dir = join(root, dataset, String(z), String(x));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${y}.jpg`), randomBytes(bytes));
    keys.push(`${z}/${x}/${y}.jpg`);
  }
  return { dataset, keys };
}
