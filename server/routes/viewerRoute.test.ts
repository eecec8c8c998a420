import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Compression, TileType } from 'pmtiles';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { asJson } from '../../e2e/harness/asJson.js';
import { type Stack, startStack } from '../../e2e/harness/startStack.js';
import { filesUnder, requestsFor, vipsDzsave } from '../../test/support/server/datasetFixtures.js';
import { parseDzi } from '../datasets/parseDzi.js';
import { GENERATOR_NAME } from '../tiler/manifest.js';
import { writePmtiles } from '../tiler/writePmtiles.js';

let stack: Stack | undefined;
let dir: string;
let files: Record<string, Uint8Array | string>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'viewer-'));
  await vipsDzsave(dir, 'pic', { width: 600, height: 400, tileSize: 254, overlap: 1 });
  files = { ...(await filesUnder(dir)) };
  // Our tiler's tree: 1024 x 512 at z=2, jpg.
  const levels = [
    { z: 0, width: 256, height: 128, cols: 1, rows: 1 },
    { z: 1, width: 512, height: 256, cols: 2, rows: 1 },
    { z: 2, width: 1024, height: 512, cols: 4, rows: 2 },
  ];
  for (const l of levels)
    for (let x = 0; x < l.cols; x++)
      for (let y = 0; y < l.rows; y++) files[`mine/${l.z}/${x}/${y}.jpg`] = randomBytes(100);
  files['mine/manifest.json'] = JSON.stringify({
    width: 1024,
    height: 512,
    tileSize: 256,
    minZoom: 0,
    maxZoom: 2,
    format: 'jpg',
    levels,
    generator: GENERATOR_NAME,
    generatorVersion: 1,
  });
  files['plain/0/0/0.png'] = randomBytes(10);
  files['roads.pmtiles'] = writePmtiles(
    [
      { z: 0, x: 0, y: 0, bytes: gzipSync(randomBytes(50)) },
      { z: 1, x: 0, y: 0, bytes: gzipSync(randomBytes(50)) },
    ],
    {
      tileType: TileType.Mvt,
      tileCompression: Compression.Gzip,
      metadata: { name: 'Roads', attribution: '© test', vector_layers: [{ id: 'roads', fields: {} }] },
      bounds: [-10, -20, 30, 40],
    },
  );
  files['big-tile'] = randomBytes(300);
  files['big.pmtiles'] = writePmtiles([{ z: 0, x: 0, y: 0, bytes: files['big-tile'] as Uint8Array }], {
    tileType: TileType.Png,
    metadata: { tileSize: 512 },
  });
  stack = await startStack({ origin: { files }, config: { datasetDiscovery: 'auto' } });
});
afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  stack!.origin.requests.length = 0;
});

async function get(p: string) {
  const r = await fetch(`${stack!.serverUrl}${p}`);
  return { status: r.status, type: r.headers.get('content-type'), bytes: Buffer.from(await r.arrayBuffer()) };
}

