import { mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { TileError } from '../../src/protocol/errors.js';
import { assertDatasetId } from '../../src/protocol/tileKey.js';
import {
  type DatasetManifest,
  GENERATOR_NAME,
  GENERATOR_VERSION,
  manifestPath,
  TILE_FORMATS,
  type TileFormat,
} from './manifest.js';
import { mapLimit } from './mapLimit.js';
import { type PyramidLevel, type PyramidPlan, planPyramid } from './pyramidPlan.js';
import { makeStagingDir, publishStagingDir, removeStaleStagingDirs } from './stagingDir.js';

export type TileProgress =
  | { phase: 'resize'; z: number; width: number; height: number }
  | { phase: 'tiles'; z: number; done: number; total: number };

export interface TileImageOptions {
  /** Dataset id: the output goes to `outDir/<dataset>/{z}/{x}/{y}.<format>`. */
  dataset: string;
  outDir: string;
  format?: TileFormat;
  tileSize?: number;
  /** Deepest level; default: the first whose long side reaches the source's. */
  maxZoom?: number;
  /** Encoder quality for jpg and webp (1-100). */
  quality?: number;
  /** Tiles encoded at once (default: 2 per core). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (p: TileProgress) => void;
}

export interface TileImageResult {
  dir: string;
  manifest: DatasetManifest;
}

// Past libvips' default 268 Mpx guard: a 20k x 20k scan is the point of this tool.
const OPEN = { limitInputPixels: false } as const;

// Levels are kept as uncompressed tiled TIFF: libtiff reads just the tiles a
// strip needs with pread(), where a libvips .v file is mmapped whole and its
// pages count in RSS (1 GB peak vs 430 MB for a 12k x 12k source, measured);
// lzw/deflate would save disk but made tiling 2.5x slower.
const LEVEL_TIFF = { tile: true, tileWidth: 256, tileHeight: 256, compression: 'none' } as const;

function abortError(signal: AbortSignal): TileError {
  return new TileError('ABORTED', 'tiling aborted', {}, { cause: signal.reason });
}

async function sourceSize(input: string | Buffer): Promise<{ width: number; height: number }> {
  try {
    const meta = await sharp(input, OPEN).metadata();
    return { width: meta.autoOrient.width, height: meta.autoOrient.height };
  } catch (e) {
    throw new TileError('BAD_IMAGE', `cannot read image: ${(e as Error).message}`, {}, { cause: e });
  }
}

/** Channel handling shared by every level: sRGB, alpha kept only where the format has it. */
function normalise(img: Sharp, format: TileFormat): Sharp {
  const srgb = img.toColourspace('srgb');
  return format === 'jpg' ? srgb.flatten({ background: '#000000' }) : srgb.ensureAlpha();
}

function encode(img: Sharp, format: TileFormat, quality: number): Sharp {
  switch (format) {
    case 'jpg':
      return img.jpeg({ quality });
    case 'png':
      return img.png({ compressionLevel: 6 });
    case 'webp':
      return img.webp({ quality, effort: 2 });
  }
}

/**
 * Cuts one level, held in an uncompressed tiled TIFF, into tiles: one
 * tile-high strip in memory at a time (plus the next one being read), each
 * tile encoded from it, so memory is bounded by the level's width, never its area.
 */
async function tileLevel(
  levelFile: string,
  level: PyramidLevel,
  stagingDir: string,
  o: { format: TileFormat; tileSize: number; quality: number; concurrency: number; signal?: AbortSignal },
  onTile: () => void,
): Promise<void> {
  const { tileSize: t, format } = o;
  for (let x = 0; x < level.cols; x++)
    await mkdir(path.join(stagingDir, String(level.z), String(x)), { recursive: true });
  const readStrip = (row: number) => {
    const top = row * t;
    const height = Math.min(t, level.height - top);
    return sharp(levelFile, OPEN)
      .extract({ left: 0, top, width: level.width, height })
      .raw()
      .toBuffer({ resolveWithObject: true });
  };
  let next = readStrip(0);
  for (let row = 0; row < level.rows; row++) {
    const strip = await next;
    if (row + 1 < level.rows) {
      next = readStrip(row + 1);
      // Awaited on the next turn; until then a failure must not be an unhandled rejection.
      next.catch(() => {});
    }
    const { width, height, channels } = strip.info;
    const background = format === 'jpg' ? '#000000' : { r: 0, g: 0, b: 0, alpha: 0 };
    const cols = Array.from({ length: level.cols }, (_, x) => x);
    await mapLimit(
      cols,
      o.concurrency,
      async (x) => {
        const w = Math.min(t, width - x * t);
        let img = sharp(strip.data, { raw: { width, height, channels } }).extract({
          left: x * t,
          top: 0,
          width: w,
          height,
        });
        // Edge tiles keep the full tile size so every tile decodes to tileSize x tileSize.
        if (w < t || height < t) img = img.extend({ right: t - w, bottom: t - height, background });
        await encode(img, format, o.quality).toFile(
          path.join(stagingDir, String(level.z), String(x), `${row}.${format}`),
        );
        onTile();
      },
      o.signal,
    );
  }
}

/**
 * Builds the tile pyramid of one image (layout in docs/tiler.md) into a hidden
 * staging directory, then renames it into `outDir/<dataset>`: a crash or an
 * abort never leaves a half-written dataset behind.
 *
 * Memory stays bounded for huge inputs: each level is resized by libvips'
 * streaming pipeline into an uncompressed temporary file (on disk, next to
 * the output) and then read back one strip of tiles at a time.
 */
export async function tileImage(input: string | Buffer, options: TileImageOptions): Promise<TileImageResult> {
  const dataset = assertDatasetId(options.dataset);
  const format = options.format ?? 'jpg';
  if (!TILE_FORMATS.includes(format)) {
    throw new TileError('BAD_REQUEST', `format must be one of ${TILE_FORMATS.join(', ')}`, { format });
  }
  const tileSize = options.tileSize ?? 256;
  const quality = options.quality ?? 85;
  const concurrency = options.concurrency ?? Math.max(2, availableParallelism() * 2);
  const { signal, onProgress } = options;
  if (signal?.aborted) throw abortError(signal);

  const src = await sourceSize(input);
  const plan: PyramidPlan = planPyramid(src.width, src.height, tileSize, options.maxZoom);
  const outDir = path.resolve(options.outDir);
  const finalDir = path.join(outDir, dataset);
  await mkdir(outDir, { recursive: true });
  await removeStaleStagingDirs(finalDir);
  const staging = await makeStagingDir(finalDir);
  const work = path.join(staging, '.work');
  try {
    await mkdir(work);
    const deepest = plan.levels[plan.maxZoom]!;
    onProgress?.({ phase: 'resize', z: deepest.z, width: deepest.width, height: deepest.height });
    let levelFile = path.join(work, `${deepest.z}.tif`);
    // sequentialRead lets libvips decode the source top to bottom once, in strips.
    await normalise(
      sharp(input, { ...OPEN, sequentialRead: true })
        .autoOrient()
        .resize(deepest.width, deepest.height, { fit: 'fill' }),
      format,
    )
      .tiff(LEVEL_TIFF)
      .toFile(levelFile);

    let done = 0;
    const o = { format, tileSize, quality, concurrency, signal };
    for (let z = plan.maxZoom; z >= 0; z--) {
      if (signal?.aborted) throw abortError(signal);
      const level = plan.levels[z]!;
      const total = level.cols * level.rows;
      done = 0;
      onProgress?.({ phase: 'tiles', z, done, total });
      await tileLevel(levelFile, level, staging, o, () => {
        done++;
        onProgress?.({ phase: 'tiles', z, done, total });
      });
      if (z > 0) {
        // Each level is made from the one above it: a 2x reduction of a small
        // file instead of another decode of the (possibly huge) source.
        const up = plan.levels[z - 1]!;
        const upFile = path.join(work, `${up.z}.tif`);
        onProgress?.({ phase: 'resize', z: up.z, width: up.width, height: up.height });
        await sharp(levelFile, OPEN)
          .resize(up.width, up.height, { fit: 'fill' })
          .tiff(LEVEL_TIFF)
          .toFile(upFile);
        await rm(levelFile, { force: true });
        levelFile = upFile;
      }
    }
    if (signal?.aborted) throw abortError(signal);
    await rm(work, { recursive: true, force: true });

    const manifest: DatasetManifest = {
      dataset,
      width: plan.width,
      height: plan.height,
      tileSize,
      minZoom: plan.minZoom,
      maxZoom: plan.maxZoom,
      format,
      sourceWidth: src.width,
      sourceHeight: src.height,
      levels: plan.levels,
      tileCount: plan.totalTiles,
      generator: GENERATOR_NAME,
      generatorVersion: GENERATOR_VERSION,
      createdAt: new Date().toISOString(),
    };
    // Written last: its presence is the "complete" mark readers check.
    await writeFile(manifestPath(staging), `${JSON.stringify(manifest, null, 2)}\n`);
    await publishStagingDir(staging, finalDir);
    return { dir: finalDir, manifest };
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    if (signal?.aborted && !(e instanceof TileError && e.code === 'ABORTED')) throw abortError(signal);
    throw e;
  }
}
