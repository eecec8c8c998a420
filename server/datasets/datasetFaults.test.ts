import { randomBytes } from 'node:crypto';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { bytesToHeader, Compression, TileType, tileIdToZxy } from 'pmtiles';
import { afterEach, describe, expect, it } from 'vitest';
import type { Stack, StackOptions } from '../../e2e/harness/startStack.js';
import { datasetStack, requestsFor } from '../../test/support/server/datasetFixtures.js';
import {
  assemblePmtiles,
  type PmtilesEntry,
  type PmtilesInputTile,
  serializeDirectory,
  writePmtiles,
} from '../tiler/writePmtiles.js';
import { MAX_INFLATED_BYTES } from './pmtilesDecompress.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function start(files: Record<string, Uint8Array | string>, opts: StackOptions = {}): Promise<Stack> {
  stack = await datasetStack(files, opts);
  return stack;
}

async function get(p: string) {
  const r = await fetch(`${stack!.serverUrl}${p}`);
  const bytes = Buffer.from(await r.arrayBuffer());
  const json = r.headers.get('content-type')?.includes('json') ? JSON.parse(bytes.toString()) : undefined;
  return { status: r.status, bytes, code: json?.error?.code as string | undefined, json };
}

/** z 0..3, leaf directories of 64 entries: tile ids 0..63 in leaf 0, 64..84 in leaf 1. */
function leafArchive() {
  const tiles: PmtilesInputTile[] = [];
  for (let id = 0; id < 85; id++) {
    const [z, x, y] = tileIdToZxy(id);
    tiles.push({ z, x, y, bytes: randomBytes(100 + id) });
  }
  const archive = writePmtiles(tiles, { tileType: TileType.Png, leafSize: 64 });
  const h = bytesToHeader(archive.buffer.slice(archive.byteOffset, archive.byteOffset + 127) as ArrayBuffer);
  return { tiles, archive, leafOffset: h.leafDirectoryOffset, dataOffset: h.tileDataOffset };
}

/** The first byte of a `bytes=a-b` Range header. */
const rangeStart = (range: string | undefined) => Number(/^bytes=(\d+)-/.exec(range ?? '')?.[1] ?? -1);

/**
 * Brotli directories: leaf 0 (tile ids 0..63) inflates to MAX_INFLATED_BYTES + 1
 * zero bytes (a few hundred bytes on the wire); leaf 1 (ids 64..84) is sound.
 */
function bombArchive() {
  const br = (b: Uint8Array) => brotliCompressSync(b);
  const tiles = Array.from({ length: 21 }, (_, i) => randomBytes(50 + i));
  const entries: PmtilesEntry[] = [];
  let off = 0;
  tiles.forEach((t, i) => {
    entries.push({ tileId: 64 + i, offset: off, length: t.length, runLength: 1 });
    off += t.length;
  });
  const bomb = br(new Uint8Array(MAX_INFLATED_BYTES + 1));
  const good = br(serializeDirectory(entries));
  const root = br(
    serializeDirectory([
      { tileId: 0, offset: 0, length: bomb.length, runLength: 0 },
      { tileId: 64, offset: bomb.length, length: good.length, runLength: 0 },
    ]),
  );
  const archive = assemblePmtiles({
    root,
    metadata: br(Buffer.from('{}')),
    leaves: Buffer.concat([bomb, good]),
    data: Buffer.concat(tiles),
    internalCompression: Compression.Brotli,
    tileCompression: Compression.None,
    tileType: TileType.Png,
    minZoom: 0,
    maxZoom: 3,
    bounds: [-180, -85, 180, 85],
    clustered: true,
    addressedTiles: 85,
    tileEntries: 21,
    tileContents: 21,
  });
  return { archive, tiles, bombBytes: bomb.length };
}

