import { expect, type Page, test } from '@playwright/test';
import { type PageServer, startPageServer } from './pageServer.js';
import { type SwStack, startSwStack, stats, waitForStats } from './swStack.js';

// The page (and so the worker) on one origin, the companion on another: the
// worker's `server` option names the companion, the viewer's tile URLs are
// absolute URLs on the companion, and only CORS_ORIGINS decides whether the
// worker may read the companion's answers.

type Shown = Array<{ x: number; y: number; ok: boolean }>;

let stack: SwStack | undefined;
let pages: PageServer | undefined;
test.afterEach(async () => {
  await stack?.close();
  await pages?.close();
  stack = undefined;
  pages = undefined;
});

async function startCrossOrigin(cors: (pageOrigin: string) => string[]) {
  let root = '';
  pages = await startPageServer(() => root);
  stack = await startSwStack({ stack: { config: { corsOrigins: cors(pages.url) } } });
  root = stack.staticDir;
  return { stack, pages };
}

function pageUrl(p: PageServer, s: SwStack): string {
  const config = { server: s.serverUrl, prefetch: { enabled: false } };
  return `${p.url}/sw-page.html?config=${encodeURIComponent(JSON.stringify(config))}`;
}

async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  const controlled = await page.evaluate(() => (globalThis as unknown as { ready: Promise<boolean> }).ready);
  expect(controlled).toBe(true);
}

/** Plain <img>s (no crossorigin attribute) whose src is the companion's absolute tile URL. */
function showAt(page: Page, base: string, cols: number, rows: number): Promise<Shown> {
  return page.evaluate(
    ([b, c, r]) => {
      const d = (globalThis as unknown as { document: Doc }).document;
      const waits: Promise<{ x: number; y: number; ok: boolean }>[] = [];
      for (let y = 0; y < r; y++) {
        for (let x = 0; x < c; x++) {
          const img = d.createElement('img');
          waits.push(
            new Promise((resolve) => {
              img.onload = () => resolve({ x, y, ok: img.naturalWidth > 0 });
              img.onerror = () => resolve({ x, y, ok: false });
            }),
          );
          img.src = `${b}/api/tiles/sample/4/${x}/${y}.jpg`;
          d.body.appendChild(img);
        }
      }
      return Promise.all(waits);
    },
    [base, cols, rows] as const,
  );
}

/** The bits of the DOM used inside page.evaluate (the e2e tsconfig has no DOM lib). */
interface Doc {
  createElement(tag: 'img'): {
    naturalWidth: number;
    src: string;
    onload: (() => void) | null;
    onerror: (() => void) | null;
  };
  body: { appendChild(n: unknown): void };
}

/** A CORS-mode fetch() from the page; the X-Tile-Source it saw, or the error's name. */
function fetchFrom(
  page: Page,
  url: string,
): Promise<{ status?: number; source?: string | null; error?: string }> {
  return page.evaluate(async (u) => {
    try {
      const res = await fetch(u);
      await res.arrayBuffer();
      return { status: res.status, source: res.headers.get('X-Tile-Source') };
    } catch (e) {
      return { error: (e as Error).name };
    }
  }, url);
}

const apiRequests = (s: SwStack) => s.serverRequests.filter((r) => r.url.startsWith('/api/'));
const batchPosts = (s: SwStack) =>
  s.serverRequests.filter((r) => r.method === 'POST' && r.url === '/api/tiles/sample/batch').length;

