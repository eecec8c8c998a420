import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestImage } from '../../test/support/server/testImage.js';
import type { DatasetManifest } from './manifest.js';
import { ensureSampleDataset, SAMPLE_SOURCE_VIDEO } from './sampleDataset.js';

let tmp: string;
let source: string;
const here = path.dirname(fileURLToPath(import.meta.url));

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)));
  }
  return out.sort();
}

beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'sample-ds-'));
  source = path.join(tmp, 'src.png');
  // 300x200 -> z0 256x171 (1 tile), z1 512x341 (2x2), z2 1024x683 (4x3: row 3 missing).
  await makeTestImage(source, 300, 200);
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('ensureSampleDataset', () => {
  it('writes the z/x/y layout, a manifest and the sample clip, skipping rows past the bottom', async () => {
    const root = path.join(tmp, 'data');
    const res = await ensureSampleDataset(root, { sourceImage: source, maxZoom: 2 });
    expect(res).toEqual({ dataset: 'sample', dir: path.join(root, 'sample'), created: true });

    const expected = ['0/0/0.jpg'];
    for (let x = 0; x < 2; x++) for (let y = 0; y < 2; y++) expected.push(`1/${x}/${y}.jpg`);
    for (let x = 0; x < 4; x++) for (let y = 0; y < 3; y++) expected.push(`2/${x}/${y}.jpg`);
    expect(await listFiles(res.dir)).toEqual([...expected, 'manifest.json'].sort());
    expect(await readdir(root)).toEqual(['sample', 'videos']);

    const m = JSON.parse(await readFile(path.join(res.dir, 'manifest.json'), 'utf8')) as DatasetManifest;
    expect(m).toMatchObject({
      dataset: 'sample',
      width: 1024,
      height: 683,
      tileSize: 256,
      minZoom: 0,
      maxZoom: 2,
      format: 'jpg',
      sourceWidth: 300,
      sourceHeight: 200,
      tileCount: 17,
    });
    expect(typeof m.generatorVersion).toBe('number');

    const clip = await readFile(path.join(root, 'videos', 'sample.mp4'));
    expect(clip.equals(await readFile(SAMPLE_SOURCE_VIDEO))).toBe(true);
  });

  it('makes every tile a decodable 256x256 JPEG, edge tiles padded with black below the image', async () => {
    const { dir } = await ensureSampleDataset(path.join(tmp, 'data'), { sourceImage: source, maxZoom: 2 });
    for (const f of (await listFiles(dir)).filter((f) => f.endsWith('.jpg'))) {
      const meta = await sharp(path.join(dir, f)).metadata();
      expect([f, meta.format, meta.width, meta.height]).toEqual([f, 'jpeg', 256, 256]);
    }
    // z2 is 683 px tall: tile row 2 holds rows 512..682, i.e. 171 px of image then padding.
    const { data, info } = await sharp(path.join(dir, '2/1/2.jpg'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    const px = (x: number, y: number) => data[(y * info.width + x) * info.channels + 2]!;
    expect(px(128, 100)).toBeGreaterThan(150); // the image's blue channel is 200
    expect(px(128, 240)).toBeLessThan(20); // padding
    // Content lines up across levels: the top-left pixel is the source's top-left colour.
    const z0 = await sharp(path.join(dir, '0/0/0.jpg')).raw().toBuffer();
    expect(Math.abs(z0[0]! - 80)).toBeLessThan(16);
  });

  it('does nothing on a second call when the manifest is current', async () => {
    const root = path.join(tmp, 'data');
    const first = await ensureSampleDataset(root, { sourceImage: source, maxZoom: 2 });
    const tile = path.join(first.dir, '2/3/2.jpg');
    const before = (await stat(tile)).mtimeMs;
    const second = await ensureSampleDataset(root, { sourceImage: source, maxZoom: 2 });
    expect(second.created).toBe(false);
    expect((await stat(tile)).mtimeMs).toBe(before);
    // A lost or truncated clip is restored without rebuilding the tiles.
    const clip = path.join(root, 'videos', 'sample.mp4');
    await writeFile(clip, 'truncated');
    expect((await ensureSampleDataset(root, { sourceImage: source, maxZoom: 2 })).created).toBe(true);
    expect((await readFile(clip)).equals(await readFile(SAMPLE_SOURCE_VIDEO))).toBe(true);
    expect((await stat(tile)).mtimeMs).toBe(before);
  });

  it('shares one build between concurrent callers', async () => {
    const root = path.join(tmp, 'data');
    const [a, b] = await Promise.all([
      ensureSampleDataset(root, { sourceImage: source, maxZoom: 1 }),
      ensureSampleDataset(root, { sourceImage: source, maxZoom: 1 }),
    ]);
    expect(a).toBe(b);
    expect(await readdir(root)).toEqual(['sample', 'videos']);
  });

  it('rebuilds an outdated dataset, and a failed rebuild keeps the old one whole', async () => {
    const root = path.join(tmp, 'data');
    const { dir } = await ensureSampleDataset(root, { sourceImage: source, maxZoom: 1 });
    const manifestFile = path.join(dir, 'manifest.json');
    const old = JSON.parse(await readFile(manifestFile, 'utf8')) as DatasetManifest;
    await writeFile(manifestFile, JSON.stringify({ ...old, generatorVersion: 0 }));
    const broken = path.join(tmp, 'broken.jpg');
    await writeFile(broken, 'not an image');

    await expect(ensureSampleDataset(root, { sourceImage: broken, maxZoom: 1 })).rejects.toMatchObject({
      code: 'BAD_IMAGE',
    });
    expect(await listFiles(dir)).toHaveLength(6);
    expect(await readdir(root)).toEqual(['sample', 'videos']);

    const again = await ensureSampleDataset(root, { sourceImage: source, maxZoom: 1 });
    expect(again.created).toBe(true);
    const fresh = JSON.parse(await readFile(manifestFile, 'utf8')) as DatasetManifest;
    expect(fresh.generatorVersion).toBe(old.generatorVersion);
  });

  it('leaves no half dataset when the process dies mid-build, and cleans up after it', async () => {
    const root = path.join(tmp, 'data');
    // A real crash: the child SIGKILLs itself once some tiles are on disk.
    const script = path.join(tmp, 'crash.mts');
    await writeFile(
      script,
      `import { tileImage } from ${JSON.stringify(path.join(here, 'tileImage.ts'))};
let n = 0;
await tileImage(${JSON.stringify(source)}, { dataset: 'sample', outDir: ${JSON.stringify(root)}, maxZoom: 2,
  concurrency: 1, onProgress: (p) => { if (p.phase === 'tiles' && ++n === 4) process.kill(process.pid, 'SIGKILL'); } });
`,
    );
    const signal = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: here, stdio: 'inherit' });
      child.on('error', reject);
      child.on('exit', (_code, sig) => resolve(sig));
    });
    expect(signal).toBe('SIGKILL');
    const left = await readdir(root);
    expect(left).not.toContain('sample');
    expect(left.some((n) => n.startsWith('.sample.tmp-'))).toBe(true);

    const res = await ensureSampleDataset(root, { sourceImage: source, maxZoom: 2 });
    expect(res.created).toBe(true);
    expect(await readdir(root)).toEqual(['sample', 'videos']);
    expect(await listFiles(res.dir)).toHaveLength(18);
  });
});
