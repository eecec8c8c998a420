import { expect, test } from '@playwright/test';
import { openControlled, type SwStack, startSwStack, stats, waitForStats } from './swStack.js';

// The companion behind API_TOKEN: the worker forwards a fetch-based viewer's
// Authorization, keeps credentialed tiles apart, and leaves what it cannot
// authenticate to the browser (the page sees the server's own 401).

type Info = { status?: number; source?: string | null; decodes?: boolean; error?: string };

const TOKEN = 'e2e-secret';
const NO_PREFETCH = { prefetch: { enabled: false } };

let stack: SwStack | undefined;
test.afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const fetchInfo = (page: import('@playwright/test').Page, url: string, init: RequestInit = {}) =>
  page.evaluate(
    ([u, i]) => (globalThis as unknown as { fetchInfo(...a: unknown[]): Promise<Info> }).fetchInfo(u, i),
    [url, init] as const,
  );

test('with API_TOKEN: a credentialed fetch is batched with its token, kept apart, and a request without one gets the server 401', async ({
  page,
}) => {
  stack = await startSwStack({ stack: { config: { apiToken: TOKEN } } });
  const seen: Array<{ url: string; authorization: string | undefined }> = [];
  stack.server.server.on('request', (req) =>
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization }),
  );
  await openControlled(page, stack.pageUrl(NO_PREFETCH));
  const url = '/api/tiles/sample/4/2/3.jpg';
  const bearer = { headers: { Authorization: `Bearer ${TOKEN}` } };

  const first = await fetchInfo(page, url, bearer);
  expect(first).toMatchObject({ status: 200, source: 'batch', decodes: true });
  const batches = seen.filter((r) => r.url.includes('/batch'));
  expect(batches.map((r) => r.authorization)).toEqual([`Bearer ${TOKEN}`]);

  const again = await fetchInfo(page, url, bearer);
  expect(again).toMatchObject({ status: 200, source: 'sw-memory', decodes: true });

  // No credential: never the credentialed copy; the worker's own batch is refused,
  // and the page gets the server's answer to its own request.
  seen.length = 0;
  const anonymous = await fetchInfo(page, url);
  expect(anonymous.status).toBe(401);
  expect(seen.filter((r) => r.url.includes('/batch'))).toHaveLength(1);
  expect(seen.filter((r) => r.url === url)).toHaveLength(1); // the fail-safe fetch(event.request), alone
  const s = await stats(page);
  expect(s['fallbacks']).toBe(1);

  // A wrong token is refused too, and not answered from the good token's copy.
  const wrong = await fetchInfo(page, url, { headers: { Authorization: 'Bearer nope' } });
  expect(wrong.status).not.toBe(200);

  // Nothing of it reached Cache Storage or the index (writes would land ~30 ms after a tile).
  await page.waitForTimeout(300);
  await waitForStats(page, (x) => x['cache_size'] === 0);
  const stored = await page.evaluate(async () => {
    // The e2e tsconfig has no DOM lib: the bits of CacheStorage used here.
    const cs = (
      globalThis as unknown as {
        caches: { keys(): Promise<string[]>; open(n: string): Promise<{ keys(): Promise<unknown[]> }> };
      }
    ).caches;
    let n = 0;
    for (const name of await cs.keys()) n += (await (await cs.open(name)).keys()).length;
    return n;
  });
  expect(stored).toBe(0);
});
