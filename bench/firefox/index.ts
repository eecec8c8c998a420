// Firefox bench (`npm run bench -- --only=firefox`): a cold 64-tile <img>
// viewport and a warm reload of it in Debian's firefox-esr (puppeteer-core,
// WebDriver BiDi), with no worker, two floor workers (bench/firefox/floorWorkers.ts),
// Workbox CacheFirst (bench/sw/workboxCacheFirstSw.ts) and ours. Firefox,
// unlike Chromium, sends every <img> of a controlled page through the worker
// on a reload too: the warm column is where the worker costs, the cold one
// where it gains.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { firefoxPath, launchFirefox } from '../../e2e/firefox/launchFirefox.js';
import { type Stack, startStack } from '../../e2e/harness/startStack.js';
import { type Proc, spawnNode } from '../server/processes.js';
import { staticDir as swStaticDir, tiles } from '../sw/benchAssets.js';
import { BENCH_PAGE } from '../sw/benchPage.js';
import { fmt, median, viewportSlots } from '../sw/pageDriver.js';
import type { BenchContext } from '../types.js';
import { MAP_SW, PASS_SW } from './floorWorkers.js';
import { CS_SW, measureStaticRoutes, ROUTES_PAGE, ROUTES_SW } from './staticRoutes.js';
import { writeLinkedTree } from './tileTree.js';

const Z = 6;
const N = 8;
const LATENCY = 40;
/** 64 cold tiles are one origin round (the default is 32 on a 2-core machine). */
const ORIGIN_CONCURRENCY = 128;
const WARM_RELOADS = 3;
const MODES = ['none', 'pass', 'map', 'workbox', 'ours'] as const;
type Mode = (typeof MODES)[number];
const LABEL: Record<Mode, string> = {
  none: 'no service worker',
  pass: 'worker that intercepts and answers nothing (no respondWith)',
  map: "minimal worker answering from a Map in memory (the engine's floor)",
  workbox: 'Workbox CacheFirst worker',
  ours: 'tile accelerator worker (ours, defaults)',
};

/** bench/sw's page registers `/wb-sw.js` for any worker but ours; here the floor workers have their own scripts. */
function benchPage(): string {
  const from = "navigator.serviceWorker.register('/wb-sw.js'";
  if (!BENCH_PAGE.includes(from)) throw new Error('bench/sw/benchPage.ts changed: update bench/firefox');
  return BENCH_PAGE.replace(
    from,
    "navigator.serviceWorker.register(mode === 'workbox' ? '/wb-sw.js' : '/' + mode + '-sw.js'",
  );
}

/** bench/sw's static dir (bundles, Workbox worker, its page) plus this section's page and workers. */
async function staticDir(root: string): Promise<string> {
  const dir = await swStaticDir(root);
  await writeFile(path.join(dir, 'bench-ff.html'), benchPage());
  await writeFile(path.join(dir, 'map-sw.js'), MAP_SW);
  await writeFile(path.join(dir, 'pass-sw.js'), PASS_SW);
  await writeFile(path.join(dir, 'routes.html'), ROUTES_PAGE);
  await writeFile(path.join(dir, 'cs-sw.js'), CS_SW);
  await writeFile(path.join(dir, 'routes-sw.js'), ROUTES_SW);
  return dir;
}

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

/** Warm tiles shown, how many reached the worker (-1: this worker cannot say), tile requests the server saw. */
type Sources = { n: number; worker: number; server: number };

/**
 * Tiles that reached the page's worker so far: ours from its stats, the floor
 * workers by message; undefined for Workbox and no worker. (Firefox leaves
 * Resource Timing's workerStart at 0 here, so it cannot tell.)
 */
const workerSeen = (page: Page, mode: Mode): Promise<number | undefined> =>
  mode === 'ours'
    ? (page.evaluate('window.acc.stats().then((s) => s.total_requests)') as Promise<number>)
    : mode === 'map' || mode === 'pass'
      ? (page.evaluate(`new Promise((resolve) => {
          navigator.serviceWorker.addEventListener('message', (e) => resolve(e.data.seen), { once: true });
          navigator.serviceWorker.controller.postMessage('seen');
        })`) as Promise<number>)
      : Promise.resolve(undefined);

