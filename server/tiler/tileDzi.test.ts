import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../../e2e/harness/startStack.js';
import { filesUnder, requestsFor, vipsDzsave } from '../../test/support/server/datasetFixtures.js';
import { parseDzi } from '../datasets/parseDzi.js';
import { tileDzi } from './tileDzi.js';

let tmp: string;
let stack: Stack | undefined;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'tile-dzi-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** `_files/` as relative path -> tile size in px (what a viewer places by), without vips' properties dump. */
async function shape(filesDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(filesDir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || e.name === 'vips-properties.xml') continue;
    const file = path.join(e.parentPath, e.name);
    const m = await sharp(file).metadata();
    out.set(path.relative(filesDir, file), `${m.width}x${m.height} ${m.format}`);
  }
  return out;
}

const CASES = [
  { name: 'land', width: 600, height: 400, tileSize: 254, overlap: 1, suffix: '.jpeg', format: 'jpg' },
  { name: 'port', width: 300, height: 700, tileSize: 512, overlap: 0, suffix: '.png', format: 'png' },
  { name: 'odd', width: 513, height: 129, tileSize: 128, overlap: 2, suffix: '.webp', format: 'webp' },
] as const;

describe('tileDzi (tile --layout dzi)', () => {
  it.each(CASES)(
    'writes what `vips dzsave` writes for the same image: $name ($width x $height, $tileSize px, overlap $overlap, $format)',
    async (c) => {
      const ref = path.join(tmp, `ref-${c.name}`);
      await vipsDzsave(ref, c.name, c);
      const ours = path.join(tmp, `ours-${c.name}`);
      const r = await tileDzi(path.join(ref, `${c.name}-source.png`), {
        dataset: c.name,
        outDir: ours,
        format: c.format,
        tileSize: c.tileSize,
        overlap: c.overlap,
      });
      expect(r.descriptorFile).toBe(path.join(ours, `${c.name}.dzi`));
      expect(parseDzi(await readFile(r.descriptorFile))).toEqual(
        parseDzi(await readFile(path.join(ref, `${c.name}.dzi`))),
      );
      const want = await shape(path.join(ref, `${c.name}_files`));
      const got = await shape(r.filesDir);
      expect(got.size).toBe(r.tileCount);
      expect([...got].sort()).toEqual([...want].sort());
      // Levels from 1x1 px; the last column is narrower (no padding) and inner edges carry the overlap.
      expect(got.get(`0/0_0${c.suffix}`)).toMatch(/^1x1 /);
      const lastCol = Math.ceil(c.width / c.tileSize) - 1;
      const edge = Number(got.get(`${r.maxLevel}/${lastCol}_0${c.suffix}`)?.split('x')[0]);
      expect(edge).toBe(c.width - lastCol * c.tileSize + c.overlap);
      expect((await readdir(ours)).sort()).toEqual([`${c.name}.dzi`, `${c.name}_files`]);
    },
  );

  it('is served by the server: the descriptor at /api/tiles/NAME.dzi and every tile byte-exact on both routes', async () => {
    const out = path.join(tmp, 'served');
    const r = await tileDzi(path.join(tmp, `ref-land/land-source.png`), {
      dataset: 'pic',
      outDir: out,
      tileSize: 254,
      overlap: 1,
    });
    const files = await filesUnder(out);
    stack = await startStack({ origin: { files }, config: { datasetDiscovery: 'auto' } });
    const get = async (p: string) => {
      const res = await fetch(`${stack!.serverUrl}${p}`);
      return {
        status: res.status,
        type: res.headers.get('content-type'),
        bytes: Buffer.from(await res.arrayBuffer()),
      };
    };
    const d = await get('/api/tiles/pic.dzi');
    expect(d.status).toBe(200);
    expect(parseDzi(d.bytes)).toEqual(r.descriptor);
    const tiles = Object.keys(files).filter((k) => k.startsWith('pic_files/'));
    expect(tiles).toHaveLength(r.tileCount);
    for (const key of tiles) {
      const [, level, col, row] = /^pic_files\/(\d+)\/(\d+)_(\d+)\.jpeg$/.exec(key)!;
      const viaZxy = await get(`/api/tiles/pic/${level}/${col}/${row}.jpg`);
      expect([viaZxy.status, viaZxy.type, viaZxy.bytes.equals(files[key]!)], key).toEqual([
        200,
        'image/jpeg',
        true,
      ]);
      const viaDzi = await get(`/api/tiles/pic_files/${level}/${col}_${row}.jpeg`);
      expect([viaDzi.status, viaDzi.bytes.equals(files[key]!)], key).toEqual([200, true]);
    }
    // One origin GET per tile and route (`pic` and its view `pic_files` are two cache names), none outside the pyramid.
    expect(requestsFor(stack.origin, 'pic_files/')).toHaveLength(2 * r.tileCount);
    expect((await get(`/api/tiles/pic/${r.maxLevel}/9/0.jpg`)).status).toBe(404);
    expect(requestsFor(stack.origin, 'pic_files/')).toHaveLength(2 * r.tileCount);
  });

  it('replaces an earlier pyramid whole, and leaves nothing on a bad image or an abort', async () => {
    const out = path.join(tmp, 'replace');
    const src = path.join(tmp, 'ref-land/land-source.png');
    await tileDzi(src, { dataset: 'r', outDir: out, tileSize: 128 });
    const second = await tileDzi(src, { dataset: 'r', outDir: out, tileSize: 254 });
    expect(parseDzi(await readFile(second.descriptorFile)).tileSize).toBe(254);
    // No 128-px level grid is left: level 10 (600 px wide) has 3 columns at 254 px, it had 5.
    expect((await readdir(path.join(second.filesDir, '10'))).sort()).toEqual([
      '0_0.jpeg',
      '0_1.jpeg',
      '1_0.jpeg',
      '1_1.jpeg',
      '2_0.jpeg',
      '2_1.jpeg',
    ]);
    expect((await readdir(out)).sort()).toEqual(['r.dzi', 'r_files']);

    await writeFile(path.join(tmp, 'bad.png'), 'not an image');
    await expect(tileDzi(path.join(tmp, 'bad.png'), { dataset: 'b', outDir: out })).rejects.toMatchObject({
      code: 'BAD_IMAGE',
    });
    const ac = new AbortController();
    const run = tileDzi(src, {
      dataset: 'a',
      outDir: out,
      signal: ac.signal,
      onProgress: () => ac.abort(new Error('stop')),
    });
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await readdir(out)).sort()).toEqual(['r.dzi', 'r_files']);
    expect(existsSync(path.join(out, 'a.dzi'))).toBe(false);
  });

  it('refuses an overlap past half a tile and a tile size out of range', async () => {
    const src = path.join(tmp, 'ref-land/land-source.png');
    await expect(
      tileDzi(src, { dataset: 'x', outDir: tmp, tileSize: 64, overlap: 33 }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(tileDzi(src, { dataset: 'x', outDir: tmp, tileSize: 8 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});
