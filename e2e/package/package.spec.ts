import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { ensureSampleDataset } from '../../server/tiler/sampleDataset.js';
import {
  ROOT,
  type SampleStack,
  startSampleStack,
  WORKER_SOURCES,
  watchTiles,
} from '../integrations/sampleStack.js';
import { buildPackedApp, type PackedApp } from './packedApp.js';

// One pack + install + build for the file (~30 s here), then each test gets
// its own companion server and mocked origin in front of the app's dist/.
test.describe.configure({ mode: 'serial' });

const run = promisify(execFile);
let app: PackedApp | undefined;
let stack: SampleStack | undefined;

test.beforeAll(async () => {
  test.setTimeout(180_000);
  app = await buildPackedApp((m) => console.log(`[package] ${m}`));
});

test.afterAll(async () => {
  await app?.close();
});

test.afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

type Win = {
  ready: Promise<boolean>;
  showTile(src: string): Promise<number>;
  decodeTile(
    src: string,
    as: string,
  ): Promise<{ width: number; height: number; format: string | null; bytes: number }>;
  acc: { stats(): Promise<Record<string, number>> };
};

test('the tarball holds the compiled package and no dev-only files', () => {
  const files = app!.files;
  for (const must of [
    'dist/pkg/src/client/index.js',
    'dist/pkg/src/client/index.d.ts',
    'dist/pkg/src/sw/installTileAccelerator.js',
    'dist/pkg/server/index.js',
    'dist/pkg/server/index.d.ts',
    'dist/pkg/src/wasm/index.js',
    'dist/pkg/src/wasm/build/codecs-simd.wasm',
    'dist/pkg/src/wasm/build/codecs-scalar.wasm',
    'dist/public/tile-sw.js',
    'dist/public/tile-accelerator.js',
    'bin/tile-accelerator.mjs',
  ]) {
    expect(files, must).toContain(must);
  }
  const devOnly = files.filter(
    (f) =>
      /^(e2e|bench|scripts|demo|src|server|deploy|test)\//.test(f) ||
      /\.(test|spec|browser\.test|fuzz\.test)\.[jt]s$/.test(f) ||
      /(^|\/)(testing|reliability)\//.test(f) ||
      (f.endsWith('.ts') && !f.endsWith('.d.ts')),
  );
  expect(devOnly).toEqual([]);
  // Exactly the two codec builds the loader picks from; no asc debug build, .wat or map.
  expect(files.filter((f) => /\.(wasm|wat)(\.map)?$/.test(f) && f.startsWith('dist/pkg/')).sort()).toEqual([
    'dist/pkg/src/wasm/build/codecs-scalar.wasm',
    'dist/pkg/src/wasm/build/codecs-simd.wasm',
  ]);
});

test('a fresh Vite app loads a tile through the composed worker and decodes with the shipped wasm', async ({
  page,
}) => {
  stack = await startSampleStack(path.join(app!.appDir, 'dist'));
  const tiles = watchTiles(page);
  await page.goto(`${stack.serverUrl}/`);
  expect(await page.evaluate(() => (globalThis as unknown as Win).ready)).toBe(true);

  expect(
    await page.evaluate(() => (globalThis as unknown as Win).showTile('/api/tiles/sample/2/1/1.jpg')),
  ).toBe(256);
  expect(WORKER_SOURCES).toContain(tiles.sources.get('/api/tiles/sample/2/1/1.jpg'));
  expect(tiles.fromWorker()).toBeGreaterThan(0);
  expect(stack.origin.count('sample/2/1/1.jpg')).toBe(1);
  // The worker asked the companion in a batch, not the page with a plain GET.
  expect(stack.serverRequests.some((u) => u.startsWith('/api/tiles/sample/batch'))).toBe(true);
  expect(stack.serverRequests).not.toContain('/api/tiles/sample/2/1/1.jpg');

  // The same tile again: answered by the worker's memory, no new origin GET.
  const again = await page.evaluate(async () => {
    const r = await fetch('/api/tiles/sample/2/1/1.jpg');
    return r.headers.get('x-tile-source');
  });
  expect(again).toBe('sw-memory');
  const stats = await page.evaluate(() => (globalThis as unknown as Win).acc.stats());
  expect(stats.cache_misses).toBeGreaterThanOrEqual(1);
  expect(stats.memory_hits).toBeGreaterThanOrEqual(1);
  expect(stats.batches).toBeGreaterThanOrEqual(1);
  expect(stack.origin.count('sample/2/1/1.jpg')).toBe(1);

  // The codec worker and its .wasm came through the app's own bundler from node_modules.
  const rgba = await page.evaluate(() =>
    (globalThis as unknown as Win).decodeTile('/api/tiles/sample/1/0/0.jpg', 'rgba'),
  );
  expect(rgba).toMatchObject({ width: 256, height: 256, bytes: 256 * 256 * 4 });
  const bc1 = await page.evaluate(() =>
    (globalThis as unknown as Win).decodeTile('/api/tiles/sample/1/0/0.jpg', 'bc1'),
  );
  expect(bc1).toMatchObject({ width: 256, height: 256, format: 'bc1', bytes: (256 / 4) ** 2 * 8 });
});