describe('GET /api/tiles/{dataset}.dzi and its _files tiles', () => {
  it('a DZI dataset: its own descriptor, and _files tiles are the files vips wrote', async () => {
    const d = await get('/api/tiles/pic.dzi');
    expect([d.status, d.type]).toEqual([200, 'application/xml; charset=utf-8']);
    expect(parseDzi(d.bytes)).toEqual(parseDzi(files['pic.dzi'] as Uint8Array));
    const t = await get('/api/tiles/pic_files/10/2_1.jpeg');
    expect([t.status, t.type]).toEqual([200, 'image/jpeg']);
    expect(t.bytes.equals(files['pic_files/10/2_1.jpeg'] as Uint8Array)).toBe(true);
  });

  it('a tiler tree: levels are z + 8 (1024 px is DZI level 10); shallower levels are 404 with no origin request', async () => {
    const d = parseDzi((await get('/api/tiles/mine.dzi')).bytes);
    expect(d).toEqual({ tileSize: 256, overlap: 0, format: 'jpeg', width: 1024, height: 512 });
    const t = await get('/api/tiles/mine_files/10/3_1.jpg');
    expect(t.bytes.equals(files['mine/2/3/1.jpg'] as Uint8Array)).toBe(true);
    expect(
      (await get('/api/tiles/mine_files/8/0_0.jpg')).bytes.equals(files['mine/0/0/0.jpg'] as Uint8Array),
    ).toBe(true);
    expect((await get('/api/tiles/mine_files/7/0_0.jpg')).status).toBe(404);
    expect((await get('/api/tiles/mine_files/10/3_2.jpg')).status).toBe(404);
    const tileGets = requestsFor(stack!.origin, 'mine/').filter((r) => !r.key.endsWith('manifest.json'));
    expect(tileGets.map((r) => r.key).sort()).toEqual(['mine/0/0/0.jpg', 'mine/2/3/1.jpg']);
  });

  it('_files tiles batch as dataset d_files', async () => {
    const r = await fetch(`${stack!.serverUrl}/api/tiles/mine_files/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tiles: ['10/0/0.jpg', '9/1/0.jpg', '9/0/1.jpg'] }),
    });
    const b = (await r.json().then(asJson)) as { tiles: Record<string, string | null> };
    expect(Buffer.from(b.tiles['10/0/0.jpg']!, 'base64').equals(files['mine/2/0/0.jpg'] as Uint8Array)).toBe(
      true,
    );
    expect(Buffer.from(b.tiles['9/1/0.jpg']!, 'base64').equals(files['mine/1/1/0.jpg'] as Uint8Array)).toBe(
      true,
    );
    expect(b.tiles['9/0/1.jpg']).toBeNull();
  });

  it('no descriptor where the size is unknown or the tiles are vectors: coded 404', async () => {
    for (const p of ['/api/tiles/plain.dzi', '/api/tiles/roads.dzi']) {
      const r = await get(p);
      expect([r.status, JSON.parse(r.bytes.toString()).error.code]).toEqual([404, 'NOT_FOUND']);
    }
  });
});

describe('GET /api/tiles/{dataset}.json (TileJSON 3.0.0)', () => {
  it('a vector archive: pbf tiles URL, zooms, bounds and vector_layers from its metadata', async () => {
    const r = await get('/api/tiles/roads.json');
    expect(r.type).toBe('application/json; charset=utf-8');
    const doc = JSON.parse(r.bytes.toString());
    expect(doc).toMatchObject({
      tilejson: '3.0.0',
      name: 'Roads',
      attribution: '© test',
      tiles: [`${stack!.serverUrl}/api/tiles/roads/{z}/{x}/{y}.pbf`],
      minzoom: 0,
      maxzoom: 1,
      bounds: [-10, -20, 30, 40],
      vector_layers: [{ id: 'roads', fields: {} }],
    });
  });

  it('a raster archive: the tile size from its metadata, read from the bytes the probe had (no extra request)', async () => {
    const doc = JSON.parse((await get('/api/tiles/big.json')).bytes.toString());
    expect(doc).toMatchObject({
      tiles: [`${stack!.serverUrl}/api/tiles/big/{z}/{x}/{y}.png`],
      tileSize: 512,
      maxzoom: 0,
    });
    const d = parseDzi((await get('/api/tiles/big.dzi')).bytes);
    expect(d).toEqual({ tileSize: 512, overlap: 0, format: 'png', width: 512, height: 512 });
    expect((await get('/api/tiles/big_files/9/0_0.png')).bytes.equals(files['big-tile'] as Uint8Array)).toBe(
      true,
    );
    // the 16 KiB probe (header, root, metadata), then the one tile
    expect(requestsFor(stack!.origin, 'big.pmtiles').length).toBe(2);
  });

  it('a raster tree: its format and zooms', async () => {
    const doc = JSON.parse((await get('/api/tiles/mine.json')).bytes.toString());
    expect(doc).toMatchObject({
      tilejson: '3.0.0',
      tiles: [`${stack!.serverUrl}/api/tiles/mine/{z}/{x}/{y}.jpg`],
      minzoom: 0,
      maxzoom: 2,
      tileSize: 256,
    });
  });
});
