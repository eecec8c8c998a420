import { randomBytes } from 'node:crypto';
import { Compression, PMTiles, type Source, TileType } from 'pmtiles';
import { describe, expect, it } from 'vitest';
import { type PmtilesInputTile, writePmtiles } from './writePmtiles.js';

/** An in-memory Source: the package's own reader, no network. */
function memorySource(archive: Uint8Array): Source {
  return {
    getKey: () => 'mem',
    getBytes: async (offset, length) => ({
      data: new Uint8Array(archive.subarray(offset, offset + length)).buffer,
    }),
  };
}

function pyramid(maxZoom: number): PmtilesInputTile[] {
  const tiles: PmtilesInputTile[] = [];
  for (let z = 0; z <= maxZoom; z++)
    for (let x = 0; x < 2 ** z; x++)
      for (let y = 0; y < 2 ** z; y++) tiles.push({ z, x, y, bytes: randomBytes(20 + ((x + y) % 7)) });
  return tiles;
}

describe('writePmtiles', () => {
  it.each([
    { name: 'root only, gzip directories', leafSize: undefined, internal: Compression.Gzip, clustered: true },
    { name: 'leaf directories of 7 entries', leafSize: 7, internal: Compression.Gzip, clustered: true },
    {
      name: 'uncompressed directories, not clustered',
      leafSize: 5,
      internal: Compression.None,
      clustered: false,
    },
  ] as const)(
    'the pmtiles package reads back every tile ($name)',
    async ({ leafSize, internal, clustered }) => {
      const tiles = pyramid(3);
      const archive = writePmtiles([...tiles].reverse(), {
        tileType: TileType.Png,
        internalCompression: internal,
        clustered,
        ...(leafSize ? { leafSize } : {}),
        metadata: { name: 'test' },
      });
      const pm = new PMTiles(memorySource(archive));
      const h = await pm.getHeader();
      expect(h).toMatchObject({ specVersion: 3, minZoom: 0, maxZoom: 3, tileType: TileType.Png, clustered });
      expect(h.numAddressedTiles).toBe(tiles.length);
      if (leafSize) expect(h.leafDirectoryLength).toBeGreaterThan(0);
      for (const t of tiles) {
        const got = await pm.getZxy(t.z, t.x, t.y);
        expect(Buffer.from(got!.data).equals(Buffer.from(t.bytes)), `${t.z}/${t.x}/${t.y}`).toBe(true);
      }
      expect(await pm.getZxy(3, 0, 0)).toBeDefined();
      expect(await pm.getMetadata()).toEqual({ name: 'test' });
    },
  );

  it('stores identical tiles once (run lengths) and still answers each key', async () => {
    const same = randomBytes(50);
    const tiles = [0, 1, 2, 3].map((i) => ({ z: 1, x: i % 2, y: Math.floor(i / 2), bytes: same }));
    const archive = writePmtiles(tiles, { tileType: TileType.Jpeg });
    const pm = new PMTiles(memorySource(archive));
    const h = await pm.getHeader();
    expect(h.numTileContents).toBe(1);
    for (const t of tiles) expect(Buffer.from((await pm.getZxy(1, t.x, t.y))!.data).equals(same)).toBe(true);
  });

  it('an empty archive has a header and no tiles', async () => {
    const pm = new PMTiles(memorySource(writePmtiles([], { tileType: TileType.Mvt })));
    expect((await pm.getHeader()).numAddressedTiles).toBe(0);
    expect(await pm.getZxy(0, 0, 0)).toBeUndefined();
  });
});
