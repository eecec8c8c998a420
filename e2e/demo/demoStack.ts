import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSampleDataset } from '../../server/tiler/sampleDataset.js';
import { type Stack, startStack } from '../harness/startStack.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The built demo (npm run build); DEMO_STATIC_DIR points elsewhere for a custom build. */
export const STATIC_DIR = process.env['DEMO_STATIC_DIR'] ?? path.join(ROOT, 'dist/public');

/**
 * The companion server serving the built demo, in front of the mocked origin
 * holding the sample pyramid (built once into .cache/e2e-data by the tiler).
 */
export async function startDemoStack(latencyMs = 5, originRoot?: string): Promise<Stack> {
  if (!existsSync(path.join(STATIC_DIR, 'index.html'))) {
    throw new Error(`${STATIC_DIR}/index.html is missing: run \`npm run build\` first`);
  }
  const dataRoot = originRoot ?? (await sampleDataRoot());
  return startStack({ origin: { root: dataRoot, latencyMs }, config: { staticDir: STATIC_DIR } });
}

/** The directory holding `sample/{z}/{x}/{y}.jpg`, built once by the tiler. */
export async function sampleDataRoot(): Promise<string> {
  const dataRoot = path.join(ROOT, '.cache/e2e-data');
  await mkdir(dataRoot, { recursive: true });
  await ensureSampleDataset(dataRoot);
  return dataRoot;
}

/** Browser-side view of `window.__demo` (see demo/main.ts). */
export interface DemoHook {
  renderer: string;
  rendererReason: string;
  textureFormat: string;
  frame(): {
    level: number;
    rendered: Record<number, number>;
    complete: boolean;
    visible: number;
    cam: { cx: number; cy: number; zoom: number };
  };
  camera(): { cx: number; cy: number; zoom: number };
  store(): {
    ready: number;
    uploads: number;
    textureBytes: number;
    uploadedBytes: number;
    serverDown: boolean;
  };
  setCamera(c: { cx: number; cy: number; zoom: number }): void;
  /** The worker pool's counters; undefined with `?decode=main`. */
  pool(): { submitted: number; completed: number; failed: number; cancelled: number } | undefined;
}

/** `__mainDecodes`: main-thread createImageBitmap calls, when a test counts them (viewer.spec.ts). */
export type DemoWindow = { __demo?: DemoHook; __mainDecodes?: number };
