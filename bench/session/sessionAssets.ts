// The session bench's files: the tile pyramid the mocked origin serves (levels
// 0 to 5 of an 8192-px square, bench/sw's real JPEG tiles reused over the keys,
// hard links on disk), one symlinked copy of it per dataset name so that every
// session starts cold at every layer, and the static dir the server serves
// (bench/sw's bundles and Workbox worker, bench/firefox's floor worker, the
// viewers' files, the session page).
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
// @ts-expect-error plain ESM helper (examples/assemble.mjs), no declarations
import { VENDOR } from '../../examples/assemble.mjs';
import { MAP_SW } from '../firefox/floorWorkers.js';
import { writeLinkedTree } from '../firefox/tileTree.js';
import { staticDir as swStaticDir, tiles } from '../sw/benchAssets.js';
import { SESSION_PAGE } from './sessionPage.js';
import { IMAGE } from './sessionScript.js';

export interface Pyramid {
  /** The origin's root directory. */
  root: string;
  /** Bytes of each tile, by `z/x/y.jpg`. */
  sizes: Map<string, number>;
}

/** Writes levels 0..IMAGE.maxZ under `bench/` (bench/sw's tiles() makes two levels a call). */
export async function writePyramid(root: string): Promise<Pyramid> {
  const files: Record<string, Uint8Array> = {};
  for (let z = IMAGE.maxZ; z >= 0; z -= 2) Object.assign(files, await tiles(root, z));
  const sizes = new Map<string, number>();
  for (const [key, bytes] of Object.entries(files)) sizes.set(key.slice('bench/'.length), bytes.length);
  for (let z = 0; z <= IMAGE.maxZ; z++) {
    const n = 2 ** z;
    if (![...sizes.keys()].some((k) => k.startsWith(`${z}/${n - 1}/${n - 1}.`)))
      throw new Error(`session bench: level ${z} of the pyramid is incomplete`);
  }
  return { root: await writeLinkedTree(files), sizes };
}

/** Dataset names `s0`, `s1`, ..., each a symlink to the pyramid: the same tiles, cold under a new name. */
export function datasetNames(pyramidRoot: string): () => Promise<string> {
  let i = 0;
  return async () => {
    const name = `s${i++}`;
    await symlink(path.join(pyramidRoot, 'bench'), path.join(pyramidRoot, name));
    return name;
  };
}

/** bench/sw's static dir plus the session page, the Map floor worker and the viewers under /vendor. */
export async function sessionStaticDir(root: string): Promise<string> {
  const dir = await swStaticDir(root);
  await writeFile(path.join(dir, 'session.html'), SESSION_PAGE);
  await writeFile(path.join(dir, 'map-sw.js'), MAP_SW);
  for (const [from, to] of Object.entries(VENDOR as Record<string, string>)) {
    if (!/^(openseadragon|leaflet)\//.test(from)) continue;
    const dst = path.join(dir, 'vendor', to);
    await mkdir(path.dirname(dst), { recursive: true });
    await cp(path.join(root, 'node_modules', from), dst);
  }
  return dir;
}