export default async function firefoxBench(ctx: BenchContext): Promise<string> {
  if (!firefoxPath) return '## Firefox\n\nSkipped: no Firefox on this machine (FIREFOX_PATH, firefox-esr).\n';
  const dir = await staticDir(ctx.root);
  const originRoot = await writeLinkedTree(await tiles(ctx.root, Z));
  let origin: Proc | undefined;
  let stack: Stack | undefined;
  try {
    // The origin in its own process, as in bench/sw (a real origin is another machine).
    origin = await spawnNode(
      ctx.root,
      'e2e/mockOrigin/cli.ts',
      ['--root', originRoot, '--latency', String(LATENCY)],
      {},
    );
    stack = await startStack({
      config: { staticDir: dir, r2PublicUrl: origin.url, originConcurrency: ORIGIN_CONCURRENCY },
    });
    return await run(ctx, stack);
  } finally {
    await stack?.close();
    await origin?.stop().catch(() => {});
    await rm(originRoot, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
}

async function run(ctx: BenchContext, stack: Stack): Promise<string> {
  const iterations = ctx.quick ? 2 : 5;
  // No run sees another's tiles, prefetch ring or parents: every cold tile is an origin fetch.
  const next = viewportSlots('bench/firefox');
  // Warm the server's origin pool once, as a running server would be.
  await fetch(`${stack.serverUrl}/api/tiles/bench/batch`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ tiles: Array.from({ length: 64 }, (_, i) => `${Z - 1}/${i % 8}/${i >> 3}.jpg`) }),
  }).then((r) => r.arrayBuffer());

  const cold = Object.fromEntries(MODES.map((m) => [m, [] as number[]])) as Record<Mode, number[]>;
  const warm = Object.fromEntries(MODES.map((m) => [m, [] as number[]])) as Record<Mode, number[]>;
  const from = Object.fromEntries(MODES.map((m) => [m, { n: 0, worker: 0, server: 0 }])) as Record<
    Mode,
    Sources
  >;
  // Tile requests the server saw (single GETs and batch POSTs alike).
  let serverTiles = 0;
  stack.server.server.on('request', (req) => {
    if ((req.url ?? '').startsWith('/api/tiles/')) serverTiles++;
  });
  for (let it = 0; it < iterations; it++) {
    for (const mode of MODES) {
      // A fresh browser per path and run: a fresh profile (HTTP and image
      // caches empty, no worker installed).
      const browser = await launchFirefox();
      try {
        const page = await browser.newPage();
        await open(page, `${stack.serverUrl}/bench-ff.html?sw=${mode}`, mode);
        const [x0, y0] = next();
        cold[mode].push(await viewport(page, x0, y0));
        for (let r = 0; r < WARM_RELOADS; r++) {
          await page.reload();
          await ready(page, mode);
          // Each path the same time to settle (our worker's write-behind).
          await new Promise((res) => setTimeout(res, 300));
          const seen0 = await workerSeen(page, mode);
          const server0 = serverTiles;
          warm[mode].push(await viewport(page, x0, y0));
          const seen1 = await workerSeen(page, mode);
          from[mode].n += N * N;
          from[mode].worker =
            seen0 === undefined || seen1 === undefined ? -1 : from[mode].worker + seen1 - seen0;
          from[mode].server += serverTiles - server0;
        }
      } finally {
        await browser.close().catch(() => {});
      }
      const w = warm[mode].slice(-WARM_RELOADS).map((x) => x.toFixed(0));
      ctx.log(
        `firefox: iteration ${it + 1}/${iterations} ${mode}: cold ${cold[mode].at(-1)!.toFixed(0)} ms, warm ${w.join('/')} ms`,
      );
    }
  }
  const routes = await measureStaticRoutes(ctx, stack.serverUrl, () => serverTiles, Z, N, next);
  return report(iterations, cold, warm, from, routes);
}

async function open(page: Page, url: string, mode: Mode): Promise<void> {
  await page.goto(url);
  await ready(page, mode);
}

