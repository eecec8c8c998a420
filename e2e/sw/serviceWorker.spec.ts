import { expect, test } from '@playwright/test';
import {
  openControlled,
  type SwStack,
  sampleTiles,
  sampleVideo,
  startSwStack,
  stats,
  waitForStats,
} from './swStack.js';

type Shown = Array<{ x: number; y: number; ok: boolean }>;
type Info = {
  status?: number;
  source?: string | null;
  contentRange?: string | null;
  contentLength?: string | null;
  length?: number;
  sum?: number;
  decodes?: boolean;
  error?: string;
};

/** The bits of HTMLVideoElement the spec touches (the e2e tsconfig has no DOM lib). */
interface VideoLike {
  src: string;
  currentTime: number;
  playbackRate: number;
  error: { code: number } | null;
  oncanplay: (() => void) | null;
  onerror: (() => void) | null;
  onended: (() => void) | null;
  onseeked: (() => void) | null;
  play(): Promise<void>;
  pause(): void;
  canPlayType(t: string): string;
}
type Doc = { document: { getElementById(id: string): VideoLike } };

const sum = (b: Uint8Array) => b.reduce((a, v) => (a * 31 + v) >>> 0, 7);
const NO_PREFETCH = { prefetch: { enabled: false } };

let stack: SwStack | undefined;
test.afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const show = (page: import('@playwright/test').Page, x0: number, y0: number, cols: number, rows: number) =>
  page.evaluate(
    ([a, b, c, d]) =>
      (globalThis as unknown as { showTiles(...args: unknown[]): Promise<Shown> }).showTiles(
        'sample',
        4,
        a,
        b,
        c,
        d,
      ),
    [x0, y0, cols, rows],
  );

const fetchInfo = (
  page: import('@playwright/test').Page,
  url: string,
  init: RequestInit = {},
  abortAfterMs?: number,
) =>
  page.evaluate(
    ([u, i, a]) =>
      (globalThis as unknown as { fetchInfo(...args: unknown[]): Promise<Info> }).fetchInfo(
        u,
        i,
        a ?? undefined,
      ),
    [url, init, abortAfterMs ?? null] as const,
  );

