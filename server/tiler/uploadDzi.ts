import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { TileError } from '../../src/protocol/errors.js';
import { assertDatasetId } from '../../src/protocol/tileKey.js';
import { parseDzi } from '../datasets/parseDzi.js';
import {
  singleObjectPrefix,
  type UploadCommonOptions,
  type UploadItem,
  type UploadProgress,
  uploadObjects,
} from './uploadObjects.js';

export interface UploadDziOptions extends UploadCommonOptions {
  /** `<out>/<dataset>.dzi`, with `<out>/<dataset>_files/` beside it (`tile --layout dzi`, or `vips dzsave`). */
  descriptorFile: string;
}

export interface UploadDziResult extends UploadProgress {
  dataset: string;
  descriptorKey: string;
}

/**
 * Uploads a Deep Zoom pyramid: every file under `<dataset>_files/` to
 * `<prefix><dataset>_files/...`, then the descriptor `<prefix><dataset>.dzi`
 * last (the server finds a DZI by its descriptor, so a half-uploaded tree is
 * never served). The descriptor is parsed first: one the server would refuse
 * is not uploaded.
 */
export async function uploadDzi(o: UploadDziOptions): Promise<UploadDziResult> {
  const descriptorFile = path.resolve(o.descriptorFile);
  const dataset = assertDatasetId(path.basename(descriptorFile, '.dzi'));
  let text: Buffer;
  try {
    text = await readFile(descriptorFile);
  } catch (e) {
    throw new TileError(
      'BAD_REQUEST',
      `no DZI descriptor at ${descriptorFile}`,
      { descriptorFile },
      { cause: e },
    );
  }
  parseDzi(text);
  const prefix = singleObjectPrefix(o.keyTemplate ?? '{dataset}/{z}/{x}/{y}.{ext}');
  const filesDir = path.join(path.dirname(descriptorFile), `${dataset}_files`);
  const items: UploadItem[] = [];
  try {
    for (const e of await readdir(filesDir, { withFileTypes: true, recursive: true })) {
      if (!e.isFile()) continue;
      const file = path.join(e.parentPath, e.name);
      const rel = path.relative(filesDir, file).split(path.sep).join('/');
      items.push({ file, key: `${prefix}${dataset}_files/${rel}` });
    }
  } catch (e) {
    throw new TileError('BAD_REQUEST', `no tile directory ${filesDir}`, { filesDir }, { cause: e });
  }
  const descriptorKey = `${prefix}${dataset}.dzi`;
  const progress = await uploadObjects(items, items.length, { file: descriptorFile, key: descriptorKey }, o);
  return { ...progress, dataset, descriptorKey };
}
