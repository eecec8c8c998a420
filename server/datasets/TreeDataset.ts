import { TileError } from '../../src/protocol/errors.js';
import {
  fillTemplate,
  isVectorExt,
  RASTER_FALLBACK,
  type TileCoord,
  type TileExt,
} from '../../src/protocol/tileKey.js';
import type { TileEngine } from '../engineContract.js';
import { tileContentType } from '../tiles/contentTypes.js';
import { type Dataset, type DatasetInfo, type DatasetTile, extentContains } from './Dataset.js';

export interface TreeDatasetOptions {
  engine: TileEngine;
  /** TILE_KEY_TEMPLATE. */
  tileKeyTemplate: string;
  dataset: string;
  info: DatasetInfo;
  /**
   * Deadline of one tile across its format fallback (ORIGIN_TIMEOUT_MS): each
   * origin fetch has that deadline in the engine, and without this a tile
   * falling back jpg -> png -> webp could take three of them.
   */
  tileTimeoutMs?: number;
}

/** gzip's magic: vector trees (tippecanoe's directory output) are often stored compressed. */
function isGzip(b: Uint8Array): boolean {
  return b.length > 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/**
 * The `{dataset}/{z}/{x}/{y}.{ext}` tree (TILE_KEY_TEMPLATE). With our tiler's
 * manifest the format and extent are known: one GET per tile, in that format.
 * Without it, the asked raster format first, then jpg -> png -> webp.
 */
export class TreeDataset implements Dataset {
  constructor(private readonly o: TreeDatasetOptions) {}

  get info(): DatasetInfo {
    return this.o.info;
  }

  contains(c: { z: number; x: number; y: number }): boolean {
    return extentContains(this.o.info, c);
  }

  async getTile(coord: TileCoord, signal: AbortSignal): Promise<DatasetTile | null> {
    const known = this.o.info.format;
    if (known !== undefined)
      return await this.fetchOne(coord, known === 'mvt' ? vectorExt(coord.ext) : known, signal);
    if (isVectorExt(coord.ext)) return await this.fetchOne(coord, coord.ext, signal);
    const order: TileExt[] = [coord.ext, ...RASTER_FALLBACK.filter((e) => e !== coord.ext)];
    const started = performance.now();
    for (const [i, ext] of order.entries()) {
      // The asked format runs under the engine's own deadline (no extra timer on the
      // common path); a fallback gets only what is left of the tile's deadline.
      let s = signal;
      if (i > 0 && this.o.tileTimeoutMs !== undefined) {
        const left = this.o.tileTimeoutMs - (performance.now() - started);
        if (left <= 0)
          throw new TileError('ORIGIN_TIMEOUT', 'tile deadline passed during the format fallback');
        s = AbortSignal.any([signal, AbortSignal.timeout(Math.ceil(left))]);
      }
      try {
        const got = await this.fetchOne(coord, ext, s);
        if (got) return got;
      } catch (e) {
        if (s !== signal && s.aborted && !signal.aborted) {
          throw new TileError('ORIGIN_TIMEOUT', 'tile deadline passed during the format fallback');
        }
        throw e;
      }
    }
    return null;
  }

  private async fetchOne(coord: TileCoord, ext: TileExt, signal: AbortSignal): Promise<DatasetTile | null> {
    const got = await this.o.engine.getBytes(
      fillTemplate(this.o.tileKeyTemplate, this.o.dataset, { ...coord, ext }),
      signal,
    );
    if (!got) return null;
    const tile: DatasetTile = { bytes: got.bytes, contentType: tileContentType(ext, got.contentType) };
    if (isVectorExt(ext) && isGzip(got.bytes)) tile.encoding = 'gzip';
    return tile;
  }
}

/** A vector tree is stored under one extension; `.mvt` and `.pbf` ask for the same tile. */
function vectorExt(asked: TileExt): TileExt {
  return isVectorExt(asked) ? asked : 'pbf';
}