test('64 visible <img> tiles make at most 2 batch requests and one origin GET each', async ({ page }) => {
  // The grouping is controlled, not left to the scheduler: with the default
  // window (4 ms quiet gap, 16 ms at most) a loaded machine spreads the 64
  // fetch events over more windows (3 batches were seen). Here a batch leaves
  // the moment it holds all 64 tiles (maxTiles), and the window stays open
  // through quiet gaps of up to 1 s, for at most 5 s: the bound of 2 holds
  // unless the browser stalls more than 1 s between two of the page's fetch
  // events (one such stall splits the burst in 2; it takes two to make 3).
  const BURST = { ...NO_PREFETCH, batch: { maxTiles: 64, windowMs: 1000, maxWaitMs: 5000 } };
  stack = await startSwStack({ origin: { latencyMs: 40 } });
  await openControlled(page, stack.pageUrl(BURST));
  stack.serverRequests.length = 0;
  stack.origin.resetCounts();
  const shown = await show(page, 0, 0, 8, 8);
  expect(shown.filter((s) => !s.ok)).toEqual([]);
  const st = await stats(page);
  const batches = stack.batchRequests();
  expect(batches, JSON.stringify(st)).toBeGreaterThanOrEqual(1);
  expect(batches, JSON.stringify(st)).toBeLessThanOrEqual(2);
  // No tile went to the server alone: only batch requests reached it.
  expect(stack.serverRequests.filter((r) => /\/api\/tiles\/sample\/4\//.test(r.url))).toEqual([]);
  expect(stack.serverRequests).toHaveLength(batches);
  // Each of the 64 tiles made exactly one origin GET.
  for (let x = 0; x < 8; x++) {
    for (let y = 0; y < 8; y++) expect(stack.origin.count(`sample/4/${x}/${y}.jpg`), `${x}/${y}`).toBe(1);
  }
  expect(stack.origin.count()).toBe(64);
  // The counters add up: 64 misses, all in batches, none alone, none failed.
  expect(st['total_requests']).toBe(64);
  expect(st['cache_misses']).toBe(64);
  expect(st['cache_hits']).toBe(0);
  expect(st['batches']).toBe(batches);
  expect(st['batch_tiles']).toBe(64);
  expect(Number(st['batch_max'])).toBeGreaterThanOrEqual(32);
  expect(st['network_fetches']).toBe(0);
  expect(st['batch_failures']).toBe(0);
  // Every tile is the origin's exact bytes (asked again: served by the worker, no new origin GET).
  const truth = await sampleTiles();
  for (let x = 0; x < 8; x++) {
    for (let y = 0; y < 8; y++) {
      const key = `sample/4/${x}/${y}.jpg`;
      const i = await fetchInfo(page, `/api/tiles/${key}`);
      expect(i.status, key).toBe(200);
      expect(i.length, key).toBe(truth[key]!.length);
      expect(i.sum, key).toBe(sum(truth[key]!));
      expect(['sw-memory', 'sw-cache'], key).toContain(i.source);
    }
  }
  expect(stack.origin.count()).toBe(64);
});

test('the same tile in 5 tabs makes 1 origin GET and 1 server request', async ({ context }) => {
  stack = await startSwStack({ origin: { latencyMs: 400 } });
  const pages = await Promise.all(Array.from({ length: 5 }, () => context.newPage()));
  for (const p of pages) await openControlled(p, stack.pageUrl(NO_PREFETCH));
  stack.serverRequests.length = 0;
  stack.origin.resetCounts();
  const url = '/api/tiles/sample/4/3/3.jpg';
  const infos = await Promise.all(pages.map((p) => fetchInfo(p, url)));
  const want = sum((await sampleTiles())['sample/4/3/3.jpg']!);
  for (const i of infos) {
    expect(i.status).toBe(200);
    expect(i.sum).toBe(want);
  }
  expect(stack.origin.count('sample/4/3/3.jpg')).toBe(1);
  expect(stack.serverRequests).toHaveLength(1);
  const s = await stats(pages[0]!);
  expect(s['coalesced']).toBe(4);
});

test('a reload makes no network request for cached tiles', async ({ page }) => {
  stack = await startSwStack();
  await openControlled(page, stack.pageUrl(NO_PREFETCH));
  await show(page, 0, 0, 8, 8);
  await waitForStats(page, (s) => Number(s['cache_size']) >= 64);
  await page.reload();
  await page.evaluate(() => (globalThis as unknown as { ready: Promise<boolean> }).ready);
  stack.serverRequests.length = 0;
  stack.origin.resetCounts();
  const shown = await show(page, 0, 0, 8, 8);
  expect(shown.filter((s) => s.ok)).toHaveLength(64);
  expect(stack.serverRequests.filter((r) => r.url.startsWith('/api/'))).toHaveLength(0);
  expect(stack.origin.count()).toBe(0);
  const one = await fetchInfo(page, '/api/tiles/sample/4/1/1.jpg');
  expect(['sw-memory', 'sw-cache']).toContain(one.source);
});

test('with the server stopped, cached tiles still render', async ({ page }) => {
  stack = await startSwStack();
  await openControlled(page, stack.pageUrl(NO_PREFETCH));
  await show(page, 0, 0, 4, 4);
  await waitForStats(page, (s) => Number(s['cache_size']) >= 16);
  await stack.server.close();
  for (const [x, y] of [
    [0, 0],
    [3, 3],
    [2, 1],
  ]) {
    const i = await fetchInfo(page, `/api/tiles/sample/4/${x}/${y}.jpg`);
    expect(i.status).toBe(200);
    expect(i.decodes).toBe(true);
  }
  // A tile never fetched fails the way the network fails: the worker does not invent one.
  const missing = await fetchInfo(page, '/api/tiles/sample/4/9/9.jpg');
  expect(missing.status ?? 0).not.toBe(200);
});

test('the persistent cache stays under its byte budget', async ({ page }) => {
  const tiles = await sampleTiles();
  const avg = Object.values(tiles).reduce((a, b) => a + b.byteLength, 0) / Object.keys(tiles).length;
  const budget = Math.round(avg * 20);
  stack = await startSwStack();
  await openControlled(
    page,
    stack.pageUrl({ ...NO_PREFETCH, cache: { budgetBytes: budget, memoryBytes: 0 } }),
  );
  await show(page, 0, 0, 8, 8);
  const s = await waitForStats(page, (x) => Number(x['evictions']) > 0 && Number(x['bytes']) <= budget);
  expect(Number(s['bytes'])).toBeLessThanOrEqual(budget);
  expect(Number(s['cache_size'])).toBeLessThan(64);
  expect(s['cache_max']).toBe(budget);
  // The newest tiles survived; an evicted old one costs a network request again.
  stack.origin.resetCounts();
  await fetchInfo(page, '/api/tiles/sample/4/7/7.jpg');
  expect(stack.origin.count()).toBe(0);
});

test('after panning one tile right, the new column needs no network request (prefetch)', async ({ page }) => {
  stack = await startSwStack({ origin: { latencyMs: 20 } });
  await openControlled(page, stack.pageUrl());
  await show(page, 2, 2, 8, 8);
  // Ring around the view (and parents) prefetched while idle.
  await waitForStats(page, (s) => Number(s['prefetched']) >= 30 && Number(s['in_flight']) === 0);
  stack.serverRequests.length = 0;
  stack.origin.resetCounts();
  const before = await stats(page);
  const shown = await show(page, 10, 2, 1, 8);
  expect(shown.filter((s) => s.ok)).toHaveLength(8);
  // Served without the network: no origin GET for the new column, and every
  // one of its tiles came out of the worker's caches (the prefetch of the
  // NEXT column, which the pan itself triggers, may already be on its way).
  for (let y = 2; y < 10; y++) expect(stack.origin.count(`sample/4/10/${y}.jpg`)).toBe(0);
  const after = await stats(page);
  expect(Number(after['cache_hits']) - Number(before['cache_hits'])).toBe(8);
  expect(Number(after['cache_misses']) - Number(before['cache_misses'])).toBe(0);
  const s = await stats(page);
  expect(Number(s['prefetch_used'])).toBeGreaterThanOrEqual(8);
});

test('an aborted tile in one tab does not cancel its twin in another', async ({ context }) => {
  stack = await startSwStack({ origin: { latencyMs: 600 } });
  const [a, b] = [await context.newPage(), await context.newPage()];
  await openControlled(a, stack.pageUrl(NO_PREFETCH));
  await openControlled(b, stack.pageUrl(NO_PREFETCH));
  stack.origin.resetCounts();
  const url = '/api/tiles/sample/4/5/6.jpg';
  const [ia, ib] = await Promise.all([fetchInfo(a, url, {}, 150), fetchInfo(b, url)]);
  expect(ia.error).toBe('AbortError');
  expect(ib.status).toBe(200);
  expect(ib.sum).toBe(sum((await sampleTiles())['sample/4/5/6.jpg']!));
  expect(stack.origin.count('sample/4/5/6.jpg')).toBe(1);
});

test('a <video> seek plays from cached chunks with exact 206s', async ({ page }) => {
  const video = await sampleVideo();
  stack = await startSwStack({ origin: { files: { 'videos/sample.mp4': video } } });
  await openControlled(page, stack.pageUrl({ video: { chunkBytes: 64 * 1024 } }));
  const total = video.byteLength;

  // Exact ranges, checked against the file.
  const mid = await fetchInfo(page, '/api/video/sample.mp4', { headers: { Range: 'bytes=70000-140000' } });
  expect(mid.status).toBe(206);
  expect(mid.contentRange).toBe(`bytes 70000-140000/${total}`);
  expect(mid.length).toBe(70001);
  expect(mid.sum).toBe(sum(video.subarray(70000, 140001)));
  const tail = await fetchInfo(page, '/api/video/sample.mp4', { headers: { Range: 'bytes=-1000' } });
  expect(tail.contentRange).toBe(`bytes ${total - 1000}-${total - 1}/${total}`);
  expect(tail.sum).toBe(sum(video.subarray(total - 1000)));
  const past = await fetchInfo(page, '/api/video/sample.mp4', { headers: { Range: `bytes=${total}-` } });
  expect(past.status).toBe(416);
  expect(past.contentRange).toBe(`bytes */${total}`);

  const playable = await page.evaluate(() =>
    (globalThis as unknown as Doc).document
      .getElementById('video')
      .canPlayType('video/mp4; codecs="avc1.42E01E"'),
  );
  // Playwright's own Chromium build has no H.264: skipped there on a developer's machine, but never
  // in CI, where the seek half must run (Debian's chromium, which `npm test` installs, plays it).
  if (process.env['CI'])
    expect(playable, 'this Chromium cannot decode H.264: the seek test needs one that can').not.toBe('');
  test.skip(playable === '', 'this Chromium cannot decode H.264');
  // Play through once so every chunk is cached, then seek back: no network.
  await page.evaluate(async () => {
    const v = (globalThis as unknown as Doc).document.getElementById('video');
    v.src = '/api/video/sample.mp4';
    await new Promise<void>((r, j) => {
      v.oncanplay = () => r();
      v.onerror = () => j(new Error(`video error ${v.error?.code}`));
    });
    v.playbackRate = 16;
    await v.play();
    await new Promise<void>((r) => {
      v.onended = () => r();
    });
  });
  await waitForStats(page, (s) => Number(s['in_flight']) === 0);
  stack.serverRequests.length = 0;
  stack.origin.resetCounts();
  const played = await page.evaluate(async () => {
    const v = (globalThis as unknown as Doc).document.getElementById('video');
    v.currentTime = 2;
    await new Promise<void>((r) => {
      v.onseeked = () => r();
    });
    v.playbackRate = 1;
    await v.play();
    await new Promise((r) => setTimeout(r, 400));
    v.pause();
    return v.currentTime;
  });
  expect(played).toBeGreaterThan(2);
  // The media element may answer that seek from its own buffer without asking at all, so
  // the worker's chunk cache is also read directly: a range inside the played file.
  const again = await fetchInfo(page, '/api/video/sample.mp4', { headers: { Range: 'bytes=100000-200000' } });
  expect(again.status).toBe(206);
  expect(again.sum).toBe(sum(video.subarray(100000, 200001)));
  expect(stack.serverRequests.filter((r) => r.url.startsWith('/api/video/'))).toHaveLength(0);
  const s = await stats(page);
  expect(Number(s['video_chunk_hits'])).toBeGreaterThan(0);
});

test('acc.clear(dataset) and a server cache-clear both make cached tiles fetch again', async ({ page }) => {
  stack = await startSwStack({ stack: { config: { ownerToken: 'owner-secret' } } });
  await openControlled(page, stack.pageUrl(NO_PREFETCH));
  const a = '/api/tiles/sample/4/1/2.jpg';
  await fetchInfo(page, a);
  await waitForStats(page, (s) => Number(s['cache_size']) >= 1);
  expect((await fetchInfo(page, a)).source).toBe('sw-memory');

  const removed = await page.evaluate(() =>
    (globalThis as unknown as { acc: { clear(d: string): Promise<number> } }).acc.clear('sample'),
  );
  expect(removed).toBe(1);
  stack.origin.resetCounts();
  expect((await fetchInfo(page, a)).source).toBe('batch');
  await waitForStats(page, (s) => Number(s['cache_size']) >= 1);

  // The server's cache-clear bumps its generation; the next batch tells the worker.
  const res = await fetch(`${stack.serverUrl}/api/tiles/sample/cache-clear`, {
    method: 'POST',
    headers: { Authorization: 'Bearer owner-secret' },
  });
  expect(res.status).toBe(200);
  await fetchInfo(page, '/api/tiles/sample/4/2/2.jpg');
  await waitForStats(page, (s) => Number(s['cache_size']) === 1);
  const before = stack.batchRequests();
  const again = await fetchInfo(page, a);
  // Asked from the server again (whatever the server then does with its own cache).
  expect(again.source).toBe('batch');
  expect(stack.batchRequests()).toBe(before + 1);
});
