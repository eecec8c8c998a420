import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect, test } from '@playwright/test';
import { Compression, TileType } from 'pmtiles';
import { packPmtiles } from '../../server/tiler/packPmtiles.js';
import { tileImage } from '../../server/tiler/tileImage.js';
import { type PmtilesInputTile, writePmtiles } from '../../server/tiler/writePmtiles.js';
import { filesUnder, vipsDzsave } from '../../test/support/server/datasetFixtures.js';
import { makeTestImage } from '../../test/support/server/testImage.js';
import { mvtTile } from '../harness/mvtTile.js';
import {
  expectTilesThroughWorker,
  openExample,
  startViewerStack,
  type ViewerStack,
  webglLaunchOptions,
} from './viewerStack.js';

// The viewers' own dataset shapes (issue 14): OpenSeadragon given only a `.dzi`
// URL, MapLibre given only TileJSON URLs, each through the worker's batches.
test.use({ launchOptions: await webglLaunchOptions() });

let dir: string;
let files: Record<string, Uint8Array>;
let stack: ViewerStack | undefined;

test.beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'e2e-datasets-'));
  // A real `vips dzsave` pyramid: 2400x1600, 254-px tiles, overlap 1 (vips' defaults).
  await vipsDzsave(path.join(dir, 'dz'), 'pic', { width: 2400, height: 1600 });
  // A raster PMTiles archive from our tiler (png, z 0..2) and a vector one (gzip MVT, z 0..2).
  const src = path.join(dir, 'src.png');
  await makeTestImage(src, 1024, 1024);
  const { dir: tree, manifest } = await tileImage(src, {
    dataset: 'ras',
    outDir: path.join(dir, 'pm'),
    format: 'png',
    maxZoom: 2,
  });
  await packPmtiles(tree, manifest);
  const vec: PmtilesInputTile[] = [];
  for (let z = 0; z <= 2; z++)
    for (let x = 0; x < 2 ** z; x++)
      for (let y = 0; y < 2 ** z; y++)
        vec.push({
          z,
          x,
          y,
          bytes: gzipSync(
            mvtTile('roads', [
              [
                [0, 0],
                // distinct per tile: an archive stores identical tiles once, and two keys would read one range
                [4096, 4096 - 16 * (z * 8 + x * 2 + y)],
              ],
              [
                [0, 4096],
                [4096, 0],
              ],
            ]),
          ),
        });
  const vectorArchive = writePmtiles(vec, {
    tileType: TileType.Mvt,
    tileCompression: Compression.Gzip,
    metadata: { name: 'vec', vector_layers: [{ id: 'roads', fields: {} }] },
  });
  files = {
    ...(await filesUnder(path.join(dir, 'dz'))),
    ...(await filesUnder(path.join(dir, 'pm'))),
    'vec.pmtiles': vectorArchive,
  };
});
test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
test.afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

test('OpenSeadragon opens /api/tiles/pic.dzi of a vips dzsave tree; its tiles come through the worker batches', async ({
  page,
}) => {
  stack = await startViewerStack(files);
  const tiles = await openExample(page, stack, 'openseadragon-dzi', '?dataset=pic');
  await expectTilesThroughWorker(page, stack, tiles, 8, {
    dataset: 'pic_files',
    isOriginRead: (r) => r.key.startsWith('pic_files/'),
  });
  expect(stack.serverRequests.filter((u) => u === '/api/tiles/pic.dzi').length).toBeGreaterThanOrEqual(1);
  // What OpenSeadragon asked for is what vips wrote: every origin read is a file of the tree.
  const reads = stack.origin.requests.filter((r) => r.key.startsWith('pic_files/'));
  for (const r of reads) expect(files[r.key], r.key).toBeDefined();
  expect(tiles.fromWorker()).toBeGreaterThanOrEqual(8);
});

test('MapLibre loads a raster and a vector source from TileJSON (PMTiles archives); tiles come through the worker batches', async ({
  page,
}) => {
  stack = await startViewerStack(files);
  const mapErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && m.text().includes('[maplibre]')) mapErrors.push(m.text());
  });
  const tiles = await openExample(page, stack, 'maplibre-tilejson', '?raster=ras&vector=vec&layer=roads');
  await page
    .waitForFunction(
      () => {
        const by = (globalThis as unknown as { tilesBySource?: Record<string, number> }).tilesBySource ?? {};
        return (by.raster ?? 0) >= 1 && (by.vector ?? 0) >= 1;
      },
      undefined,
      { timeout: 20_000 },
    )
    .catch((e: unknown) => {
      throw new Error(`MapLibre did not load a tile of both sources: ${String(e)}`);
    });
  await expectTilesThroughWorker(page, stack, tiles, 2, [
    { dataset: 'ras', isOriginRead: (r) => r.key === 'ras.pmtiles' },
    { dataset: 'vec', isOriginRead: (r) => r.key === 'vec.pmtiles' },
  ]);
  for (const d of ['ras', 'vec'])
    expect(stack.serverRequests.filter((u) => u === `/api/tiles/${d}.json`).length).toBeGreaterThanOrEqual(1);
  // Every read of the archives was a range (the probe, then one per tile): never the whole object.
  const archiveReads = stack.origin.requests.filter((r) => r.key.endsWith('.pmtiles'));
  expect(archiveReads.every((r) => typeof r.headers.range === 'string')).toBe(true);
  // The vector tiles reached MapLibre as tiles it could parse: it reported no error.
  const vectorTiles = [...tiles.sources.keys()].filter((u) => u.startsWith('/api/tiles/vec/'));
  expect(vectorTiles.length).toBeGreaterThanOrEqual(1);
  expect(mapErrors).toEqual([]);
});
