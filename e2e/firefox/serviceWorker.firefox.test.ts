import { afterEach, expect, test } from 'vitest';
import { type SwStack, sampleTiles, sampleVideo, startSwStack } from '../sw/swStack.js';
import { describeFirefox, useFirefox } from './firefoxLane.js';
import { holdKey } from './heldKey.js';
import { controlled, digest, fetchInfo, openControlled, show, stats, waitForStats } from './swPage.js';

// The worker's promises (e2e/sw/serviceWorker.spec.ts in Chromium) in Firefox,
// which, unlike Chromium, sends every <img> of a controlled page through the
// worker, reloads included. Verdicts are counts and bytes; grouping is
// controlled (a batch that leaves at exactly 64 tiles, a held server key),
// never inferred from how fast something ran.

const NO_PREFETCH = { prefetch: { enabled: false } };
/** The batch leaves when its 64th tile arrives (a barrier), not after a quiet gap: 1 s gaps, 5 s cap. */
const ONE_BATCH_OF_64 = { ...NO_PREFETCH, batch: { maxTiles: 64, windowMs: 1000, maxWaitMs: 5000 } };
const tileUrls = (n: number) =>
  Array.from({ length: n * n }, (_, i) => `/api/tiles/sample/4/${i % n}/${Math.floor(i / n)}.jpg`);

