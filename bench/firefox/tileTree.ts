import { link, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

/**
 * A tile tree for the mocked origin: levels z and z-1 of dataset `bench`,
 * each key a hard link to one of 12 real 256-px JPEG crops of the sample
 * image (so the browser decodes real JPEG; the disk holds 12 files).
 */
export async function writeTileTree(root: string, z: number): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tile-ff-bench-origin-'));
  const src = sharp(await readFile(path.join(root, 'fixtures/sample-source/hubble_deep_field.jpg')));
  const { width = 256, height = 256 } = await src.metadata();
  const pool: string[] = [];
  for (let i = 0; i < 12; i++) {
    const left = Math.floor(((i % 4) / 4) * Math.max(0, width - 256));
    const top = Math.floor((Math.floor(i / 4) / 3) * Math.max(0, height - 256));
    const file = path.join(dir, `pool-${i}.jpg`);
    await writeFile(
      file,
      await src.clone().extract({ left, top, width: 256, height: 256 }).jpeg({ quality: 85 }).toBuffer(),
    );
    pool.push(file);
  }
  for (const level of [z, z - 1]) {
    const n = 2 ** level;
    for (let x = 0; x < n; x++) {
      const col = path.join(dir, 'bench', String(level), String(x));
      await mkdir(col, { recursive: true });
      await Promise.all(
        Array.from({ length: n }, (_, y) => link(pool[(x * 5 + y * 3) % 12]!, path.join(col, `${y}.jpg`))),
      );
    }
  }
  return dir;
}
