import type { TileCoord } from '../../src/protocol/tileKey.js';
import { type Dataset, type DatasetInfo, type DatasetTile, unknownInfo } from './Dataset.js';
import { type DziDescriptor, dziLevels, dziMaxLevel } from './parseDzi.js';

/** Suffix of the Deep Zoom view of dataset `d`: `d_files` (the batch and cache name of its `_files/` tiles). */
export const DZI_VIEW_SUFFIX = '_files';

/**
 * The DZI descriptor of any raster dataset whose pyramid is known, or
 * undefined (vector, or a tree without manifest.json: its size is unknown).
 * A DZI dataset keeps its own; a tree's size is its deepest level's padded
 * tile grid (our tiler pads edge tiles, so every deepest tile is whole);
 * a PMTiles raster is its metadata's deepest grid (our tiler writes one),
 * else the square web-mercator world at its max zoom.
 */
export function dziDescriptorOf(ds: Dataset): DziDescriptor | undefined {
  const i = ds.info;
  if (i.vector || i.maxZoom === undefined || i.format === undefined) return undefined;
  const format =
    i.format === 'jpg' ? 'jpeg' : i.format === 'png' || i.format === 'webp' ? i.format : undefined;
  if (!format) return undefined;
  if (i.kind === 'dzi' && i.width !== undefined && i.height !== undefined && i.tileSize !== undefined) {
    return { tileSize: i.tileSize, overlap: i.overlap, format, width: i.width, height: i.height };
  }
  const tileSize = i.tileSize ?? 256;
  const deepest = i.levels?.get(i.maxZoom);
  const width = deepest ? deepest.cols * tileSize : tileSize * 2 ** i.maxZoom;
  const height = deepest ? deepest.rows * tileSize : tileSize * 2 ** i.maxZoom;
  return { tileSize, overlap: 0, format, width, height };
}

/**
 * Dataset `d_files`: dataset `d` seen as DZI levels (level L = z + offset,
 * where offset = DZI max level - d's max zoom). Levels below d's shallowest
 * zoom do not exist (404), as tiles outside each level's grid.
 */
export class DziView implements Dataset {
  readonly info: DatasetInfo;
  private readonly offset: number;

  constructor(
    private readonly base: Dataset,
    descriptor: DziDescriptor | undefined,
  ) {
    if (!descriptor || base.info.maxZoom === undefined) {
      this.offset = 0;
      // Nothing to map onto: every key is outside (answered 404 without an origin request).
      this.info = { ...unknownInfo(base.info.kind), format: base.info.format, minZoom: 1, maxZoom: 0 };
      return;
    }
    const max = dziMaxLevel(descriptor.width, descriptor.height);
    this.offset = max - base.info.maxZoom;
    const levels = dziLevels(descriptor);
    for (const l of levels.keys()) if (!base.contains({ z: l - this.offset, x: 0, y: 0 })) levels.delete(l);
    this.info = {
      ...base.info,
      minZoom: (base.info.minZoom ?? 0) + this.offset,
      maxZoom: max,
      tileSize: descriptor.tileSize,
      levels,
      width: descriptor.width,
      height: descriptor.height,
    };
  }

  contains(c: { z: number; x: number; y: number }): boolean {
    if (this.info.minZoom === undefined || this.info.maxZoom === undefined) return false;
    if (c.z < this.info.minZoom || c.z > this.info.maxZoom) return false;
    const l = this.info.levels?.get(c.z);
    if (l && (c.x >= l.cols || c.y >= l.rows)) return false;
    const z = c.z - this.offset;
    return z >= 0 && c.x < 2 ** z && c.y < 2 ** z && this.base.contains({ z, x: c.x, y: c.y });
  }

  async getTile(c: TileCoord, signal: AbortSignal): Promise<DatasetTile | null> {
    if (!this.contains(c)) return null;
    return await this.base.getTile({ ...c, z: c.z - this.offset }, signal);
  }
}
