import { expect, type Page, test } from '@playwright/test';
import { pino } from 'pino';
import { createTileServer, type TileServer } from '../../server/createTileServer.js';
import {
  openControlled,
  type SwStack,
  sampleTiles,
  startSwStack,
  stats,
  waitForStats,
} from '../sw/swStack.js';

// Browser-side faults: the service worker killed by the browser, storage quota
// exhausted, and the server restarted while the worker has batches in flight.
// In every case the page's <img> tiles must still arrive.

type Shown = Array<{ x: number; y: number; ok: boolean }>;
const NO_PREFETCH = { prefetch: { enabled: false } };

let stack: SwStack | undefined;
let restarted: TileServer | undefined;
test.afterEach(async () => {
  await restarted?.close();
  await stack?.close();
  restarted = undefined;
  stack = undefined;
});

/** Starts showing a cols x rows block of z=4 tiles; resolves when every <img> has loaded or failed. */
function show(page: Page, x0: number, y0: number, cols: number, rows: number): Promise<Shown> {
  return page.evaluate(
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
}

function failed(shown: Shown): Shown {
  return shown.filter((s) => !s.ok);
}

const checksum = (b: Uint8Array) => b.reduce((a, x) => (a * 31 + x) >>> 0, 7);

/**
 * After a fault: nothing is left pending in the worker, and every tile shown
 * is the true tile wherever it is now kept. Each is asked again through the
 * worker (its memory, its Cache Storage, or a new batch) and must be the
 * origin's exact bytes: no layer kept a truncated or error body.
 */
async function expectTrueTiles(page: Page, shown: Shown): Promise<Record<string, number>> {
  await waitForStats(page, (s) => Number(s['in_flight']) === 0, 10_000);
  const truth = await sampleTiles();
  const sources: Record<string, number> = {};
  for (const { x, y } of shown) {
    const key = `sample/4/${x}/${y}.jpg`;
    const info = await page.evaluate(
      (u) =>
        (globalThis as unknown as { fetchInfo(u: string): Promise<Record<string, unknown>> }).fetchInfo(u),
      `/api/tiles/${key}`,
    );
    expect(info['status'], key).toBe(200);
    expect(info['length'], key).toBe(truth[key]!.length);
    expect(info['sum'], key).toBe(checksum(truth[key]!));
    const src = String(info['source']);
    sources[src] = (sources[src] ?? 0) + 1;
  }
  return sources;
}

/** The worker's counters add up: every tile request was a hit or a miss, none is still open. */
function expectCountersAddUp(s: Record<string, number | string>): void {
  expect(Number(s['in_flight'])).toBe(0);
  expect(Number(s['cache_hits']) + Number(s['cache_misses']) + Number(s['coalesced'])).toBeGreaterThanOrEqual(
    Number(s['total_requests']) - Number(s['fallbacks']),
  );
  expect(Number(s['cache_hits']) + Number(s['cache_misses'])).toBeLessThanOrEqual(
    Number(s['total_requests']),
  );
}

test('the service worker stopped by the browser in the middle of a batch: every tile still arrives', async ({
  page,
}) => {
  stack = await startSwStack({ origin: { latencyMs: 600 } });
  await openControlled(page, stack.pageUrl(NO_PREFETCH));
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  const shown = show(page, 0, 0, 8, 4);
  // Wait until the batch has left the worker and is waiting on the slow origin, then kill the worker.
  await expect.poll(() => stack!.batchRequests(), { timeout: 5_000 }).toBeGreaterThan(0);
  await cdp.send('ServiceWorker.stopAllWorkers');
  const result = await shown;
  expect(failed(result)).toEqual([]);
  expect(result).toHaveLength(32);
  // and the worker comes back for the next tiles
  const more = await show(page, 8, 0, 4, 2);
  expect(failed(more)).toEqual([]);
  // whatever the killed worker had written is whole, and the new worker's counters add up
  await expectTrueTiles(page, [...result, ...more]);
  expectCountersAddUp(await stats(page));
});

test('storage quota exhausted: every response still reaches the page', async ({ page }) => {
  stack = await startSwStack({ origin: { latencyMs: 20 } });
  const cdp = await page.context().newCDPSession(page);
  // A 1-byte quota for the page's origin: every IndexedDB and Cache Storage write fails with QuotaExceededError.
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: stack.serverUrl, quotaSize: 1 });
  await openControlled(page, stack.pageUrl(NO_PREFETCH));
  const first = await show(page, 0, 0, 8, 4);
  expect(failed(first)).toEqual([]);
  const again = await show(page, 0, 4, 8, 4);
  expect(failed(again)).toEqual([]);
  // the fault really was in effect: nothing could be persisted
  const s = await waitForStats(page, (x) => Number(x['cache_misses']) >= 64, 5_000);
  expect(s['cache_size']).toBe(0);
  expect(Number(s['total_requests'])).toBe(64);
  expect(Number(s['cache_hits']) + Number(s['cache_misses'])).toBe(64);
  // the memory layer still serves true bytes; nothing truncated was kept
  const sources = await expectTrueTiles(page, first);
  expect(Object.keys(sources).every((k) => k === 'sw-memory' || k === 'batch')).toBe(true);
  // a reload still renders (from the network this time)
  await page.reload();
  await page.evaluate(() => (globalThis as unknown as { ready: Promise<boolean> }).ready);
  expect(failed(await show(page, 0, 0, 8, 4))).toEqual([]);
});

