import {
  Compression,
  EtagMismatch,
  findTile,
  type Header,
  PMTiles,
  ResolvedValueCache,
  TileType,
  zxyToTileId,
} from 'pmtiles';
import { isTileError, TileError } from '../../src/protocol/errors.js';
import type { TileCoord } from '../../src/protocol/tileKey.js';
import type { TileEngine } from '../engineContract.js';
import { MVT_CONTENT_TYPE } from '../tiles/contentTypes.js';
import { asReadTimeout } from './asReadTimeout.js';
import {
  type Dataset,
  type DatasetFormat,
  type DatasetInfo,
  type DatasetTile,
  extentContains,
  type LevelExtent,
  unknownInfo,
} from './Dataset.js';
import { EngineSource } from './EngineSource.js';
import { inflate, isServedCompression, pmtilesDecompress } from './pmtilesDecompress.js';

/** The package reads the header and root directory as one range of this size. */
export const PMTILES_HEAD_BYTES = 16_384;
/** Directories kept decoded per archive (the root plus leaves). */
const DIRECTORY_CACHE_ENTRIES = 256;
/** A tile entry longer than this is a corrupt archive (tiles are KiB, not MiB). */
const MAX_TILE_BYTES = 16 * 1024 * 1024;

const TYPES: Partial<Record<TileType, { format: DatasetFormat; contentType: string }>> = {
  [TileType.Mvt]: { format: 'mvt', contentType: MVT_CONTENT_TYPE },
  [TileType.Png]: { format: 'png', contentType: 'image/png' },
  [TileType.Jpeg]: { format: 'jpg', contentType: 'image/jpeg' },
  [TileType.Webp]: { format: 'webp', contentType: 'image/webp' },
  [TileType.Avif]: { format: 'avif', contentType: 'image/avif' },
};

const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/**
 * Per-level grids from the metadata `levels` our tiler writes (packPmtiles):
 * every zoom of the header's range once, `cols, rows <= 2^z`. Anything else
 * (absent, partial, out of range) is ignored: every `x, y < 2^z` may exist.
 */
function levelsFrom(v: unknown, h: Header): Map<number, LevelExtent> | undefined {
  if (!Array.isArray(v) || v.length !== h.maxZoom - h.minZoom + 1) return undefined;
  const out = new Map<number, LevelExtent>();
  for (const l of v as Record<string, unknown>[]) {
    const z = l?.z;
    if (!isInt(z, h.minZoom, h.maxZoom) || out.has(z)) return undefined;
    if (!isInt(l.cols, 1, 2 ** z) || !isInt(l.rows, 1, 2 ** z)) return undefined;
    const px = 2 ** 30;
    out.set(z, {
      z,
      cols: l.cols,
      rows: l.rows,
      ...(isInt(l.width, 1, px) && isInt(l.height, 1, px) ? { width: l.width, height: l.height } : {}),
    });
  }
  return out;
}

/** The package throws plain Errors (bad magic, varints, depth) and RangeErrors on short data. */
function asArchiveError(e: unknown, key: string): unknown {
  if (isTileError(e) || e instanceof EtagMismatch) return e;
  if ((e as Error)?.name === 'AbortError') return e;
  return new TileError(
    'BAD_ARCHIVE',
    `${key}: ${(e as Error)?.message ?? 'unreadable'}`.slice(0, 200),
    {},
    { cause: e },
  );
}

/**
 * A PMTiles v3 archive read with the `pmtiles` package (its header parsing,
 * directory decoding and `findTile`), every byte through our engine. The
 * directory cache keeps only resolved directories, so a failed or timed-out
 * fetch is never remembered; concurrent misses share one origin read through
 * the engine's coalescing (same key, same range).
 */
export class PmtilesDataset implements Dataset {
  readonly info: DatasetInfo;
  private readonly tile: { format: DatasetFormat; contentType: string };

  private constructor(
    private readonly pm: PMTiles,
    readonly source: EngineSource,
    private header: Header,
  ) {
    const t = TYPES[header.tileType]!;
    this.tile = t;
    this.info = {
      ...unknownInfo('pmtiles'),
      format: t.format,
      vector: t.format === 'mvt',
      minZoom: header.minZoom,
      maxZoom: header.maxZoom,
      // PMTiles does not record the tile size; 256 unless the metadata says otherwise (TileJSON).
      tileSize: undefined,
      bounds: [header.minLon, header.minLat, header.maxLon, header.maxLat],
      center: [header.centerLon, header.centerLat, header.centerZoom],
    };
  }

