import { existsSync } from 'node:fs';
import path from 'node:path';
import { TileError } from '../../src/protocol/errors.js';
import { manifestPath } from './manifest.js';
import { type UploadOptions, uploadDataset } from './uploadDataset.js';
import { uploadDzi } from './uploadDzi.js';
import type { UploadCommonOptions, UploadProgress } from './uploadObjects.js';
import { uploadPmtiles } from './uploadPmtiles.js';

/** A dataset the tiler built locally, in one of the three layouts the server discovers. */
export type Built =
  | { kind: 'pmtiles'; path: string }
  | { kind: 'dzi'; path: string }
  | { kind: 'tree'; path: string };

/**
 * What `<outRoot>` holds for `dataset`, in the server's discovery order
 * (`<id>.pmtiles`, then `<id>.dzi`, then the tree `<id>/` with its manifest):
 * the one the server would serve is the one uploaded. Null when there is none.
 */
export function findBuilt(outRoot: string, dataset: string): Built | null {
  const archive = path.join(outRoot, `${dataset}.pmtiles`);
  if (existsSync(archive)) return { kind: 'pmtiles', path: archive };
  const dzi = path.join(outRoot, `${dataset}.dzi`);
  if (existsSync(dzi)) return { kind: 'dzi', path: dzi };
  const tree = path.join(outRoot, dataset);
  if (existsSync(manifestPath(tree))) return { kind: 'tree', path: tree };
  return null;
}

/** Uploads a built dataset of any layout; `completeKey` is the object written last (archive, descriptor or manifest). */
export async function uploadBuilt(
  built: Built,
  o: UploadCommonOptions,
): Promise<UploadProgress & { completeKey: string }> {
  switch (built.kind) {
    case 'pmtiles': {
      const r = await uploadPmtiles({ ...o, archive: built.path });
      return { ...r, completeKey: r.key };
    }
    case 'dzi': {
      const r = await uploadDzi({ ...o, descriptorFile: built.path });
      return { ...r, completeKey: r.descriptorKey };
    }
    case 'tree': {
      const r = await uploadDataset({ ...o, datasetDir: built.path } satisfies UploadOptions);
      return { ...r, completeKey: r.manifestKey };
    }
    default:
      throw new TileError('INTERNAL', 'unknown layout');
  }
}