// A quota failure of the IndexedDB index write (the first write of a group) is counted
// and handled like one of the Cache Storage put: evict a batch, retry once.
test('storage quota exhausted: the worker counts the quota errors', async ({ page }) => {
  stack = await startSwStack({ origin: { latencyMs: 20 } });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: stack.serverUrl, quotaSize: 1 });
  await openControlled(page, stack.pageUrl(NO_PREFETCH));
  expect(failed(await show(page, 0, 0, 8, 4))).toEqual([]);
  await waitForStats(page, (x) => Number(x['quota_errors']) > 0, 3_000);
});

test('server restarted (connections cut) while the worker has batches in flight: every tile still arrives', async ({
  page,
}) => {
  // Controlled where it matters. The 32 tiles leave in one batch (maxTiles
  // 32, a window that survives 1 s quiet gaps), and the new server is built
  // before the cut, so the port refuses connections only between two
  // synchronous calls (close, then bind): far inside the worker's single-fetch
  // retries (100 + 200 ms backoff). Before, the restart itself (engine drain +
  // build, awaited while the port was closed) could outlast those retries on a
  // loaded machine, and tiles left through the pass-through fallback instead of
  // the worker's caches.
  const CUT = { ...NO_PREFETCH, batch: { maxTiles: 32, windowMs: 1000, maxWaitMs: 5000 } };
  stack = await startSwStack({ origin: { latencyMs: 800 } });
  await openControlled(page, stack.pageUrl(CUT));
  const port = Number(new URL(stack.serverUrl).port);
  const old = stack.server;
  const batchAnswers: Array<{ headersSent: boolean }> = [];
  old.server.on('request', (req, res) => {
    if (/\/api\/tiles\/[^/]+\/batch/.test(req.url ?? '')) batchAnswers.push(res);
  });
  const shown = show(page, 0, 0, 8, 4);
  // Cut once the batch's response has started (its header is sent at once,
  // its frames 800 ms later): a request cut before any byte of its answer may
  // be retried by the browser itself, and then no batch fails.
  await expect
    .poll(() => batchAnswers.some((r) => r.headersSent), {
      timeout: 20_000,
      intervals: [20],
      message: 'the server started answering the batch request',
    })
    .toBe(true);
  restarted = createTileServer({ ...stack.config, port }, { logger: pino({ level: 'silent' }) });
  // A crash, not a drain: cut every connection at once, then the new process
  // takes the same port. No await between these lines.
  old.server.closeAllConnections();
  old.server.close();
  const up = restarted.listen();
  const oldClosed = old.close();
  await up;
  const result = await shown;
  expect(failed(result), `stats: ${JSON.stringify(await stats(page))}`).toEqual([]);
  // The cut batch was counted and its tiles fetched alone from the new server; all 32 were misses.
  const s = await waitForStats(page, (x) => Number(x['in_flight']) === 0, 10_000);
  expect(Number(s['total_requests'])).toBe(32);
  expect(Number(s['cache_misses'])).toBe(32);
  expect(Number(s['batch_failures'])).toBeGreaterThanOrEqual(1);
  expect(Number(s['network_fetches'])).toBeGreaterThanOrEqual(1);
  // Every tile went through the worker (none passed through to the browser).
  expect(Number(s['fallbacks'])).toBe(0);
  expectCountersAddUp(s);
  // No layer kept a piece of the cut stream: every tile is whole, from the worker's own caches.
  const sources = await expectTrueTiles(page, result);
  expect(
    Object.keys(sources).filter((k) => k !== 'sw-memory' && k !== 'sw-cache'),
    `sources of the re-asked tiles: ${JSON.stringify(sources)}; stats: ${JSON.stringify(s)}`,
  ).toEqual([]);
  await oldClosed;
});

test('the worker never caches an error: after the origin recovers the page gets the true tile', async ({
  page,
}) => {
  const key = 'sample/4/3/3.jpg';
  stack = await startSwStack({ origin: { latencyMs: 10, status: (k) => (k === key ? 503 : undefined) } });
  await openControlled(page, stack.pageUrl(NO_PREFETCH));
  const info = (url: string) =>
    page.evaluate(
      (u) =>
        (globalThis as unknown as { fetchInfo(u: string): Promise<Record<string, unknown>> }).fetchInfo(u),
      url,
    );
  const bad = await info(`/api/tiles/${key}`);
  expect(bad['status']).toBeGreaterThanOrEqual(500);
  stack.origin.set({ status: () => undefined });
  const truth = (await sampleTiles())[key]!;
  const good = await info(`/api/tiles/${key}`);
  expect(good['status']).toBe(200);
  expect(good['length']).toBe(truth.length);
  expect(good['sum']).toBe(truth.reduce((a, b) => (a * 31 + b) >>> 0, 7));
  expect(good['decodes']).toBe(true);
});
