import type { TileCoord } from '../../src/protocol/tileKey.js';
import type { TileEngine } from '../engineContract.js';
import { tileContentType } from '../tiles/contentTypes.js';
import { type Dataset, type DatasetInfo, type DatasetTile, extentContains, unknownInfo } from './Dataset.js';
import { type DziDescriptor, dziLevels, dziMaxLevel } from './parseDzi.js';

/**
 * A Deep Zoom pyramid: `name.dzi` beside `name_files/{level}/{col}_{row}.{format}`.
 * The z/x/y routes map 1:1 onto it (z = DZI level, x = column, y = row), and
 * the descriptor's format is the only one fetched, whatever extension was asked.
 */
export class DziDataset implements Dataset {
  readonly info: DatasetInfo;

  /** `filesPrefix` is the object key of `name_files/` (TILE_KEY_TEMPLATE's prefix + name + `_files/`). */
  constructor(
    private readonly engine: TileEngine,
    private readonly filesPrefix: string,
    readonly descriptor: DziDescriptor,
  ) {
    this.info = {
      ...unknownInfo('dzi'),
      format: descriptor.format === 'jpeg' ? 'jpg' : descriptor.format,
      minZoom: 0,
      maxZoom: dziMaxLevel(descriptor.width, descriptor.height),
      tileSize: descriptor.tileSize,
      levels: dziLevels(descriptor),
      width: descriptor.width,
      height: descriptor.height,
      overlap: descriptor.overlap,
    };
  }

  contains(c: { z: number; x: number; y: number }): boolean {
    return extentContains(this.info, c);
  }

  async getTile(c: TileCoord, signal: AbortSignal): Promise<DatasetTile | null> {
    const ext = this.descriptor.format;
    const got = await this.engine.getBytes(`${this.filesPrefix}${c.z}/${c.x}_${c.y}.${ext}`, signal);
    return got ? { bytes: got.bytes, contentType: tileContentType(ext, got.contentType) } : null;
  }
}
