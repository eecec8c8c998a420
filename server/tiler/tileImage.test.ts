import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestImage } from '../../test/support/server/testImage.js';
import { readManifest } from './manifest.js';
import { type TileProgress, tileImage } from './tileImage.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'tile-image-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function tilesOf(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name !== 'manifest.json')
      out.push(path.relative(dir, path.join(e.parentPath, e.name)));
  }
  return out.sort();
}

describe('tileImage', () => {
  it.each([
    ['png', 'png', 4],
    ['webp', 'webp', 4],
  ] as const)('writes %s tiles with transparent padding', async (format, decoded, channels) => {
    const src = path.join(tmp, 'src.png');
    await makeTestImage(src, 600, 150);
    const out = path.join(tmp, 'out');
    const { dir, manifest } = await tileImage(src, { dataset: 'd1', outDir: out, format, tileSize: 128 });
    // 600 px needs 128 * 2^3 = 1024 at the deepest level; 1024 x 256 is 8 x 2 tiles.
    expect([manifest.maxZoom, manifest.width, manifest.height, manifest.format]).toEqual([
      3,
      1024,
      256,
      format,
    ]);
    expect((await tilesOf(dir)).filter((f) => f.startsWith('3/'))).toHaveLength(16);
    const { data, info } = await sharp(path.join(dir, `0/0/0.${format}`))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([128, 128, channels]);
    expect((await sharp(path.join(dir, `0/0/0.${format}`)).metadata()).format).toBe(decoded);
    // z0 is 128 x 32: alpha is opaque inside the image and 0 in the padding below.
    expect(data[(10 * 128 + 64) * 4 + 3]).toBe(255);
    expect(data[(100 * 128 + 64) * 4 + 3]).toBe(0);
  });

  it('tiles a portrait image with the right-hand columns missing past its edge', async () => {
    const src = path.join(tmp, 'tall.png');
    await makeTestImage(src, 100, 400);
    const { dir, manifest } = await tileImage(src, { dataset: 'tall', outDir: tmp, maxZoom: 1 });
    expect(manifest.levels[1]).toEqual({ z: 1, width: 128, height: 512, cols: 1, rows: 2 });
    expect(await tilesOf(dir)).toEqual(['0/0/0.jpg', '1/0/0.jpg', '1/0/1.jpg']);
    const meta = await sharp(path.join(dir, '1/0/1.jpg')).metadata();
    expect([meta.width, meta.height]).toEqual([256, 256]);
  });

  it('reports progress for every tile of every level, deepest first', async () => {
    const src = path.join(tmp, 'src.png');
    await makeTestImage(src, 300, 200);
    const events: TileProgress[] = [];
    const { manifest } = await tileImage(src, {
      dataset: 'p',
      outDir: tmp,
      maxZoom: 2,
      onProgress: (p) => events.push(p),
    });
    const finals = events.filter((e) => e.phase === 'tiles' && e.done === e.total);
    expect(finals.map((e) => e.z)).toEqual([2, 1, 0]);
    const tileEvents = events.filter((e) => e.phase === 'tiles' && e.done > 0);
    expect(tileEvents).toHaveLength(manifest.tileCount);
    expect(events[0]).toEqual({ phase: 'resize', z: 2, width: 1024, height: 683 });
  });

  it('stops on abort, throws ABORTED and leaves neither a dataset nor staging files', async () => {
    const src = path.join(tmp, 'src.png');
    await makeTestImage(src, 300, 200);
    const ac = new AbortController();
    const out = path.join(tmp, 'out');
    let seen = 0;
    const run = tileImage(src, {
      dataset: 'a',
      outDir: out,
      maxZoom: 3,
      concurrency: 1,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.phase === 'tiles' && p.done > 0 && ++seen === 3) ac.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect(seen).toBeLessThan(10);
    expect(await readdir(out)).toEqual([]);
  });

  it('replaces an existing dataset only once the new one is complete', async () => {
    const src = path.join(tmp, 'src.png');
    await makeTestImage(src, 300, 200);
    await tileImage(src, { dataset: 'r', outDir: tmp, maxZoom: 2 });
    const { manifest } = await tileImage(src, { dataset: 'r', outDir: tmp, maxZoom: 1, format: 'png' });
    expect(await tilesOf(path.join(tmp, 'r'))).toEqual([
      '0/0/0.png',
      '1/0/0.png',
      '1/0/1.png',
      '1/1/0.png',
      '1/1/1.png',
    ]);
    expect((await readManifest(path.join(tmp, 'r')))?.createdAt).toBe(manifest.createdAt);
    expect((await readdir(tmp)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('applies EXIF orientation and turns 16-bit and grey sources into 8-bit sRGB tiles', async () => {
    const orange = { width: 300, height: 200, channels: 3, background: '#ff8000' } as const;
    const rotated = path.join(tmp, 'rot.jpg');
    await sharp({ create: orange }).jpeg().withMetadata({ orientation: 6 }).toFile(rotated);
    const deep = path.join(tmp, 'deep.png');
    await sharp({ create: orange }).toColourspace('rgb16').png().toFile(deep);
    const grey = path.join(tmp, 'grey.png');
    await sharp({ create: { ...orange, background: '#808080' } })
      .greyscale()
      .png()
      .toFile(grey);

    const rot = await tileImage(rotated, { dataset: 'rot', outDir: tmp, maxZoom: 0 });
    expect([rot.manifest.sourceWidth, rot.manifest.sourceHeight]).toEqual([200, 300]);
    for (const [src, format, first] of [
      [deep, 'png', [255, 128, 0, 255]],
      [grey, 'jpg', [128, 128, 128]],
    ] as const) {
      const { dir } = await tileImage(src, { dataset: 'n', outDir: tmp, format, maxZoom: 0 });
      const { data, info } = await sharp(path.join(dir, `0/0/0.${format}`))
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect(info.channels).toBe(first.length);
      expect(data.byteLength).toBe(256 * 256 * info.channels); // one byte per sample: 8 bit
      for (let c = 0; c < first.length; c++) expect(Math.abs(data[c]! - first[c]!)).toBeLessThanOrEqual(2);
    }
  });

  it('rejects a bad dataset id, a bad format and an unreadable image with typed errors', async () => {
    const src = path.join(tmp, 'src.png');
    await makeTestImage(src, 20, 20);
    await expect(tileImage(src, { dataset: '../x', outDir: tmp })).rejects.toMatchObject({
      code: 'BAD_DATASET',
    });
    await expect(tileImage(src, { dataset: 'x', outDir: tmp, format: 'gif' as 'png' })).rejects.toMatchObject(
      {
        code: 'BAD_REQUEST',
      },
    );
    const junk = path.join(tmp, 'junk.jpg');
    await writeFile(junk, Buffer.from('definitely not a jpeg'));
    await expect(tileImage(junk, { dataset: 'x', outDir: tmp })).rejects.toMatchObject({ code: 'BAD_IMAGE' });
    await expect(
      tileImage(path.join(tmp, 'missing.jpg'), { dataset: 'x', outDir: tmp }),
    ).rejects.toMatchObject({
      code: 'BAD_IMAGE',
    });
    expect((await readdir(tmp)).sort()).toEqual(['junk.jpg', 'src.png']);
  });
});
