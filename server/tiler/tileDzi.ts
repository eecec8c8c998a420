import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { TileError } from '../../src/protocol/errors.js';
import { assertDatasetId } from '../../src/protocol/tileKey.js';
import { type DziDescriptor, dziLevels, dziMaxLevel } from '../datasets/parseDzi.js';
import { TILE_FORMATS, type TileFormat } from './manifest.js';
import { makeStagingDir, publishStagingDir, removeStaleStagingDirs } from './stagingDir.js';

export interface TileDziOptions {
  /** Dataset id: the output is `outDir/<dataset>.dzi` beside `outDir/<dataset>_files/`. */
  dataset: string;
  outDir: string;
  format?: TileFormat;
  tileSize?: number;
  /** Pixels each tile repeats from its neighbours on inner edges (vips' default is 1). */
  overlap?: number;
  quality?: number;
  signal?: AbortSignal;
  onProgress?: (p: { phase: 'dzsave'; width: number; height: number }) => void;
}

export interface TileDziResult {
  /** `outDir/<dataset>.dzi`. */
  descriptorFile: string;
  /** `outDir/<dataset>_files`. */
  filesDir: string;
  descriptor: DziDescriptor;
  tileCount: number;
  /** Deepest level (level 0 is 1x1 px). */
  maxLevel: number;
}

const OPEN = { limitInputPixels: false } as const;

function abortError(signal: AbortSignal): TileError {
  return new TileError('ABORTED', 'tiling aborted', {}, { cause: signal.reason });
}

/**
 * Writes a Deep Zoom pyramid of one image exactly as `vips dzsave` does
 * (it is libvips' dzsave, through sharp): `<dataset>.dzi` and
 * `<dataset>_files/{level}/{col}_{row}.{jpeg|png|webp}`, levels from a 1x1
 * image up to the full size, edge tiles smaller (never padded), `overlap` px
 * on inner edges. libvips streams the source, so memory stays bounded for huge
 * inputs.
 *
 * Built in a hidden staging directory and published `_files/` first, the
 * descriptor last (the server finds a DZI by its descriptor): a crash or an
 * abort never leaves a descriptor pointing at a half-written tree. libvips
 * cannot be stopped mid-pyramid, so an abort takes effect when it returns.
 */
export async function tileDzi(input: string | Buffer, o: TileDziOptions): Promise<TileDziResult> {
  const dataset = assertDatasetId(o.dataset);
  const format = o.format ?? 'jpg';
  if (!TILE_FORMATS.includes(format))
    throw new TileError('BAD_REQUEST', `format must be one of ${TILE_FORMATS.join(', ')}`, { format });
  const tileSize = o.tileSize ?? 254;
  const overlap = o.overlap ?? 1;
  if (!Number.isInteger(tileSize) || tileSize < 16 || tileSize > 4096)
    throw new TileError('BAD_REQUEST', 'tile size must be an integer in 16..4096', { tileSize });
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > tileSize / 2)
    throw new TileError('BAD_REQUEST', 'overlap must be an integer in 0..tileSize/2', { overlap });
  const quality = o.quality ?? 85;
  const { signal } = o;
  if (signal?.aborted) throw abortError(signal);

  let size: { width: number; height: number };
  try {
    const meta = await sharp(input, OPEN).metadata();
    size = { width: meta.autoOrient.width, height: meta.autoOrient.height };
  } catch (e) {
    throw new TileError('BAD_IMAGE', `cannot read image: ${(e as Error).message}`, {}, { cause: e });
  }
  const outDir = path.resolve(o.outDir);
  const descriptorFile = path.join(outDir, `${dataset}.dzi`);
  const filesDir = path.join(outDir, `${dataset}_files`);
  await mkdir(outDir, { recursive: true });
  await removeStaleStagingDirs(filesDir);
  const staging = await makeStagingDir(filesDir);
  try {
    o.onProgress?.({ phase: 'dzsave', ...size });
    let img = sharp(input, { ...OPEN, sequentialRead: true })
      .autoOrient()
      .toColourspace('srgb');
    img =
      format === 'jpg'
        ? img.flatten({ background: '#000000' }).jpeg({ quality })
        : format === 'png'
          ? img.png({ compressionLevel: 6 })
          : img.webp({ quality, effort: 2 });
    // sharp names the outputs after the file: <staging>/<dataset>.dzi and <dataset>_files/.
    await img
      .tile({ size: tileSize, overlap, layout: 'dz', depth: 'onepixel' })
      .toFile(path.join(staging, `${dataset}.dz`));
    if (signal?.aborted) throw abortError(signal);
    // libvips' own metadata dump, not part of Deep Zoom; its timestamp would make every rerun re-upload it.
    await rm(path.join(staging, `${dataset}_files`, 'vips-properties.xml'), { force: true });
    const descriptor: DziDescriptor = {
      tileSize,
      overlap,
      format: format === 'jpg' ? 'jpeg' : format,
      width: size.width,
      height: size.height,
    };
    let tileCount = 0;
    for (const l of dziLevels(descriptor).values()) tileCount += l.cols * l.rows;
    const written = await countFiles(path.join(staging, `${dataset}_files`));
    if (written !== tileCount) {
      throw new TileError('INTERNAL', `dzsave wrote ${written} tiles, the descriptor implies ${tileCount}`, {
        written,
        tileCount,
      });
    }
    // The old descriptor goes first: for a moment there is no DZI, never a new tree under an old descriptor.
    await rm(descriptorFile, { force: true });
    await publishStagingDir(path.join(staging, `${dataset}_files`), filesDir);
    await rename(path.join(staging, `${dataset}.dzi`), descriptorFile);
    await rm(staging, { recursive: true, force: true });
    return {
      descriptorFile,
      filesDir,
      descriptor,
      tileCount,
      maxLevel: dziMaxLevel(size.width, size.height),
    };
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    if (signal?.aborted && !(e instanceof TileError && e.code === 'ABORTED')) throw abortError(signal);
    throw e;
  }
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  return n;
}
