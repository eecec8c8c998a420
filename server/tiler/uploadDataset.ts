import path from 'node:path';
import { TileError } from '../../src/protocol/errors.js';
import { fillTemplate, type TileExt } from '../../src/protocol/tileKey.js';
import { s3TargetFrom } from '../config.js';
import { type DatasetManifest, readManifest } from './manifest.js';
import type { S3Target } from './s3Bucket.js';
import {
  type UploadCommonOptions,
  type UploadItem,
  type UploadProgress,
  uploadObjects,
} from './uploadObjects.js';

export type { S3Target } from './s3Bucket.js';
export type { UploadCommonOptions, UploadProgress } from './uploadObjects.js';

export interface UploadOptions extends UploadCommonOptions {
  /** A dataset directory written by tileImage (it must hold manifest.json). */
  datasetDir: string;
}

export interface UploadResult extends UploadProgress {
  dataset: string;
  manifestKey: string;
}

/** Where the manifest goes: beside the dataset's tiles, e.g. `sample/manifest.json` for the default template. */
export function manifestKeyFor(template: string, dataset: string): string {
  const head = template.slice(0, template.indexOf('{z}'));
  if (head.includes('{dataset}')) {
    const prefix = head.replaceAll('{dataset}', dataset);
    return `${prefix.endsWith('/') || prefix === '' ? prefix : `${prefix}/`}manifest.json`;
  }
  return `${dataset}/manifest.json`;
}

function* tileItems(m: DatasetManifest, dir: string, template: string): Generator<UploadItem> {
  const ext = m.format as TileExt;
  for (const l of m.levels) {
    for (let x = 0; x < l.cols; x++) {
      for (let y = 0; y < l.rows; y++) {
        const file = path.join(dir, String(l.z), String(x), `${y}.${m.format}`);
        yield { file, key: fillTemplate(template, m.dataset, { z: l.z, x, y, ext }) };
      }
    }
  }
}

/**
 * Uploads a z/x/y tree the tiler wrote (uploadObjects: concurrent, retried,
 * resumable); the manifest goes last: its presence in the bucket means every
 * tile is there.
 */
export async function uploadDataset(o: UploadOptions): Promise<UploadResult> {
  const datasetDir = path.resolve(o.datasetDir);
  const manifest = await readManifest(datasetDir);
  if (!manifest) {
    throw new TileError('BAD_REQUEST', `no tiler manifest.json in ${datasetDir}: not a complete dataset`, {
      datasetDir,
    });
  }
  const template = o.keyTemplate ?? '{dataset}/{z}/{x}/{y}.{ext}';
  const manifestKey = manifestKeyFor(template, manifest.dataset);
  const progress = await uploadObjects(
    tileItems(manifest, datasetDir, template),
    manifest.tileCount,
    { file: path.join(datasetDir, 'manifest.json'), key: manifestKey },
    o,
  );
  return { ...progress, dataset: manifest.dataset, manifestKey };
}

/** The bucket settings from the environment (the server's names), or a BAD_CONFIG error naming what is missing. */
export function s3TargetFromEnv(env: NodeJS.ProcessEnv = process.env): S3Target {
  return s3TargetFrom(env, 'for --upload');
}
