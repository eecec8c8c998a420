import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Compression, TileType, tileIdToZxy } from 'pmtiles';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { asJson } from '../../e2e/harness/asJson.js';
import type { Stack, StackOptions } from '../../e2e/harness/startStack.js';
import {
  datasetStack,
  filesUnder,
  requestsFor,
  vipsDzsave,
} from '../../test/support/server/datasetFixtures.js';
import { GENERATOR_NAME } from '../tiler/manifest.js';
import { type PmtilesInputTile, writePmtiles } from '../tiler/writePmtiles.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function start(files: Record<string, Uint8Array | string>, opts: StackOptions = {}): Promise<Stack> {
  stack = await datasetStack(files, opts);
  return stack;
}

async function get(path: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${stack!.serverUrl}${path}`, { headers });
  const bytes = Buffer.from(await r.arrayBuffer());
  return {
    status: r.status,
    type: r.headers.get('content-type'),
    headers: r.headers,
    bytes,
    json: () => JSON.parse(bytes.toString()),
  };
}

/** A GET that shows the body as sent (fetch would inflate it). */
function rawGet(url: string, headers: Record<string, string>) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
  }>((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function batch(dataset: string, keys: string[]) {
  const r = await fetch(`${stack!.serverUrl}/api/tiles/${dataset}/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tiles: keys }),
  });
  expect(r.status, await r.clone().text()).toBe(200);
  return (await r.json().then(asJson)) as { tiles: Record<string, string | null> };
}