async function ready(page: Page, mode: Mode): Promise<void> {
  const ok = await page.evaluate('window.ready');
  if (!ok) throw new Error(`${mode}: the worker did not take control`);
  if (mode !== 'none') {
    const controlled = await page.evaluate('navigator.serviceWorker.controller !== null');
    if (!controlled) throw new Error(`${mode}: the page is not controlled`);
  }
}

const viewport = (page: Page, x0: number, y0: number) =>
  page.evaluate(`window.viewport(${Z}, ${x0}, ${y0}, ${N})`) as Promise<number>;

function report(
  iterations: number,
  cold: Record<Mode, number[]>,
  warm: Record<Mode, number[]>,
  from: Record<Mode, Sources>,
  routes: { rows: string[]; note: string },
): string {
  const m = (xs: number[]) => median(xs);
  const perTile = (mode: Mode) => ((m(warm[mode]) - m(warm.none)) / (N * N)).toFixed(1);
  const rows = MODES.map(
    (mode) =>
      `| ${LABEL[mode]} | ${fmt(cold[mode])} | ${ratio(m(cold[mode]), m(cold.none))} | ${fmt(warm[mode])} | ${ratio(m(warm[mode]), m(warm.map))} | ${perTile(mode)} | ${from[mode].worker < 0 ? '–' : from[mode].worker}/${from[mode].n} · ${from[mode].server} |`,
  );
  const coldOk = m(cold.ours) <= 0.7 * m(cold.none);
  const warmOk = m(warm.ours) <= 1.2 * m(warm.map);
  const verdict = [
    `cold: ours ${ratio(m(cold.ours), m(cold.none))} of no worker (target ≤ 0.70×) — ${coldOk ? 'met' : 'NOT met'}`,
    `warm reload: ours ${ratio(m(warm.ours), m(warm.map))} of the minimal in-memory worker (target ≤ 1.20×) — ${warmOk ? 'met' : 'NOT met'}`,
    `warm reload vs no worker: ours ${m(warm.ours).toFixed(0)} ms vs ${m(warm.none).toFixed(0)} ms; a worker that answers nothing still costs ${m(warm.pass).toFixed(0)} ms: the cost is Firefox's interception of each tile, not the worker's answer`,
    `net per visit (one cold view + one reload of it): ours ${(m(cold.ours) + m(warm.ours)).toFixed(0)} ms vs no worker ${(m(cold.none) + m(warm.none)).toFixed(0)} ms`,
  ];
  return [
    '## Firefox',
    `Time until all ${N * N} \`<img>\` tiles (256 px JPEG) of a viewport have loaded in headless Firefox (firefox-esr, puppeteer-core over WebDriver BiDi), ms, median (min–max) of ${iterations} fresh profiles; mocked origin at ${LATENCY} ms latency behind the companion server.`,
    '| path | cold viewport (first visit) | vs no worker | warm (reload, same viewport) | vs minimal worker | warm cost per tile over no worker, ms | warm tiles that reached the worker · tile requests the server saw |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    verdict.map((v) => `- ${v}`).join('\n'),
    '',
    '### Chromium: a warm view in a new session, with and without a static route',
    'Same 64-tile viewport, ms, median (min–max); in session 2: tile fetch events the worker saw, tile requests the server saw.',
    '| path | warm view, new session | vs fetch handler | fetch events | server requests |',
    '| --- | --- | --- | --- | --- |',
    ...routes.rows,
    '',
    routes.note,
    '',
    `Method: one fresh Firefox (fresh temporary profile) per path and run, each run on a viewport no earlier run touched (the server fetches every cold tile from the origin; its origin pool warmed once, \`ORIGIN_CONCURRENCY=${ORIGIN_CONCURRENCY}\`; the origin in its own process). Warm = reload, wait 300 ms, show the same viewport, ${WARM_RELOADS} times per run (median of all). The per-tile column is (warm − warm without a worker) / ${N * N}. Tiles that reached the worker: ours from its stats (\`total_requests\`), the floor workers count their fetch events (Workbox: not counted); server requests from the server's own log.`,
  ].join('\n');
}
