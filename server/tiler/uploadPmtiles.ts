import { stat } from 'node:fs/promises';
import path from 'node:path';
import { TileError } from '../../src/protocol/errors.js';
import { assertDatasetId } from '../../src/protocol/tileKey.js';
import {
  singleObjectPrefix,
  type UploadCommonOptions,
  type UploadProgress,
  uploadObjects,
} from './uploadObjects.js';

export interface UploadPmtilesOptions extends UploadCommonOptions {
  /** `<out>/<dataset>.pmtiles`, as `tile --format pmtiles` writes it. */
  archive: string;
}

export interface UploadPmtilesResult extends UploadProgress {
  dataset: string;
  key: string;
}

/**
 * Uploads one PMTiles archive to `<prefix><dataset>.pmtiles` (prefix: the
 * TILE_KEY_TEMPLATE text before `{dataset}`), where the server's discovery
 * looks first. One PUT (S3 takes up to 5 GB in one); skipped when the bucket
 * already holds the same bytes.
 */
export async function uploadPmtiles(o: UploadPmtilesOptions): Promise<UploadPmtilesResult> {
  const archive = path.resolve(o.archive);
  const dataset = assertDatasetId(path.basename(archive, '.pmtiles'));
  const size = await stat(archive).then(
    (s) => s.size,
    () => -1,
  );
  if (size <= 0 || !archive.endsWith('.pmtiles'))
    throw new TileError('BAD_REQUEST', `not a PMTiles archive: ${archive}`, { archive });
  const key = `${singleObjectPrefix(o.keyTemplate ?? '{dataset}/{z}/{x}/{y}.{ext}')}${dataset}.pmtiles`;
  const progress = await uploadObjects([], 0, { file: archive, key }, o);
  return { ...progress, dataset, key };
}