/** A tree as our tiler writes it: manifest.json says jpg, z 0..2, a 2:1 image (rows past the bottom do not exist). */
function tilerTree(name: string) {
  const files: Record<string, Uint8Array | string> = {};
  const levels = [
    { z: 0, width: 256, height: 128, cols: 1, rows: 1 },
    { z: 1, width: 512, height: 256, cols: 2, rows: 1 },
    { z: 2, width: 1024, height: 512, cols: 4, rows: 2 },
  ];
  for (const l of levels)
    for (let x = 0; x < l.cols; x++)
      for (let y = 0; y < l.rows; y++) files[`${name}/${l.z}/${x}/${y}.jpg`] = randomBytes(300);
  files[`${name}/manifest.json`] = JSON.stringify({
    dataset: name,
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
  return files;
}

describe('z/x/y tree with our manifest.json: the pyramid is known', () => {
  it('answers 100 keys below the pyramid and keys past its last row without an origin request', async () => {
    const s = await start(tilerTree('mine'));
    const deep = Array.from({ length: 100 }, (_, i) => `18/${i}/${i}.jpg`);
    const b = await batch('mine', deep);
    expect(Object.values(b.tiles).every((t) => t === null)).toBe(true);
    const past = await batch('mine', ['2/0/2.jpg', '2/3/3.jpg', '1/0/1.jpg', '1/1/1.png']);
    expect(Object.values(past.tiles)).toEqual([null, null, null, null]);
    expect((await get('/api/tiles/mine/2/0/3.jpg')).status).toBe(404);
    // Only the one-time probes reached the origin: no tile key at all.
    expect(requestsFor(s.origin, 'mine/').map((r) => r.key)).toEqual(['mine/manifest.json']);
    expect(s.server.context.tiles.refused).toBe(105);
  });

  it("a key outside the known pyramid is a 404 (null in a batch), never a 429, once the client's miss budget is spent", async () => {
    const t = Date.now();
    const s = await start(tilerTree('mine'), {
      config: { missBudgetPerSec: 1, missBudgetBurst: 2 },
      deps: { now: () => t }, // a still clock: the budget does not refill during the test
    });
    // Two cold tiles spend the burst (the first also finds the dataset).
    expect((await get('/api/tiles/mine/2/0/0.jpg')).status).toBe(200);
    expect((await get('/api/tiles/mine/2/1/0.jpg')).status).toBe(200);
    const cold = await get('/api/tiles/mine/2/2/0.jpg');
    expect([cold.status, cold.json().error.code]).toEqual([429, 'RATE_LIMITED']);
    const before = s.server.context.guard.refused;
    for (const k of ['9/0/0', '2/0/2', '2/3/2', '1/1/1']) {
      const r = await get(`/api/tiles/mine/${k}.jpg`);
      expect([r.status, r.json().error.code, k]).toEqual([404, 'NOT_FOUND', k]);
    }
    const b = await fetch(`${s.serverUrl}/api/tiles/mine/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tiles: ['9/0/0.jpg', '2/0/2.jpg', '2/3/1.jpg'] }),
    });
    const body = (await b.json()) as {
      tiles: Record<string, string | null>;
      errors?: Record<string, { code: string }>;
    };
    expect([
      body.tiles['9/0/0.jpg'],
      body.tiles['2/0/2.jpg'],
      body.errors?.['9/0/0.jpg'],
      body.errors?.['2/0/2.jpg'],
    ]).toEqual([null, null, undefined, undefined]);
    // The one in-pyramid cold key of the batch still meets the spent budget.
    expect(body.errors?.['2/3/1.jpg']?.code).toBe('RATE_LIMITED');
    expect(s.server.context.guard.refused - before).toBe(1);
    expect(
      requestsFor(s.origin, 'mine/')
        .map((r) => r.key)
        .sort(),
    ).toEqual(['mine/2/0/0.jpg', 'mine/2/1/0.jpg', 'mine/manifest.json'].sort());
  });

  it('fetches the known format only: 8 tiles asked as .png cost 8 origin GETs of the .jpg', async () => {
    const files = tilerTree('mine');
    const s = await start(files);
    const keys = ['0/0/0', '1/0/0', '1/1/0', '2/0/0', '2/1/0', '2/2/1', '2/3/1', '2/3/0'];
    const b = await batch(
      'mine',
      keys.map((k) => `${k}.png`),
    );
    for (const k of keys)
      expect(Buffer.from(b.tiles[`${k}.png`]!, 'base64').equals(files[`mine/${k}.jpg`] as Buffer)).toBe(true);
    const one = await get('/api/tiles/mine/2/1/1.webp');
    expect([one.status, one.type]).toEqual([200, 'image/jpeg']);
    const tileGets = requestsFor(s.origin, 'mine/').filter((r) => r.key !== 'mine/manifest.json');
    expect(tileGets.map((r) => r.key).sort()).toEqual([...keys, '2/1/1'].map((k) => `mine/${k}.jpg`).sort());
  });

  it('a tree without a manifest keeps the format fallback, and its probes are made once', async () => {
    const s = await start({ 'plain/0/0/0.png': randomBytes(100) });
    expect((await get('/api/tiles/plain/0/0/0.jpg')).type).toBe('image/png');
    expect((await get('/api/tiles/plain/1/0/0.jpg')).status).toBe(404);
    expect(
      s.origin.count('plain.pmtiles') + s.origin.count('plain.dzi') + s.origin.count('plain/manifest.json'),
    ).toBe(3);
    expect(
      s.origin.count('plain/1/0/0.jpg') +
        s.origin.count('plain/1/0/0.png') +
        s.origin.count('plain/1/0/0.webp'),
    ).toBe(3);
  });

  it('a cache-clear reads the manifest again (the dataset was re-tiled)', async () => {
    const s = await start(tilerTree('mine'), { config: { ownerToken: 'o' } });
    expect((await get('/api/tiles/mine/2/0/0.jpg')).status).toBe(200);
    const clear = await fetch(`${s.serverUrl}/api/tiles/mine/cache-clear`, {
      method: 'POST',
      headers: { authorization: 'Bearer o' },
    });
    expect(clear.status).toBe(200);
    expect((await get('/api/tiles/mine/2/0/0.jpg')).status).toBe(200);
    expect(s.origin.count('mine/manifest.json')).toBe(2);
  });
});

/** z 0..3 raster archive with leaf directories of 64 entries: tile ids 0..63 share the first leaf. */
function rasterArchive() {
  const tiles: PmtilesInputTile[] = [];
  for (let id = 0; id < 85; id++) {
    const [z, x, y] = tileIdToZxy(id);
    tiles.push({ z, x, y, bytes: randomBytes(200 + id) });
  }
  return { tiles, archive: writePmtiles(tiles, { tileType: TileType.Png, leafSize: 64 }) };
}

describe('PMTiles v3 archives (d.pmtiles) through the engine', () => {
  it('serves every tile; concurrent misses share one leaf-directory read; then one range per tile', async () => {
    const { tiles, archive } = rasterArchive();
    const s = await start({ 'map.pmtiles': archive });
    const want = tiles.slice(21, 37); // 16 z=3 tiles, all in leaf 0
    const b = await batch(
      'map',
      want.map((t) => `${t.z}/${t.x}/${t.y}.png`),
    );
    for (const t of want)
      expect(Buffer.from(b.tiles[`${t.z}/${t.x}/${t.y}.png`]!, 'base64').equals(t.bytes)).toBe(true);
    const reads = requestsFor(s.origin, 'map.pmtiles');
    // header+root probe, the leaf, 16 tiles; every range asked once
    expect(reads.length).toBe(18);
    expect(new Set(reads.map((r) => r.range)).size).toBe(18);
    expect(reads.every((r) => r.range?.startsWith('bytes='))).toBe(true);
    const one = await get('/api/tiles/map/0/0/0.png');
    expect([one.status, one.type]).toEqual([200, 'image/png']);
    expect(one.bytes.equals(tiles[0]!.bytes)).toBe(true);
    expect(requestsFor(s.origin, 'map.pmtiles').length).toBe(19);
    // Nothing was fetched as a tree (the manifest probe went out with the others).
    expect(requestsFor(s.origin, 'map/').map((r) => r.key)).toEqual(['map/manifest.json']);
  });

  it('answers keys outside the header zoom range, and missing tiles, without a tile read', async () => {
    const { archive } = rasterArchive();
    const s = await start({ 'map.pmtiles': archive });
    expect((await get('/api/tiles/map/9/0/0.png')).status).toBe(404);
    expect(requestsFor(s.origin, 'map.pmtiles').length).toBe(1);
  });

  it('vector tiles: gzip MVT served as application/vnd.mapbox-vector-tile; .dds is a coded 400', async () => {
    const mvt = randomBytes(500);
    const archive = writePmtiles([{ z: 0, x: 0, y: 0, bytes: gzipSync(mvt) }], {
      tileType: TileType.Mvt,
      tileCompression: Compression.Gzip,
    });
    const s = await start({ 'roads.pmtiles': archive });
    for (const ext of ['mvt', 'pbf']) {
      const r = await get(`/api/tiles/roads/0/0/0.${ext}`, { 'accept-encoding': 'identity' });
      expect([r.status, r.type, r.headers.get('content-encoding')]).toEqual([
        200,
        'application/vnd.mapbox-vector-tile',
        null,
      ]);
      expect(r.bytes.equals(mvt)).toBe(true);
    }
    // A client that accepts gzip gets the archive's bytes as stored, Content-Encoding: gzip.
    const raw = await rawGet(`${s.serverUrl}/api/tiles/roads/0/0/0.mvt`, {
      'accept-encoding': 'gzip, deflate',
    });
    expect([raw.status, raw.headers['content-encoding'], raw.headers.vary]).toEqual([
      200,
      'gzip',
      'Accept-Encoding',
    ]);
    expect(gunzipSync(raw.body).equals(mvt)).toBe(true);
    expect(raw.body.equals(gzipSync(mvt))).toBe(true);
    const again = await rawGet(`${s.serverUrl}/api/tiles/roads/0/0/0.mvt`, {
      'accept-encoding': 'gzip',
      'if-none-match': raw.headers.etag as string,
    });
    expect(again.status).toBe(304);
    const batched = await batch('roads', ['0/0/0.pbf']);
    expect(Buffer.from(batched.tiles['0/0/0.pbf']!, 'base64').equals(mvt)).toBe(true);
    // header+root, then the tile once per extension (.mvt and .pbf are two cache keys); the rest were memory hits
    expect(requestsFor(s.origin, 'roads.pmtiles').length).toBe(3);
    const dds = await get('/api/tiles/roads/0/0/0.dds');
    expect([dds.status, dds.json().error.code]).toEqual([400, 'BAD_EXTENSION']);
    expect((await get('/api/tiles/roads/0/0/0.png')).status).toBe(404);
  });

  it('refuses zstd, spec v2, a truncated and a corrupt archive with coded errors; other datasets still served', async () => {
    const { tiles, archive } = rasterArchive();
    const last = tiles[84]!; // stored last: cut off by the truncation
    const zstd = writePmtiles([{ z: 0, x: 0, y: 0, bytes: randomBytes(10) }], {
      tileType: TileType.Png,
      tileCompression: Compression.Zstd,
    });
    const v2 = Buffer.from(archive);
    v2[7] = 2;
    const corrupt = Buffer.from(archive);
    corrupt.fill(0xff, 127, 200); // the root directory
    const s = await start({
      'z.pmtiles': zstd,
      'v2.pmtiles': v2,
      'cut.pmtiles': archive.subarray(0, archive.length - 500),
      'bad.pmtiles': corrupt,
      'tiny.pmtiles': archive.subarray(0, 50),
      'map.pmtiles': archive,
    });
    const code = async (p: string) => {
      const r = await get(p);
      return [r.status, r.status === 200 ? 'served' : r.json().error.code, p];
    };
    expect(await code('/api/tiles/z/0/0/0.png')).toEqual([501, 'UNSUPPORTED', '/api/tiles/z/0/0/0.png']);
    expect(await code('/api/tiles/v2/0/0/0.png')).toEqual([501, 'UNSUPPORTED', '/api/tiles/v2/0/0/0.png']);
    expect(await code(`/api/tiles/cut/3/${last.x}/${last.y}.png`)).toEqual([
      502,
      'BAD_ARCHIVE',
      `/api/tiles/cut/3/${last.x}/${last.y}.png`,
    ]);
    expect(await code('/api/tiles/bad/3/0/0.png')).toEqual([502, 'BAD_ARCHIVE', '/api/tiles/bad/3/0/0.png']);
    expect(await code('/api/tiles/tiny/0/0/0.png')).toEqual([
      502,
      'BAD_ARCHIVE',
      '/api/tiles/tiny/0/0/0.png',
    ]);
    expect((await get('/api/tiles/map/1/1/1.png')).status).toBe(200);
    // Refusals are not remembered as tiles: asking again asks again (after the retry window) and errs the same.
    expect(s.server.context.tiles.cache.bytes).toBeGreaterThan(0);
  });
});

describe('Deep Zoom (d.dzi + d_files/) made by vips dzsave', () => {
  let dir: string;
  let files: Record<string, Uint8Array>;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dzi-'));
    await vipsDzsave(dir, 'pic', { width: 600, height: 400, tileSize: 254, overlap: 1 });
    await vipsDzsave(dir, 'flat', { width: 300, height: 700, tileSize: 512, overlap: 0, suffix: '.png' });
    files = await filesUnder(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('maps z/x/y onto level/col_row: every tile vips wrote is served with its bytes', async () => {
    const s = await start(files);
    const tiles = Object.keys(files).filter((k) => /^pic_files\/\d+\//.test(k));
    expect(tiles.length).toBeGreaterThan(10);
    const keys = tiles.map((k) => {
      const m = /^pic_files\/(\d+)\/(\d+)_(\d+)\.jpeg$/.exec(k)!;
      return { file: k, key: `${m[1]}/${m[2]}/${m[3]}.jpg` };
    });
    const b = await batch(
      'pic',
      keys.map((k) => k.key),
    );
    for (const k of keys)
      expect(Buffer.from(b.tiles[k.key]!, 'base64').equals(files[k.file]!), k.key).toBe(true);
    expect(requestsFor(s.origin, 'pic_files/').length).toBe(tiles.length);
  });

  it('knows the extent and format: outside it costs nothing, another extension fetches the descriptor format once', async () => {
    const s = await start(files);
    expect((await get('/api/tiles/pic/10/3/0.jpg')).status).toBe(404); // 600 px / 254 = 3 columns
    expect((await get('/api/tiles/pic/11/0/0.jpg')).status).toBe(404);
    expect((await get('/api/tiles/pic/9/0/1.jpg')).status).toBe(404); // 200 px tall: one row
    expect(requestsFor(s.origin, 'pic_files/')).toEqual([]);
    const r = await get('/api/tiles/pic/10/2/1.png');
    expect([r.status, r.type]).toEqual([200, 'image/jpeg']);
    expect(requestsFor(s.origin, 'pic_files/').map((q) => q.key)).toEqual(['pic_files/10/2_1.jpeg']);
    const p = await get('/api/tiles/flat/10/0/1.png'); // 700 px tall, 512-px tiles, png
    expect([p.status, p.type]).toEqual([200, 'image/png']);
    expect(p.bytes.equals(files['flat_files/10/0_1.png']!)).toBe(true);
  });

  it('a bad descriptor is a 502 BAD_DESCRIPTOR; no tile of it is fetched; other datasets are served', async () => {
    const s = await start({
      ...files,
      'evil.dzi': `<!DOCTYPE x [<!ENTITY e "${'a'.repeat(100)}">]><Image Format="jpeg" Overlap="0" TileSize="&e;"><Size Width="1" Height="1"/></Image>`,
      'empty.dzi': '',
    });
    for (const d of ['evil', 'empty']) {
      const r = await get(`/api/tiles/${d}/0/0/0.jpg`);
      expect([r.status, r.json().error.code]).toEqual([502, 'BAD_DESCRIPTOR']);
    }
    expect(requestsFor(s.origin, 'evil_files/')).toEqual([]);
    expect((await get('/api/tiles/pic/0/0/0.jpg')).status).toBe(200);
  });
});