test('cross-origin companion with CORS: tiles come through the batch route and a reload is served from the cache', async ({
  page,
}) => {
  const { stack: s, pages: p } = await startCrossOrigin((origin) => [origin]);
  expect(new URL(p.url).origin).not.toBe(new URL(s.serverUrl).origin);
  await open(page, pageUrl(p, s));
  s.serverRequests.length = 0;
  s.origin.resetCounts();

  const shown = await showAt(page, s.serverUrl, 4, 4);
  expect(shown.filter((t) => t.ok)).toHaveLength(16);
  const st = await stats(page);
  // All 16 went through the binary batch route: no single-tile GET, no fallback.
  expect(batchPosts(s)).toBeGreaterThanOrEqual(1);
  expect(batchPosts(s), JSON.stringify(st)).toBeLessThanOrEqual(2);
  expect(s.serverRequests.filter((r) => r.url.startsWith('/api/tiles/sample/4/'))).toHaveLength(0);
  // Only preflights besides the batches (POST with a JSON body is not a simple request).
  const other = apiRequests(s).filter((r) => r.method !== 'POST');
  expect(other.every((r) => r.method === 'OPTIONS')).toBe(true);
  expect(s.origin.count()).toBe(16);
  expect(st['batch_tiles']).toBe(16);
  expect(st['cache_misses']).toBe(16);
  expect(st['fallbacks']).toBe(0);
  expect(st['batch_failures']).toBe(0);
  // The page's own server never saw a tile request.
  expect(p.requests.filter((u) => u.startsWith('/api/'))).toHaveLength(0);

  // A CORS fetch() from the page of a new tile reads the worker's header.
  const fresh = await fetchFrom(page, `${s.serverUrl}/api/tiles/sample/4/9/9.jpg`);
  expect(fresh).toEqual({ status: 200, source: 'batch' });

  await waitForStats(page, (x) => Number(x['cache_size']) >= 17);
  await page.reload();
  expect(await page.evaluate(() => (globalThis as unknown as { ready: Promise<boolean> }).ready)).toBe(true);
  s.serverRequests.length = 0;
  s.origin.resetCounts();
  const again = await showAt(page, s.serverUrl, 4, 4);
  expect(again.filter((t) => t.ok)).toHaveLength(16);
  expect(apiRequests(s)).toHaveLength(0);
  expect(s.origin.count()).toBe(0);
  const cached = await fetchFrom(page, `${s.serverUrl}/api/tiles/sample/4/9/9.jpg`);
  expect(['sw-memory', 'sw-cache']).toContain(cached.source);
  expect(apiRequests(s)).toHaveLength(0);
});

test('cross-origin companion without CORS for the page origin: <img> tiles still render through the fallback', async ({
  page,
}) => {
  const { stack: s, pages: p } = await startCrossOrigin(() => ['http://other.invalid']);
  await open(page, pageUrl(p, s));
  s.serverRequests.length = 0;
  s.origin.resetCounts();

  const shown = await showAt(page, s.serverUrl, 2, 2);
  expect(shown.filter((t) => t.ok)).toHaveLength(4);
  // The worker could not read the companion's answers (no Access-Control-Allow-Origin
  // for this page): the batch fails, the single fetches fail, and the fail-safe
  // hands each <img> request to the browser as it came (no-cors, an opaque answer
  // the <img> can show). Nothing is cached: the worker never had the bytes.
  const st = await waitForStats(page, (x) => Number(x['fallbacks']) === 4);
  expect(st['batch_failures']).toBeGreaterThanOrEqual(1);
  expect(st['cache_size']).toBe(0);
  expect(st['batch_tiles']).toBe(4);
  // The server's own cache answered the repeats: one origin GET per tile.
  expect(s.origin.count()).toBe(4);
  expect(s.serverRequests.filter((r) => r.method === 'POST')).toHaveLength(0); // the preflight was refused

  // Having seen that (no answer for its CORS fetch, an opaque one for the
  // browser's), the worker leaves this companion's URLs to the browser: the
  // next tiles cost one plain GET each, as without a worker.
  s.serverRequests.length = 0;
  s.origin.resetCounts();
  const more = await page.evaluate(
    (b) =>
      Promise.all(
        [0, 1, 2, 3].map(
          (x) =>
            new Promise<boolean>((resolve) => {
              const img = (globalThis as unknown as { document: Doc }).document.createElement('img');
              img.onload = () => resolve(img.naturalWidth > 0);
              img.onerror = () => resolve(false);
              img.src = `${b}/api/tiles/sample/4/${x}/5.jpg`;
            }),
        ),
      ),
    s.serverUrl,
  );
  expect(more).toEqual([true, true, true, true]);
  expect(s.serverRequests.map((r) => `${r.method} ${r.url}`).sort()).toEqual(
    [0, 1, 2, 3].map((x) => `GET /api/tiles/sample/4/${x}/5.jpg`),
  );
  const after = await stats(page);
  expect(after['total_requests']).toBe(4); // not claimed by the worker
  expect(after['fallbacks']).toBe(4);
  // A CORS fetch() from the page fails as it would without the worker.
  expect(await fetchFrom(page, `${s.serverUrl}/api/tiles/sample/4/3/3.jpg`)).toEqual({ error: 'TypeError' });
});
