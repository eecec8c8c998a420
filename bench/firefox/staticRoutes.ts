// Chromium's Service Worker Static Routing API (`InstallEvent.addRoutes`), which
// Firefox 153 lacks, measured where it could help: a warm view in a new
// browser session (memory cache empty, tiles in Cache Storage, the worker not
// running). A reload never needs it (Chromium's memory cache answers before
// any worker or route: bench/sw's warm column), and a first visit cannot use
// it (a `cache` route sends a miss to the network, past the worker's batcher).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { fmt, median } from '../sw/pageDriver.js';
import type { BenchContext } from '../types.js';

export const CS_SW = `self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
let seen = 0;
self.addEventListener('message', (e) => e.source.postMessage({ seen }));
self.addEventListener('fetch', (e) => {
  if (!new URL(e.request.url).pathname.startsWith('/api/tiles/')) return;
  seen++;
  e.respondWith(caches.open('tiles').then((c) => c.match(e.request)).then((hit) => hit ?? fetch(e.request)));
});
`;

/** The same worker with a static route: tiles from Cache Storage without a fetch event. */
export const ROUTES_SW = `self.addEventListener('install', (e) => {
  self.skipWaiting();
  if (e.addRoutes) e.waitUntil(e.addRoutes({ condition: { urlPattern: new URLPattern({ pathname: '/api/tiles/*' }) }, source: { cacheName: 'tiles' } }));
  else throw new Error('no InstallEvent.addRoutes in this browser');
});
${CS_SW.split('\n').slice(1).join('\n')}`;

type Mode = 'none' | 'cs' | 'routes';
const MODES: Mode[] = ['none', 'cs', 'routes'];

/** The page for this measurement: registers `/<mode>-sw.js` and times a viewport of <img>s. */
export const ROUTES_PAGE = `<!doctype html><html><head><meta charset="utf-8"></head><body><div id="grid" style="line-height:0"></div>
<script type="module">
  const mode = new URLSearchParams(location.search).get('sw');
  window.ready = (async () => {
    if (mode === 'none') return true;
    await navigator.serviceWorker.register('/' + mode + '-sw.js', { scope: '/' });
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller)
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    return true;
  })();
  const urls = (z, x0, y0, n) => { const u = []; for (let y = y0; y < y0 + n; y++) for (let x = x0; x < x0 + n; x++) u.push('/api/tiles/bench/' + z + '/' + x + '/' + y + '.jpg'); return u; };
  /** Session 1 for the workers: the page itself stores the tiles (a cache route never lets the worker see them). */
  window.store = async (z, x0, y0, n) => { const c = await caches.open('tiles'); await c.addAll(urls(z, x0, y0, n)); };
  /** Tile fetch events the worker saw (0 when a route answered them). */
  window.seen = () => new Promise((r) => {
    navigator.serviceWorker.addEventListener('message', (e) => r(e.data.seen), { once: true });
    navigator.serviceWorker.controller.postMessage('seen');
  });
  window.viewport = async (z, x0, y0, n) => {
    const t0 = performance.now();
    await Promise.all(urls(z, x0, y0, n).map((u) => new Promise((res, rej) => {
      const img = new Image(16, 16); img.onload = res; img.onerror = () => rej(new Error(u)); img.src = u;
      document.getElementById('grid').appendChild(img);
    })));
    return performance.now() - t0;
  };
</script></body></html>`;

/**
 * Per mode and run: session 1 stores one viewport (the worker's Cache Storage,
 * or for `none` the HTTP disk cache by showing it), the browser closes;
 * session 2 on the same profile opens the page and shows that viewport.
 * Returns the session-2 times and the tile requests the server saw in session 2.
 */
export async function measureStaticRoutes(
  ctx: BenchContext,
  serverUrl: string,
  serverRequests: () => number,
  z: number,
  n: number,
  slot: () => readonly [number, number],
): Promise<{ rows: string[]; note: string }> {
  if (!ctx.chromiumPath) return { rows: [], note: 'Static routes: not measured (no Chromium).' };
  const iterations = ctx.quick ? 2 : 5;
  const times: Record<Mode, number[]> = { none: [], cs: [], routes: [] };
  const server: Record<Mode, number> = { none: 0, cs: 0, routes: 0 };
  const events: Record<Mode, number> = { none: 0, cs: 0, routes: 0 };
  for (let it = 0; it < iterations; it++) {
    for (const mode of MODES) {
      const profile = await mkdtemp(path.join(tmpdir(), 'tile-routes-profile-'));
      const [x0, y0] = slot();
      const launch = async () => {
        const c = await chromium.launchPersistentContext(profile, {
          executablePath: ctx.chromiumPath,
          args: ctx.chromiumArgs,
          headless: true,
        });
        const page = c.pages()[0] ?? (await c.newPage());
        await page.goto(`${serverUrl}/routes.html?sw=${mode}`);
        await page.evaluate('window.ready');
        return { c, page };
      };
      try {
        const one = await launch();
        if (mode === 'none') await one.page.evaluate(`window.viewport(${z}, ${x0}, ${y0}, ${n})`);
        else await one.page.evaluate(`window.store(${z}, ${x0}, ${y0}, ${n})`);
        await one.c.close();
        const two = await launch();
        const before = serverRequests();
        times[mode].push((await two.page.evaluate(`window.viewport(${z}, ${x0}, ${y0}, ${n})`)) as number);
        server[mode] += serverRequests() - before;
        if (mode !== 'none') events[mode] += (await two.page.evaluate('window.seen()')) as number;
        await two.c.close();
      } finally {
        await rm(profile, { recursive: true, force: true });
      }
      ctx.log(`firefox/static routes: ${it + 1}/${iterations} ${mode}: ${times[mode].at(-1)!.toFixed(0)} ms`);
    }
  }
  const label: Record<Mode, string> = {
    none: 'no worker (HTTP disk cache)',
    cs: 'worker answering from Cache Storage in its fetch handler',
    routes: 'the same worker with a static route to Cache Storage (`addRoutes`, no fetch event)',
  };
  return {
    rows: MODES.map(
      (m) =>
        `| ${label[m]} | ${fmt(times[m])} | ${(median(times[m]) / median(times.cs)).toFixed(2)}× | ${m === 'none' ? '–' : events[m]} | ${server[m]} |`,
    ),
    note: `Chromium ${iterations} runs, each a fresh profile: session 1 stores the viewport, the browser closes, session 2 (same profile) opens the page and shows it.`,
  };
}
