import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATOR_VERSION, readManifest } from './manifest.js';
import { tileImage } from './tileImage.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The committed sources of the sample dataset (never read from outside the repo at run time). */
export const SAMPLE_SOURCE_IMAGE = path.join(REPO_ROOT, 'fixtures/sample-source/hubble_deep_field.jpg');
export const SAMPLE_SOURCE_VIDEO = path.join(REPO_ROOT, 'fixtures/video/sample.mp4');

/** Levels 0..5 of 256-px tiles: 8192 px wide at z=5 (the 1000-px photo upsampled there). */
export const SAMPLE_DATASET = { dataset: 'sample', tileSize: 256, maxZoom: 5, format: 'jpg' } as const;

export interface EnsureSampleOptions {
  signal?: AbortSignal;
  log?: (message: string) => void;
  /** Overrides for tests (a tiny image); production uses the committed fixtures. */
  sourceImage?: string;
  sourceVideo?: string;
  maxZoom?: number;
}

export interface EnsureSampleResult {
  dataset: 'sample';
  dir: string;
  created: boolean;
}

// One build per root per process: concurrent callers (e.g. two start-up paths) share it.
const inFlight = new Map<string, Promise<EnsureSampleResult>>();

async function sizeOf(p: string): Promise<number | undefined> {
  try {
    return (await stat(p)).size;
  } catch {
    return undefined;
  }
}

/** Copies via a temporary name so a reader never sees a truncated clip. */
async function copyAtomically(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  const tmp = `${to}.tmp-${process.pid}`;
  try {
    await copyFile(from, tmp);
    await rename(tmp, to);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

async function build(root: string, opts: EnsureSampleOptions): Promise<EnsureSampleResult> {
  const dir = path.join(root, SAMPLE_DATASET.dataset);
  const maxZoom = opts.maxZoom ?? SAMPLE_DATASET.maxZoom;
  const video = path.join(root, 'videos', 'sample.mp4');
  const existing = await readManifest(dir);
  const current =
    existing !== null &&
    existing.generatorVersion === GENERATOR_VERSION &&
    existing.maxZoom === maxZoom &&
    existing.tileSize === SAMPLE_DATASET.tileSize &&
    existing.format === SAMPLE_DATASET.format;
  let created = false;
  if (!current) {
    const started = Date.now();
    opts.log?.(`building sample dataset in ${dir}`);
    await tileImage(opts.sourceImage ?? SAMPLE_SOURCE_IMAGE, {
      dataset: SAMPLE_DATASET.dataset,
      outDir: root,
      format: SAMPLE_DATASET.format,
      tileSize: SAMPLE_DATASET.tileSize,
      maxZoom,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    created = true;
    opts.log?.(`sample dataset ready in ${Date.now() - started} ms`);
  }
  // The clip is re-copied when missing or when the committed fixture changed size.
  const sourceVideo = opts.sourceVideo ?? SAMPLE_SOURCE_VIDEO;
  if (created || (await sizeOf(video)) !== (await sizeOf(sourceVideo))) {
    await copyAtomically(sourceVideo, video);
    created = true;
  }
  return { dataset: 'sample', dir, created };
}

/**
 * Makes sure `root/sample/` holds the bundled sample pyramid (from
 * fixtures/sample-source) and `root/videos/sample.mp4` the sample clip.
 * Does nothing when the manifest already names the current generator version;
 * otherwise builds it atomically (see tileImage) in a few seconds.
 */
export function ensureSampleDataset(
  root: string,
  opts: EnsureSampleOptions = {},
): Promise<EnsureSampleResult> {
  const key = path.resolve(root);
  let p = inFlight.get(key);
  if (!p) {
    p = build(key, opts).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}