describe('bad archives: coded JSON errors, nothing wrong cached, other datasets still served', () => {
  it('a leaf-directory read that hangs is a 504 ORIGIN_TIMEOUT within the origin deadline; once the origin answers, the same tile is served', async () => {
    const { tiles, archive, leafOffset, dataOffset } = leafArchive();
    let hang = true;
    const s = await start(
      { 'map.pmtiles': archive, 'plain/0/0/0.png': randomBytes(64) },
      {
        origin: {
          hang: (key, range) =>
            hang &&
            key === 'map.pmtiles' &&
            rangeStart(range) >= leafOffset &&
            rangeStart(range) < dataOffset,
        },
        config: { originTimeoutMs: 300, originRetries: 0 },
      },
    );
    const t = tiles[30]!; // in leaf 0
    const [stuck, other] = await Promise.all([
      get(`/api/tiles/map/${t.z}/${t.x}/${t.y}.png`),
      get('/api/tiles/plain/0/0/0.png'),
    ]);
    expect([stuck.status, stuck.code, stuck.json.error.read]).toEqual([504, 'ORIGIN_TIMEOUT', 'directory']);
    expect(other.status).toBe(200);
    const leafReads = () =>
      requestsFor(s.origin, 'map.pmtiles').filter(
        (r) => rangeStart(r.range) >= leafOffset && rangeStart(r.range) < dataOffset,
      ).length;
    expect(leafReads()).toBe(1);
    // Neither the timeout nor an empty directory was remembered: the next request reads the leaf again and gets the tile.
    hang = false;
    const ok = await get(`/api/tiles/map/${t.z}/${t.x}/${t.y}.png`);
    expect([ok.status, ok.bytes.equals(t.bytes)]).toEqual([200, true]);
    expect(leafReads()).toBe(2);
    // And it is cached now: one more tile of that leaf costs its tile range only.
    const u = tiles[31]!;
    expect((await get(`/api/tiles/map/${u.z}/${u.x}/${u.y}.png`)).status).toBe(200);
    expect(leafReads()).toBe(2);
  });

  it('a leaf directory that inflates past the bound is a 502 BAD_ARCHIVE; the sound leaf of the same archive is served', async () => {
    const { archive, tiles } = bombArchive();
    const s = await start({ 'bomb.pmtiles': archive, 'plain/0/0/0.png': randomBytes(64) });
    const [z, x, y] = tileIdToZxy(10); // leaf 0: the bomb
    const bad = await get(`/api/tiles/bomb/${z}/${x}/${y}.png`);
    expect([bad.status, bad.code]).toEqual([502, 'BAD_ARCHIVE']);
    const [gz, gx, gy] = tileIdToZxy(70); // leaf 1
    const good = await get(`/api/tiles/bomb/${gz}/${gx}/${gy}.png`);
    expect([good.status, good.bytes.equals(tiles[70 - 64]!)]).toEqual([200, true]);
    expect((await get('/api/tiles/plain/0/0/0.png')).status).toBe(200);
    // The refusal is not a cached "no tile": asked again, the same coded error (not a 404).
    const again = await get(`/api/tiles/bomb/${z}/${x}/${y}.png`);
    expect([again.status, again.code]).toEqual([502, 'BAD_ARCHIVE']);
    expect(requestsFor(s.origin, 'bomb.pmtiles').length).toBeGreaterThanOrEqual(3);
  });

  it('a tile that inflates past the bound is a 502 BAD_ARCHIVE; its neighbours are served', async () => {
    const fine = gzipSync(randomBytes(300));
    const archive = writePmtiles(
      [
        { z: 0, x: 0, y: 0, bytes: gzipSync(new Uint8Array(MAX_INFLATED_BYTES + 1)) },
        { z: 1, x: 0, y: 0, bytes: fine },
      ],
      { tileType: TileType.Png, tileCompression: Compression.Gzip },
    );
    await start({ 'zip.pmtiles': archive });
    const bad = await get('/api/tiles/zip/0/0/0.png');
    expect([bad.status, bad.code]).toEqual([502, 'BAD_ARCHIVE']);
    const ok = await get('/api/tiles/zip/1/0/0.png');
    expect(ok.status).toBe(200);
    const again = await get('/api/tiles/zip/0/0/0.png');
    expect([again.status, again.code]).toEqual([502, 'BAD_ARCHIVE']);
  });

  it('an empty (0-byte) archive is a 502 BAD_ARCHIVE on every route; other datasets are served', async () => {
    const { archive } = leafArchive();
    await start({ 'empty.pmtiles': new Uint8Array(0), 'map.pmtiles': archive });
    for (const p of ['/api/tiles/empty/0/0/0.png', '/api/tiles/empty.json', '/api/tiles/empty.dzi']) {
      const r = await get(p);
      expect([r.status, r.code, p]).toEqual([502, 'BAD_ARCHIVE', p]);
    }
    const b = await fetch(`${stack!.serverUrl}/api/tiles/empty/batch?tiles=0/0/0.png`);
    // A batch answers per tile: null plus the tile's coded error, and nothing is cached for it.
    const body = (await b.json()) as {
      tiles: Record<string, string | null>;
      errors: Record<string, { code: string }>;
      cache_stats: { negative_cache: { entries: number }; cache_size: number };
    };
    expect([b.status, body.tiles['0/0/0.png'], body.errors['0/0/0.png']?.code]).toEqual([
      200,
      null,
      'BAD_ARCHIVE',
    ]);
    expect([body.cache_stats.negative_cache.entries, body.cache_stats.cache_size]).toEqual([0, 0]);
    expect((await get('/api/tiles/map/0/0/0.png')).status).toBe(200);
  });
});

describe('a discovery probe that times out', () => {
  it('is a 504 ORIGIN_TIMEOUT (read: discovery), not a tree of 404s; once the archive answers, its tiles are served', async () => {
    const { tiles, archive } = leafArchive();
    let hang = true;
    let t = Date.now();
    await start(
      { 'map.pmtiles': archive },
      {
        origin: { hang: (key, range) => hang && key === 'map.pmtiles' && rangeStart(range) === 0 },
        config: { originTimeoutMs: 300, originRetries: 0 },
        deps: { now: () => t },
      },
    );
    const x = tiles[30]!;
    const first = await get(`/api/tiles/map/${x.z}/${x.x}/${x.y}.png`);
    expect([first.status, first.code, first.json.error.read]).toEqual([504, 'ORIGIN_TIMEOUT', 'discovery']);
    // Not served as a tree meanwhile (its tiles would be 404s, and those are cached).
    expect(requestsFor(stack!.origin, 'map/').filter((r) => r.key !== 'map/manifest.json')).toEqual([]);
    hang = false;
    // Within the retry window the refusal stands (no probe storm); past it, the archive is found.
    const still = await get(`/api/tiles/map/${x.z}/${x.x}/${x.y}.png`);
    expect([still.status, still.code]).toEqual([504, 'ORIGIN_TIMEOUT']);
    t += 6_000;
    const ok = await get(`/api/tiles/map/${x.z}/${x.x}/${x.y}.png`);
    expect([ok.status, ok.bytes.equals(x.bytes)]).toEqual([200, true]);
  });
});
