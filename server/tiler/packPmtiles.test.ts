import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PMTiles, type Source, TileType } from 'pmtiles';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack } from '../../e2e/harness/startStack.js';
import { makeTestImage } from '../../test/support/server/testImage.js';
import { packPmtiles } from './packPmtiles.js';
import { tileImage } from './tileImage.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pack-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('packPmtiles (tile --format pmtiles)', () => {
  it('packs the tiler tree into <dataset>.pmtiles that the pmtiles package and the server read back', async () => {
    const image = path.join(dir, 'in.png');
    await makeTestImage(image, 700, 300);
    const { dir: tree, manifest } = await tileImage(image, { dataset: 'packed', outDir: dir, format: 'jpg' });
    const want = new Map<string, Buffer>();
    for (const l of manifest.levels)
      for (let x = 0; x < l.cols; x++)
        for (let y = 0; y < l.rows; y++)
          want.set(`${l.z}/${x}/${y}`, await readFile(path.join(tree, `${l.z}/${x}/${y}.jpg`)));
    const out = await packPmtiles(tree, manifest);
    expect(out).toBe(path.join(dir, 'packed.pmtiles'));
    expect(existsSync(tree)).toBe(false);
    const archive = await readFile(out);
    const src: Source = {
      getKey: () => out,
      getBytes: async (o, n) => ({ data: new Uint8Array(archive.subarray(o, o + n)).buffer }),
    };
    const pm = new PMTiles(src);
    expect(await pm.getHeader()).toMatchObject({
      specVersion: 3,
      tileType: TileType.Jpeg,
      minZoom: 0,
      maxZoom: manifest.maxZoom,
    });
    expect(await pm.getMetadata()).toMatchObject({ name: 'packed', tileSize: 256, width: manifest.width });
    for (const [k, bytes] of want) {
      const [z, x, y] = k.split('/').map(Number) as [number, number, number];
      expect(Buffer.from((await pm.getZxy(z, x, y))!.data).equals(bytes), k).toBe(true);
    }
    const stack = await startStack({ origin: { root: dir }, config: { datasetDiscovery: 'auto' } });
    try {
      const [k, bytes] = [...want].at(-1)!;
      const r = await fetch(`${stack.serverUrl}/api/tiles/packed/${k}.jpg`);
      expect([r.status, r.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
      expect(Buffer.from(await r.arrayBuffer()).equals(bytes)).toBe(true);
      // 700x300: the metadata's per-level grids know the rows past the bottom; no directory or tile read for them.
      const deepest = manifest.levels.at(-1)!;
      const reads = stack.origin.count('packed.pmtiles');
      const refused = stack.server.context.tiles.refused;
      for (const k of [
        `${deepest.z}/0/${deepest.rows}`,
        `${deepest.z}/${deepest.cols - 1}/${2 ** deepest.z - 1}`,
      ]) {
        expect((await fetch(`${stack.serverUrl}/api/tiles/packed/${k}.jpg`)).status, k).toBe(404);
      }
      expect(stack.origin.count('packed.pmtiles')).toBe(reads);
      expect(stack.server.context.tiles.refused - refused).toBe(2); // answered as outside the pyramid
      // The Deep Zoom view is the image's real size, not the square world.
      const dzi = await (await fetch(`${stack.serverUrl}/api/tiles/packed.dzi`)).text();
      expect(dzi).toMatch(new RegExp(`Width="${deepest.cols * 256}" Height="${deepest.rows * 256}"`));
    } finally {
      await stack.close();
    }
  });
});
