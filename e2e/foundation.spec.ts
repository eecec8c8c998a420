import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { type Stack, startStack } from './harness/startStack.js';

// A fixture page of our own, so this spec does not depend on `npm run build`.
const PAGE = `<!doctype html><meta charset="utf-8"><title>foundation</title>
<img id="tile" alt="tile">
<script type="module">
  const toHex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
  window.run = async () => {
    const one = await fetch('/api/tiles/sample/1/0/1.png');
    const single = { status: one.status, type: one.headers.get('content-type'), source: one.headers.get('x-tile-source'), hex: toHex(await one.arrayBuffer()) };
    const img = document.getElementById('tile');
    img.src = '/api/tiles/sample/1/1/1.png';
    await img.decode().catch(() => {});
    const b = await fetch('/api/tiles/sample/batch?tiles=1/0/0.png&tiles=1/1/0.png&tiles=1/0/1.png&tiles=1/1/1.png');
    const batch = await b.json();
    const hex = {};
    for (const [k, v] of Object.entries(batch.tiles)) hex[k] = v === null ? null : toHex(Uint8Array.from(atob(v), (c) => c.charCodeAt(0)));
    return { single, batch: { status: b.status, count: batch.count, hex }, img: { w: img.naturalWidth, h: img.naturalHeight } };
  };
</script>`;

// A real 1x1 PNG so the <img> decodes; the others are arbitrary bytes checked for identity.
const PNG_1x1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const files: Record<string, Buffer> = {
  'sample/1/0/0.png': randomBytes(900),
  'sample/1/1/0.png': randomBytes(901),
  'sample/1/0/1.png': randomBytes(902),
  'sample/1/1/1.png': PNG_1x1,
};

let stack: Stack | undefined;
let dir: string | undefined;

test.afterEach(async () => {
  await stack?.close();
  stack = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

test('a page served by the companion server loads a tile and a batch from the mocked origin', async ({
  page,
}) => {
  dir = await mkdtemp(path.join(tmpdir(), 'foundation-'));
  await writeFile(path.join(dir, 'index.html'), PAGE);
  stack = await startStack({ origin: { files, latencyMs: 20 }, config: { staticDir: dir } });
  await page.goto(`${stack.serverUrl}/`);
  const out = await page.evaluate(() => (globalThis as unknown as { run: () => Promise<unknown> }).run());
  const r = out as {
    single: { status: number; type: string; source: string; hex: string };
    batch: { status: number; count: number; hex: Record<string, string | null> };
    img: { w: number; h: number };
  };
  expect(r.single).toEqual({
    status: 200,
    type: 'image/png',
    source: 'origin',
    hex: files['sample/1/0/1.png']!.toString('hex'),
  });
  expect(r.img).toEqual({ w: 1, h: 1 });
  expect(r.batch.status).toBe(200);
  expect(r.batch.count).toBe(4);
  for (const [key, bytes] of Object.entries(files)) {
    expect(r.batch.hex[key.slice('sample/'.length)]).toBe(bytes.toString('hex'));
  }
  // Each tile went to the origin exactly once: the batch reused what the single
  // request and the <img> had already cached.
  for (const key of Object.keys(files)) expect(stack.origin.count(key), key).toBe(1);
  expect(stack.origin.count()).toBe(4);
});