let stack: SwStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describeFirefox('service worker in Firefox', () => {
  const ff = useFirefox();

  test('64 <img> tiles: one batch request, one origin GET per tile, the bytes the origin holds', async () => {
    stack = await startSwStack({ origin: { latencyMs: 40 } });
    const page = await ff.newPage();
    await openControlled(page, stack.pageUrl(ONE_BATCH_OF_64));
    stack.serverRequests.length = 0;
    stack.origin.resetCounts();
    const shown = await show(page, 0, 0, 8, 8);
    expect(shown.filter((s) => s.ok)).toHaveLength(64);
    const s = await stats(page);
    expect(stack.batchRequests(), JSON.stringify(s)).toBe(1);
    // No tile went to the server alone, and each reached the origin once.
    expect(stack.serverRequests.filter((r) => /\/api\/tiles\/sample\/4\//.test(r.url))).toHaveLength(0);
    expect(stack.origin.count()).toBe(64);
    for (const url of tileUrls(8)) expect(stack.origin.count(url.slice('/api/tiles/'.length))).toBe(1);
    expect(s['cache_misses']).toBe(64);
    expect(s['batch_tiles']).toBe(64);
    // Byte for byte what the origin holds, now from the worker (no request more).
    const tiles = await sampleTiles();
    for (const url of tileUrls(8)) {
      const i = await fetchInfo(page, url);
      expect(i.status).toBe(200);
      expect(i.sum, url).toBe(digest(tiles[url.slice('/api/tiles/'.length)]!));
    }
    expect(stack.origin.count()).toBe(64);
    expect(stack.batchRequests()).toBe(1);
    expect(ff.errors).toEqual([]);
  });

  test('the same tile in two tabs: one origin GET, one server request, the second tab joins the first', async () => {
    const held = holdKey('sample/4/3/3.jpg');
    stack = await startSwStack({ stack: { wrapEngine: held.wrap } });
    const ctx = await ff.newContext();
    const [a, b] = [await ff.newPage(ctx), await ff.newPage(ctx)];
    await openControlled(a, stack.pageUrl(NO_PREFETCH));
    await openControlled(b, stack.pageUrl(NO_PREFETCH));
    stack.serverRequests.length = 0;
    stack.origin.resetCounts();
    const url = '/api/tiles/sample/4/3/3.jpg';
    const first = fetchInfo(a, url);
    // Barrier: tab A's request is in the server, held; only then does tab B ask.
    await held.arrived();
    const second = fetchInfo(b, url);
    await waitForStats(b, "tab B's request joining tab A's", (s) => s['coalesced'] === 1);
    held.release();
    const want = digest((await sampleTiles())['sample/4/3/3.jpg']!);
    for (const i of await Promise.all([first, second])) {
      expect(i.status).toBe(200);
      expect(i.sum).toBe(want);
    }
    expect(stack.origin.count('sample/4/3/3.jpg')).toBe(1);
    // (Firefox may also ask for /favicon.ico, which the worker does not handle.)
    const api = stack.serverRequests.filter((r) => r.url.startsWith('/api/'));
    expect(api, JSON.stringify(stack.serverRequests)).toHaveLength(1);
    const s = await stats(a);
    expect(s['total_requests']).toBe(2);
    expect(s['cache_misses']).toBe(1);
  });

  test('a reload is answered by the worker: every tile reaches it, none reaches the server', async () => {
    stack = await startSwStack();
    const page = await ff.newPage();
    await openControlled(page, stack.pageUrl(NO_PREFETCH));
    await show(page, 0, 0, 8, 8);
    await waitForStats(page, '64 tiles in the persistent cache', (s) => Number(s['cache_size']) >= 64);
    await page.reload();
    await controlled(page);
    stack.serverRequests.length = 0;
    stack.origin.resetCounts();
    const before = await stats(page);
    const shown = await show(page, 0, 0, 8, 8);
    expect(shown.filter((s) => s.ok)).toHaveLength(64);
    expect(stack.serverRequests.filter((r) => r.url.startsWith('/api/'))).toHaveLength(0);
    expect(stack.origin.count()).toBe(0);
    const after = await stats(page);
    // Firefox intercepts each <img> of a controlled page on a reload (its image
    // cache does not answer before the worker, unlike Chromium's): all 64 are
    // the worker's hits, none a miss.
    expect(Number(after['cache_hits']) - Number(before['cache_hits'])).toBe(64);
    expect(Number(after['cache_misses']) - Number(before['cache_misses'])).toBe(0);
    expect(ff.errors).toEqual([]);
  });

  test('with the server stopped, cached tiles are still served by the worker; an uncached one fails', async () => {
    stack = await startSwStack();
    const page = await ff.newPage();
    await openControlled(page, stack.pageUrl(NO_PREFETCH));
    await show(page, 0, 0, 4, 4);
    await waitForStats(page, '16 tiles in the persistent cache', (s) => Number(s['cache_size']) >= 16);
    await stack.server.close();
    const tiles = await sampleTiles();
    for (const [x, y] of [
      [0, 0],
      [3, 3],
      [2, 1],
    ]) {
      const i = await fetchInfo(page, `/api/tiles/sample/4/${x}/${y}.jpg`);
      expect(i.status).toBe(200);
      expect(i.decodes).toBe(true);
      expect(i.sum).toBe(digest(tiles[`sample/4/${x}/${y}.jpg`]!));
    }
    // <img>s too: a new document would need the server, so the same page shows them again.
    const shown = await show(page, 0, 0, 4, 4);
    expect(shown.filter((s) => s.ok)).toHaveLength(16);
    const missing = await fetchInfo(page, '/api/tiles/sample/4/9/9.jpg');
    expect(missing.status ?? 0).not.toBe(200);
  });

  test('a <video> seek through the worker: exact 206s, and the played range is served from its chunks', async () => {
    const video = await sampleVideo();
    const total = video.byteLength;
    stack = await startSwStack({ origin: { files: { 'videos/sample.mp4': video } } });
    const page = await ff.newPage();
    await openControlled(page, stack.pageUrl({ video: { chunkBytes: 64 * 1024 } }));
    const mid = await fetchInfo(page, '/api/video/sample.mp4', { headers: { Range: 'bytes=70000-140000' } });
    expect(mid.status).toBe(206);
    expect(mid.contentRange).toBe(`bytes 70000-140000/${total}`);
    expect(mid.length).toBe(70001);
    expect(mid.sum).toBe(digest(video.subarray(70000, 140001)));
    const tail = await fetchInfo(page, '/api/video/sample.mp4', { headers: { Range: 'bytes=-1000' } });
    expect(tail.contentRange).toBe(`bytes ${total - 1000}-${total - 1}/${total}`);
    expect(tail.sum).toBe(digest(video.subarray(total - 1000)));
    const past = await fetchInfo(page, '/api/video/sample.mp4', { headers: { Range: `bytes=${total}-` } });
    expect(past.status).toBe(416);

    // Firefox plays H.264 through the system's libavcodec (Debian's firefox-esr depends on it).
    const playable = await page.evaluate(() =>
      (globalThis as unknown as VideoDoc).document
        .getElementById('video')
        .canPlayType('video/mp4; codecs="avc1.42E01E"'),
    );
    expect(playable, 'this Firefox cannot decode H.264: the seek test needs one that can').not.toBe('');
    const requestsBefore = Number((await stats(page))['video_requests']);
    // Play through once (every chunk cached), then seek back to 2 s and play on.
    const played = await page.evaluate(async () => {
      const v = (globalThis as unknown as VideoDoc).document.getElementById('video');
      const deadline = <T>(what: string, p: Promise<T>) =>
        Promise.race([
          p,
          new Promise<T>((_, j) => setTimeout(() => j(new Error(`video: no ${what} within 30 s`)), 30_000)),
        ]);
      v.src = '/api/video/sample.mp4';
      await deadline(
        'canplay',
        new Promise<void>((r, j) => {
          v.oncanplay = () => r();
          v.onerror = () => j(new Error(`video error ${v.error?.code}`));
        }),
      );
      v.playbackRate = 16;
      await v.play();
      await deadline('ended', new Promise<void>((r) => (v.onended = () => r())));
      v.currentTime = 2;
      await deadline('seeked', new Promise<void>((r) => (v.onseeked = () => r())));
      v.playbackRate = 1;
      await v.play();
      // Until the playhead moved past the seek point (a condition, not a duration).
      await deadline(
        'progress after the seek',
        new Promise<void>((r) => {
          v.ontimeupdate = () => v.currentTime > 2.1 && r();
        }),
      );
      v.pause();
      return v.currentTime;
    });
    expect(played).toBeGreaterThan(2);
    const s = await stats(page);
    // The element's own requests went through the worker.
    expect(Number(s['video_requests'])).toBeGreaterThan(requestsBefore);
    await waitForStats(page, 'video chunks settled', (x) => Number(x['in_flight']) === 0);
    stack.serverRequests.length = 0;
    // A range inside the played file, from the worker's chunks: no server request.
    const again = await fetchInfo(page, '/api/video/sample.mp4', {
      headers: { Range: 'bytes=100000-200000' },
    });
    expect(again.status).toBe(206);
    expect(again.sum).toBe(digest(video.subarray(100000, 200001)));
    expect(stack.serverRequests.filter((r) => r.url.startsWith('/api/video/'))).toHaveLength(0);
    expect(Number((await stats(page))['video_chunk_hits'])).toBeGreaterThan(0);
    expect(ff.errors).toEqual([]);
  });
});

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
  ontimeupdate: (() => void) | null;
  play(): Promise<void>;
  pause(): void;
  canPlayType(t: string): string;
}
type VideoDoc = { document: { getElementById(id: string): VideoLike } };