test('the Workbox worker serves its precached shell and our cached tiles with the server gone', async ({
  page,
}) => {
  stack = await startSampleStack(path.join(app!.appDir, 'dist'));
  const tiles = watchTiles(page);
  await page.goto(`${stack.serverUrl}/`);
  expect(await page.evaluate(() => (globalThis as unknown as Win).ready)).toBe(true);
  expect(
    await page.evaluate(() => (globalThis as unknown as Win).showTile('/api/tiles/sample/3/2/2.jpg')),
  ).toBe(256);
  expect(WORKER_SOURCES).toContain(tiles.sources.get('/api/tiles/sample/3/2/2.jpg'));

  await stack.close();
  const shell = await page.reload();
  expect(shell?.fromServiceWorker()).toBe(true);
  await expect(page.locator('#shell')).toHaveText('App shell');
  expect(await page.evaluate(() => (globalThis as unknown as Win).ready)).toBe(true);

  expect(
    await page.evaluate(() => (globalThis as unknown as Win).showTile('/api/tiles/sample/3/2/2.jpg')),
  ).toBe(256);
  const cached = await page.evaluate(async () => {
    // no-store skips the browser's HTTP cache, so the worker must answer.
    const r = await fetch('/api/tiles/sample/3/2/2.jpg', { cache: 'no-store' } as unknown as RequestInit);
    return { source: r.headers.get('x-tile-source'), bytes: (await r.arrayBuffer()).byteLength };
  });
  expect(['sw-memory', 'sw-cache']).toContain(cached.source);
  expect(cached.bytes).toBeGreaterThan(1000);
  // A tile never fetched cannot appear offline: it fails as an image error, the page stays up.
  expect(
    await page.evaluate(() => (globalThis as unknown as Win).showTile('/api/tiles/sample/5/9/9.jpg')),
  ).toBe(0);
});

test("a consumer's TypeScript resolves every export's declarations", async () => {
  test.setTimeout(60_000);
  const tsc = path.join(ROOT, 'node_modules/.bin/tsc');
  const r = await run(tsc, ['-p', path.join(app!.appDir, 'tsconfig.json')]).catch(
    (e: { stdout?: string; stderr?: string }) => ({
      stdout: `${e.stdout ?? ''}${e.stderr ?? ''}`,
      failed: true,
    }),
  );
  expect('failed' in r ? r.stdout : '').toBe('');
});

test('an existing node:http app mounts the handler and runs the wasm codecs from the installed package', async () => {
  test.setTimeout(60_000);
  const dataDir = path.join(ROOT, 'data');
  await ensureSampleDataset(dataDir, { log: () => {} });
  const child = spawn(process.execPath, ['mount.mjs'], {
    cwd: app!.appDir,
    env: { ...process.env, TILES_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await listeningUrl(child);
    const tile = await fetch(`${url}/api/tiles/sample/1/1/0.jpg`);
    expect(tile.status).toBe(200);
    expect(tile.headers.get('x-tile-source')).toBe('origin');
    const batch = await fetch(`${url}/api/tiles/sample/batch?tiles=0/0/0.jpg&tiles=9/0/0.jpg`);
    const body = (await batch.json()) as { tiles: Record<string, string | null> };
    expect(body.tiles['0/0/0.jpg']?.length).toBeGreaterThan(1000);
    expect(body.tiles['9/0/0.jpg']).toBeNull();
    const sw = await fetch(`${url}/tile-sw.js`);
    expect(sw.status).toBe(200);
    expect((await sw.text()).length).toBeGreaterThan(10_000);
    expect(await (await fetch(`${url}/anything`)).text()).toBe('the app');
    const codec = (await (await fetch(`${url}/codec`)).json()) as {
      flavour: string;
      bc1: number[];
      b64: number[];
    };
    expect(['simd', 'scalar']).toContain(codec.flavour);
    expect(codec.bc1).toHaveLength(8);
    expect(codec.bc1.slice(0, 2)).toEqual([0xff, 0xff]); // colour 0 is white (RGB565 0xffff)
    expect(codec.b64).toEqual([1, 2, 3]);
  } finally {
    child.kill('SIGTERM');
  }
});

test('the installed package serves tiles on plain node, without tsx', async () => {
  test.setTimeout(60_000);
  const dataDir = path.join(ROOT, 'data');
  await ensureSampleDataset(dataDir, { log: () => {} });
  const bin = path.join(app!.appDir, 'node_modules/.bin/tile-accelerator');
  const child = spawn(bin, ['serve'], {
    cwd: app!.appDir,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', TILES_DIR: dataDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await listeningUrl(child);
    const tile = await fetch(`${url}/api/tiles/sample/0/0/0.jpg`);
    expect(tile.status).toBe(200);
    expect(tile.headers.get('content-type')).toBe('image/jpeg');
    expect((await tile.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    const sw = await fetch(`${url}/tile-sw.js`);
    expect(sw.status).toBe(200);
    expect(sw.headers.get('service-worker-allowed')).toBe('/');
    // tsx is a devDependency of ours: the installed tree must not have needed it.
    expect(() => createRequire(path.join(app!.appDir, 'x.js')).resolve('tsx')).toThrow();
  } finally {
    child.kill('SIGTERM');
  }
});

/** The URL from a child's "listening on http://..." line. */
function listeningUrl(child: ChildProcessWithoutNullStreams | ReturnType<typeof spawn>): Promise<string> {
  let out = '';
  return new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no "listening" line in 30 s: ${out}`)), 30_000);
    const on = (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`exited with ${code}: ${out}`));
    });
  });
}
