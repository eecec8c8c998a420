import { TileError } from '../../src/protocol/errors.js';
import { type DatasetManifest, GENERATOR_NAME, TILE_FORMATS } from '../tiler/manifest.js';
import { type DatasetInfo, type LevelExtent, unknownInfo } from './Dataset.js';

/** A manifest bigger than this is not ours (a 16-level pyramid's is a few KiB). */
export const MAX_MANIFEST_BYTES = 256 * 1024;

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * The extent and format our tiler's `manifest.json` declares, or null when the
 * object is not one of ours (then the tree is served as a tree of unknown extent).
 * A manifest of ours with impossible values is refused with BAD_DESCRIPTOR.
 */
export function manifestInfo(bytes: Uint8Array): DatasetInfo | null {
  if (bytes.length > MAX_MANIFEST_BYTES) return null;
  let m: Partial<DatasetManifest>;
  try {
    m = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<DatasetManifest>;
  } catch {
    return null;
  }
  if (m === null || typeof m !== 'object' || m.generator !== GENERATOR_NAME) return null;
  const bad = (why: string) => new TileError('BAD_DESCRIPTOR', `manifest.json: ${why}`);
  if (!m.format || !TILE_FORMATS.includes(m.format)) throw bad('unknown format');
  if (!isCount(m.minZoom) || !isCount(m.maxZoom) || m.minZoom > m.maxZoom || m.maxZoom > 30) {
    throw bad('bad zoom range');
  }
  if (!isCount(m.tileSize) || m.tileSize < 1) throw bad('bad tile size');
  if (!Array.isArray(m.levels)) throw bad('no levels');
  const levels = new Map<number, LevelExtent>();
  for (const l of m.levels) {
    if (!l || !isCount(l.z) || !isCount(l.cols) || !isCount(l.rows)) throw bad('bad level');
    levels.set(l.z, { z: l.z, cols: l.cols, rows: l.rows, width: l.width, height: l.height });
  }
  return {
    ...unknownInfo('tree'),
    format: m.format,
    minZoom: m.minZoom,
    maxZoom: m.maxZoom,
    tileSize: m.tileSize,
    levels,
    width: isCount(m.width) ? m.width : undefined,
    height: isCount(m.height) ? m.height : undefined,
  };
}