  /**
   * Opens `key`, whose first PMTILES_HEAD_BYTES the caller already read
   * (`head`), so opening costs no further request. Refuses spec versions other
   * than 3, tile types other than MVT/PNG/JPEG/WebP/AVIF and zstd with UNSUPPORTED;
   * a truncated or corrupt archive with BAD_ARCHIVE.
   */
  static async open(
    engine: TileEngine,
    key: string,
    head: { data: ArrayBuffer; etag?: string },
  ): Promise<PmtilesDataset> {
    const source = new EngineSource(engine, key);
    source.prime(0, PMTILES_HEAD_BYTES, head);
    const pm = new PMTiles(
      source,
      new ResolvedValueCache(DIRECTORY_CACHE_ENTRIES, false, pmtilesDecompress),
      pmtilesDecompress,
    );
    const view = new DataView(head.data);
    if (head.data.byteLength < 127 || view.getUint16(0, true) !== 0x4d50) {
      throw new TileError('BAD_ARCHIVE', `${key}: not a PMTiles archive`);
    }
    const version = view.getUint8(7);
    if (version !== 3) {
      throw new TileError('UNSUPPORTED', `PMTiles spec version ${version} is not supported (only 3)`, {
        specVersion: version,
      });
    }
    let header: Header;
    try {
      header = await pm.getHeader();
    } catch (e) {
      throw asArchiveError(e, key);
    }
    if (
      !isServedCompression(header.internalCompression) ||
      header.internalCompression === Compression.Unknown
    ) {
      throw new TileError(
        'UNSUPPORTED',
        `PMTiles internal compression ${Compression[header.internalCompression]} is not supported`,
      );
    }
    if (!isServedCompression(header.tileCompression)) {
      throw new TileError(
        'UNSUPPORTED',
        `PMTiles tile compression ${Compression[header.tileCompression]} is not supported`,
      );
    }
    if (!TYPES[header.tileType]) {
      throw new TileError(
        'UNSUPPORTED',
        `PMTiles tile type ${TileType[header.tileType] ?? header.tileType} is not supported`,
      );
    }
    if (header.minZoom > header.maxZoom || header.maxZoom > 30)
      throw new TileError('BAD_ARCHIVE', `${key}: bad zoom range`);
    source.primedLimit = Math.min(header.leafDirectoryOffset, header.tileDataOffset);
    const ds = new PmtilesDataset(pm, source, header);
    // PMTiles has no tile size field; ours (and many tools) put one in the metadata, usually inside
    // the bytes already read (then free). A missing or unreadable one leaves it unknown.
    if (header.jsonMetadataOffset + header.jsonMetadataLength <= head.data.byteLength) {
      const meta = await ds.metadata().catch(() => ({}) as Record<string, unknown>);
      const size = meta.tileSize;
      if (typeof size === 'number' && Number.isInteger(size) && size >= 16 && size <= 4096)
        ds.info.tileSize = size;
      const levels = levelsFrom(meta.levels, header);
      if (levels) {
        ds.info.levels = levels;
        const deepest = levels.get(header.maxZoom);
        ds.info.width = deepest?.width;
        ds.info.height = deepest?.height;
      }
    }
    return ds;
  }

  contains(c: { z: number; x: number; y: number }): boolean {
    return extentContains(this.info, c);
  }

  /** The archive's JSON metadata (TileJSON's vector_layers, attribution...); one range read. */
  async metadata(): Promise<Record<string, unknown>> {
    try {
      const m = await this.pm.getMetadata();
      return m !== null && typeof m === 'object' ? (m as Record<string, unknown>) : {};
    } catch (e) {
      throw asArchiveError(e, this.source.getKey());
    }
  }

  async getTile(c: TileCoord, signal: AbortSignal): Promise<DatasetTile | null> {
    if (!this.contains(c) || c.z > 26) return null;
    try {
      return await this.find(c, signal);
    } catch (e) {
      if (!(e instanceof EtagMismatch)) throw asArchiveError(e, this.source.getKey());
      // The archive changed under us: read its header again, once (as the package's getZxy does).
      await this.pm.cache.invalidate(this.source);
      this.header = await this.pm.cache.getHeader(this.source);
      try {
        return await this.find(c, signal);
      } catch (again) {
        throw asArchiveError(again, this.source.getKey());
      }
    }
  }

  private async find(c: TileCoord, signal: AbortSignal): Promise<DatasetTile | null> {
    const h = this.header;
    const id = zxyToTileId(c.z, c.x, c.y);
    let offset = h.rootDirectoryOffset;
    let length = h.rootDirectoryLength;
    // Root, then at most three levels of leaves (the spec's bound, as the package's reader).
    for (let depth = 0; depth <= 3; depth++) {
      const dir = await this.pm.cache
        .getDirectory(this.source, offset, length, h, signal)
        .catch((e: unknown) => Promise.reject(asReadTimeout(e, 'directory', this.source.getKey())));
      const e = findTile(dir, id);
      if (!e) return null;
      if (e.runLength > 0) {
        if (e.length > MAX_TILE_BYTES)
          throw new TileError('BAD_ARCHIVE', 'tile entry too large', { length: e.length });
        if (e.length === 0) return null;
        const r = await this.source.getBytes(h.tileDataOffset + e.offset, e.length, signal, h.etag);
        if (r.data.byteLength !== e.length) throw new TileError('BAD_ARCHIVE', 'archive is truncated');
        return this.tileFrom(new Uint8Array(r.data));
      }
      offset = h.leafDirectoryOffset + e.offset;
      length = e.length;
    }
    throw new TileError('BAD_ARCHIVE', 'directory deeper than the spec allows');
  }

  private async tileFrom(raw: Uint8Array): Promise<DatasetTile> {
    const comp = this.header.tileCompression;
    // gzip'd vector tiles are passed through (the route decides by Accept-Encoding).
    if (this.info.vector && comp === Compression.Gzip)
      return { bytes: raw, contentType: this.tile.contentType, encoding: 'gzip' };
    return { bytes: await inflate(raw, comp), contentType: this.tile.contentType };
  }
}
