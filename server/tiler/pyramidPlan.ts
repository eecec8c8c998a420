import { TileError } from '../../src/protocol/errors.js';
import { MAX_ZOOM } from '../../src/protocol/tileKey.js';

/** One zoom level: `width x height` px cut into `cols x rows` tiles (edge tiles padded). */
export interface PyramidLevel {
  z: number;
  width: number;
  height: number;
  cols: number;
  rows: number;
}

export interface PyramidPlan {
  tileSize: number;
  minZoom: number;
  maxZoom: number;
  /** Size of the deepest level (what a viewer sizes the image by). */
  width: number;
  height: number;
  /** Levels from 0 to maxZoom. */
  levels: PyramidLevel[];
  totalTiles: number;
}

/**
 * The shallowest zoom whose long side reaches the source's: the source is never
 * downsampled at the deepest level (upsampled by less than 2x instead).
 */
export function defaultMaxZoom(sourceWidth: number, sourceHeight: number, tileSize: number): number {
  return Math.max(0, Math.ceil(Math.log2(Math.max(sourceWidth, sourceHeight) / tileSize) - 1e-9));
}

/**
 * Plans the shared layout (LAYOUT.md): at zoom z the image is `tileSize * 2^z`
 * px wide, its height scaled by the same factor; x, y < 2^z, and rows past the
 * image's bottom do not exist. A portrait image is sized by its height instead
 * (columns past its right edge do not exist), so no key ever leaves `x, y < 2^z`.
 */
export function planPyramid(
  sourceWidth: number,
  sourceHeight: number,
  tileSize: number,
  maxZoom = defaultMaxZoom(sourceWidth, sourceHeight, tileSize),
): PyramidPlan {
  if (
    !Number.isInteger(sourceWidth) ||
    !Number.isInteger(sourceHeight) ||
    sourceWidth < 1 ||
    sourceHeight < 1
  ) {
    throw new TileError('BAD_IMAGE', 'image size must be positive integers', { sourceWidth, sourceHeight });
  }
  if (!Number.isInteger(tileSize) || tileSize < 16 || tileSize > 4096) {
    throw new TileError('BAD_REQUEST', 'tile size must be an integer in 16..4096', { tileSize });
  }
  // 2^16 tiles of 256 px is already a 16 Mpx-wide level; deeper is a typo, not a dataset.
  const zoomCap = Math.min(MAX_ZOOM, 16);
  if (!Number.isInteger(maxZoom) || maxZoom < 0 || maxZoom > zoomCap) {
    throw new TileError('BAD_REQUEST', `max zoom must be an integer in 0..${zoomCap}`, { maxZoom });
  }
  const levels: PyramidLevel[] = [];
  let totalTiles = 0;
  for (let z = 0; z <= maxZoom; z++) {
    const side = tileSize * 2 ** z;
    // The short side comes from the source ratio at every level (not by halving
    // the level below) so each level is independently consistent with the layout.
    const landscape = sourceWidth >= sourceHeight;
    const width = landscape ? side : Math.max(1, Math.round((sourceWidth * side) / sourceHeight));
    const height = landscape ? Math.max(1, Math.round((sourceHeight * side) / sourceWidth)) : side;
    const cols = Math.ceil(width / tileSize);
    const rows = Math.ceil(height / tileSize);
    levels.push({ z, width, height, cols, rows });
    totalTiles += cols * rows;
  }
  const deepest = levels[levels.length - 1]!;
  return {
    tileSize,
    minZoom: 0,
    maxZoom,
    width: deepest.width,
    height: deepest.height,
    levels,
    totalTiles,
  };
}
