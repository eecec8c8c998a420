// The service-worker bench's files: the tiles the mocked origin serves, and the
// static dir the server serves (the built bundles, the bench page, the Workbox
// worker and the page-side batch viewport, each bundled as an IIFE).
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { build } from 'vite';
import { BENCH_PAGE } from './benchPage.js';

/** Twelve real 256-px JPEG tiles cut from the sample image, reused round-robin over every key of level Z. */
export async function tiles(root: string, Z: number): Promise<Record<string, Uint8Array>> {
  const src = sharp(await readFile(path.join(root, 'fixtures/sample-source/hubble_deep_field.jpg')));
  const meta = await src.metadata();
  const pool: Uint8Array[] = [];
  for (let i = 0; i < 12; i++) {
    const left = (i * 397) % Math.max(1, (meta.width ?? 256) - 256);
    const top = (i * 211) % Math.max(1, (meta.height ?? 256) - 256);
    pool.push(
      new Uint8Array(
        await src.clone().extract({ left, top, width: 256, height: 256 }).jpeg({ quality: 85 }).toBuffer(),
      ),
    );
  }
  const files: Record<string, Uint8Array> = {};
  const n = 2 ** Z;
  for (let x = 0; x < n; x++)
    for (let y = 0; y < n; y++) files[`bench/${Z}/${x}/${y}.jpg`] = pool[(x * 7 + y) % 12]!;
  // The level above: parents (prefetched by our worker) and the pool warm-up.
  for (let x = 0; x < n / 2; x++) {
    for (let y = 0; y < n / 2; y++) files[`bench/${Z - 1}/${x}/${y}.jpg`] = pool[(x + y) % 12]!;
  }
  return files;
}

/** Bundles one browser entry into `dir/<file>` as a self-contained IIFE exposing `name`. */
async function buildIife(
  root: string,
  dir: string,
  entry: string,
  name: string,
  file: string,
): Promise<void> {
  const out = path.join(dir, `.build-${name}`);
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    publicDir: false,
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: {
      outDir: out,
      emptyOutDir: true,
      lib: { entry: path.join(root, entry), formats: ['iife'], name, fileName: () => file },
    },
  });
  await copyFile(path.join(out, file), path.join(dir, file));
  await rm(out, { recursive: true, force: true });
}

export async function staticDir(root: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tile-sw-bench-'));
  await cp(path.join(root, 'dist/public'), dir, { recursive: true });
  await writeFile(path.join(dir, 'bench.html'), BENCH_PAGE);
  await buildIife(root, dir, 'bench/sw/workboxCacheFirstSw.ts', 'wbSw', 'wb-sw.js');
  await buildIife(root, dir, 'bench/sw/pageBatchViewport.page.ts', 'benchBatch', 'bench-batch.js');
  return dir;
}

export async function writeTiles(files: Record<string, Uint8Array>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'tile-sw-bench-origin-'));
  for (const [key, bytes] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, key)), { recursive: true });
    await writeFile(path.join(root, key), bytes);
  }
  return root;
}
