// Service-worker bench (bench/run.ts runs this): a cold 64-tile viewport with
// no worker, a plain Workbox CacheFirst worker, and ours; warm viewports; and
// the physical limit, all against the mocked origin at 40 ms latency. Then the
// same cold viewport through nginx (the shipped site, TLS, HTTP/2 and HTTP/1.1)
// in front of the server, and with the old ORIGIN_CONCURRENCY default.
import { rm, symlink } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { type NginxEdge, nginxVersion, startNginxEdge } from '../../e2e/harness/nginxEdge.js';
import { type Stack, startStack } from '../../e2e/harness/startStack.js';
import { type Proc, spawnNode } from '../server/processes.js';
import type { BenchContext } from '../types.js';
import { staticDir, tiles, writeTiles } from './benchAssets.js';
import { browserCpuMs } from './browserCpuMs.js';
import { EDGE_DATASETS, edgePaths, edgeRows, milestoneRows, runEdgeIteration } from './edgePaths.js';
import {
  fmt,
  type Mode,
  median,
  openPage,
  showCounts,
  tileSources,
  viewport as viewportOf,
  viewportSlots,
} from './pageDriver.js';

const Z = 6;
const N = 8;
const LATENCY = 40;
/** ORIGIN_CONCURRENCY's default before issue 13: 32 on 2 cores (two origin rounds for 64 tiles). */
const OLD_DEFAULT_CONCURRENCY = Math.min(availableParallelism() * 16, 256);
/** Reloads per run for the warm column. */
const WARM_RELOADS = 3;

const viewport = (page: Page, x0: number, y0: number) => viewportOf(page, 'bench', Z, x0, y0, N);

export default async function swBench(ctx: BenchContext): Promise<string> {
  if (!ctx.chromiumPath) return '## Service worker\n\nSkipped: no Chromium on this machine.\n';
  const dir = await staticDir(ctx.root);
  // The origin runs in its own process (a real origin is another machine):
  // in the server's process its per-request work (and the Playwright
  // driver's) sat on the server's event loop and was counted as server time.
  const originRoot = await writeTiles(await tiles(ctx.root, Z));
  for (const d of EDGE_DATASETS) await symlink(path.join(originRoot, 'bench'), path.join(originRoot, d));
  let origin: Proc | undefined;
  const stacks: Stack[] = [];
  const edges: NginxEdge[] = [];
  try {
    origin = await spawnNode(
      ctx.root,
      'e2e/mockOrigin/cli.ts',
      ['--root', originRoot, '--latency', String(LATENCY)],
      {},
    );
    // The server with its defaults (64 cold tiles are one origin round for the
    // stated limit: one origin latency), and one with the old default.
    const base = { staticDir: dir, r2PublicUrl: origin.url };
    stacks.push(await startStack({ config: base }));
    stacks.push(await startStack({ config: { ...base, originConcurrency: OLD_DEFAULT_CONCURRENCY } }));
    for (const s of stacks) edges.push(await startNginxEdge({ upstream: s.serverUrl }));
    return await run(ctx, { stack: stacks[0]!, old: stacks[1]!, edge: edges[0]!, oldEdge: edges[1]! });
  } finally {
    for (const e of edges) await e.stop();
    for (const s of stacks) await s.close();
    await origin?.stop().catch(() => {});
    await rm(originRoot, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
}

interface Env {
  /** The server with its default config. */
  stack: Stack;
  /** The server with ORIGIN_CONCURRENCY at the old default. */
  old: Stack;
  /** nginx with the shipped site in front of each. */
  edge: NginxEdge;
  oldEdge: NginxEdge;
}

async function run(ctx: BenchContext, env: Env): Promise<string> {
  const { stack, edge } = env;
  const iterations = ctx.quick ? 2 : 5;
  const browser = await chromium.launch({
    executablePath: ctx.chromiumPath,
    // Both nginx instances share nothing but the certificate's SPKI list; service
    // workers need the certificate trusted, not just ignored (no `ignoreHTTPSErrors`).
    args: [...ctx.chromiumArgs, `--ignore-certificate-errors-spki-list=${env.edge.spki},${env.oldEdge.spki}`],
    headless: true,
  });
  try {
    // Viewports 9 tiles apart (7 × 7 slots in level 6): never overlapping, never
    // in each other's prefetch ring (one tile) nor sharing parents.
    let slot = 0;
    const next = () => {
      const i = slot++;
      if (i >= 49) throw new Error('sw bench: out of untouched viewports');
      return [(i % 7) * 9 + 1, Math.floor(i / 7) * 9 + 1] as const;
    };
    // Warm each server's origin pool once, as a running server would be.
    for (const s of [stack, env.old]) {
      await fetch(`${s.serverUrl}/api/tiles/bench/batch`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          tiles: Array.from(
            { length: 64 },
            (_, i) => `${Z - 1}/${31 - (i % 8)}/${31 - Math.floor(i / 8)}.jpg`,
          ),
        }),
      }).then((r) => r.arrayBuffer());
    }
    // And nginx's keep-alive connections to the servers: one viewport through each listener.
    const slots = new Map<string, () => readonly [number, number]>();
    const warmSlots = viewportSlots('warm');
    for (const base of [edge.url, edge.h1Url, env.oldEdge.url]) {
      const p = await openPage(browser, base, 'none');
      const [wx, wy] = warmSlots();
      await viewportOf(p, 'warm', Z, wx, wy, N);
      await p.context().close();
    }
    const oldC = env.old.config.originConcurrency;
    const newC = stack.config.originConcurrency;
    const paths = edgePaths({
      h2: edge.url,
      h1: edge.h1Url,
      oldH2: env.oldEdge.url,
      oldServer: env.old.serverUrl,
      oldConcurrency: oldC,
    });
    const { noneH2, oursH2, oldNoneH2, oldOursH2, oldOurs } = paths;

    const cpu = async <T>(fn: () => Promise<T>, into: number[]): Promise<T> => {
      const c0 = await browserCpuMs();
      const v = await fn();
      into.push((await browserCpuMs()) - c0);
      return v;
    };
    const cpuCold: number[] = [];
    const cpuCold2: number[] = [];
    const warmFrom: Record<Mode, { worker: number; network: number; n: number }> = {
      none: { worker: 0, network: 0, n: 0 },
      workbox: { worker: 0, network: 0, n: 0 },
      ours: { worker: 0, network: 0, n: 0 },
    };
    const cold: Record<Mode, number[]> = { none: [], workbox: [], ours: [] };
    const warm: Record<Mode, number[]> = { none: [], workbox: [], ours: [] };
    const cold2: Record<Mode, number[]> = { none: [], workbox: [], ours: [] };
    const coldSettled: number[] = [];
    for (let it = 0; it < iterations; it++) {
      for (const mode of ['none', 'workbox', 'ours'] as const) {
        const page = await openPage(browser, stack.serverUrl, mode);
        const [x0, y0] = next();
        cold[mode].push(await cpu(() => viewport(page, x0, y0), mode === 'ours' ? cpuCold : []));
        // Warm: the same viewport in a fresh document (reload), caches kept;
        // three reloads per run, each path given the same 300 ms to settle
        // (our worker's write-behind), so warm is a median of 3 × runs.
        for (let r = 0; r < WARM_RELOADS; r++) {
          await page.reload();
          await page.evaluate('window.ready');
          await new Promise((res) => setTimeout(res, 300));
          warm[mode].push(await viewport(page, x0, y0));
          const from = await tileSources(page);
          warmFrom[mode].n += from.n;
          warmFrom[mode].worker += from.worker;
          warmFrom[mode].network += from.network;
        }
        // A second never-seen viewport in the same page: connections open,
        // worker running and compiled (what a user panning to a new area sees).
        const [x1, y1] = next();
        cold2[mode].push(await cpu(() => viewport(page, x1, y1), mode === 'ours' ? cpuCold2 : []));
        await page.context().close();
        const warmNow = warm[mode].slice(-WARM_RELOADS).map((w) => w.toFixed(0));
        ctx.log(
          `sw: iteration ${it + 1}/${iterations} ${mode}: cold ${cold[mode].at(-1)!.toFixed(0)} ms, warm ${warmNow.join('/')} ms`,
        );
      }
      // Ours on a first visit (fresh worker install) in a context that already
      // showed a page: separates the browser's new-context cost from the worker's.
      const settled = await openPage(browser, stack.serverUrl, 'ours', true);
      const [sx, sy] = next();
      coldSettled.push(await viewport(settled, sx, sy));
      await settled.context().close();
      await runEdgeIteration(browser, paths.all, it, Z, N, slots, ctx.log);
    }

    // The physical limit: one page->server round trip carrying the 64 tiles
    // (measured warm, from the server's memory cache) plus one origin latency.
    const page = await openPage(browser, stack.serverUrl, 'none');
    const [lx, ly] = next();
    const keys = Array.from({ length: 64 }, (_, i) => `${Z}/${lx + (i % 8)}/${ly + Math.floor(i / 8)}.jpg`);
    await page.evaluate(`window.warmBatch(${JSON.stringify(keys)})`);
    const trips: number[] = [];
    for (let i = 0; i < 5; i++)
      trips.push((await page.evaluate(`window.warmBatch(${JSON.stringify(keys)})`)) as number);
    // Where the cold time goes: the same 64-tile binary batch for viewports
    // nobody asked for yet, straight from the page (server + origin, no worker).
    const coldTrips: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const [cx, cy] = next();
      const fresh = Array.from(
        { length: 64 },
        (_, j) => `${Z}/${cx + (j % 8)}/${cy + Math.floor(j / 8)}.jpg`,
      );
      coldTrips.push((await page.evaluate(`window.warmBatch(${JSON.stringify(fresh)})`)) as number);
    }
    // The best a page could do without a worker: the same cold batch feeding
    // 64 <img>s from blob URLs as frames arrive (fetch, frames and image
    // decode as in our path, minus the service worker).
    const pageImgs: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const [cx, cy] = next();
      pageImgs.push(
        (await page.evaluate(
          `window.benchBatch.viewportFromBatch('/api/tiles/bench/batch', ${Z}, ${cx}, ${cy}, ${N})`,
        )) as number,
      );
    }
    await page.context().close();
    const limit = median(trips) + LATENCY;
    // Where ours spends its time over h2: the same cold batch from the page through
    // nginx, alone and feeding the 64 <img>s (no worker).
    const h2Page = await openPage(browser, edge.url, 'none');
    const h2Slots = viewportSlots('e-page');
    const h2Trips: number[] = [];
    const h2Imgs: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const [cx, cy] = h2Slots();
      const fresh = Array.from(
        { length: 64 },
        (_, j) => `${Z}/${cx + (j % 8)}/${cy + Math.floor(j / 8)}.jpg`,
      );
      h2Trips.push((await h2Page.evaluate(`window.warmBatch(${JSON.stringify(fresh)}, 'e-page')`)) as number);
      const [ix, iy] = h2Slots();
      h2Imgs.push(
        (await h2Page.evaluate(
          `window.benchBatch.viewportFromBatch('/api/tiles/e-page/batch', ${Z}, ${ix}, ${iy}, ${N})`,
        )) as number,
      );
    }
    const h2BatchProto = (await h2Page.evaluate(
      "[...new Set(performance.getEntriesByType('resource').filter((e) => e.name.includes('/batch')).map((e) => e.nextHopProtocol))].join(', ')",
    )) as string;
    await h2Page.context().close();

    const m = (xs: number[]) => median(xs);
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
    const rows = [
      `| no service worker (browser → server, HTTP/1.1) | ${fmt(cold.none)} | 1.00× | ${ratio(m(cold.none), limit)} | ${fmt(cold2.none)} | 1.00× | ${fmt(warm.none)} |`,
      `| Workbox CacheFirst worker | ${fmt(cold.workbox)} | ${ratio(m(cold.workbox), m(cold.none))} | ${ratio(m(cold.workbox), limit)} | ${fmt(cold2.workbox)} | ${ratio(m(cold2.workbox), m(cold2.none))} | ${fmt(warm.workbox)} |`,
      `| tile accelerator worker (ours) | ${fmt(cold.ours)} | ${ratio(m(cold.ours), m(cold.none))} | ${ratio(m(cold.ours), limit)} | ${fmt(cold2.ours)} | ${ratio(m(cold2.ours), m(cold2.none))} | ${fmt(warm.ours)} |`,
      `| ours, first visit (fresh worker install) in a browser context that showed a page 1.5 s before | ${fmt(coldSettled)} | ${ratio(m(coldSettled), m(cold.none))} | ${ratio(m(coldSettled), limit)} | – | – | – |`,
      `| one cold binary batch from the page, no worker (server + origin as they run here) | ${fmt(coldTrips)} | ${ratio(m(coldTrips), m(cold.none))} | ${ratio(m(coldTrips), limit)} | – | – | – |`,
      `| one cold binary batch from the page feeding the 64 \`<img>\`s (blob URLs), no worker: the best a page can do | ${fmt(pageImgs)} | ${ratio(m(pageImgs), m(cold.none))} | ${ratio(m(pageImgs), limit)} | – | – | – |`,
      `| physical limit (warm batch round trip ${median(trips).toFixed(0)} ms + origin ${LATENCY} ms) | ${limit.toFixed(0)} | ${ratio(limit, m(cold.none))} | 1.00× | – | – | – |`,
    ];
    const verdict = [
      `ours vs no worker: ${ratio(m(cold.ours), m(cold.none))} (target ≤ 0.20×) — ${m(cold.ours) <= 0.2 * m(cold.none) ? 'met' : 'NOT met'}`,
      `ours vs physical limit: ${ratio(m(cold.ours), limit)} (target ≤ 1.5×) — ${m(cold.ours) <= 1.5 * limit ? 'met' : 'NOT met'}`,
      `cold viewport with the worker already running: ours ${ratio(m(cold2.ours), m(cold2.none))} of no worker, ${ratio(m(cold2.ours), limit)} of the limit`,
      `ours vs one cold batch fetched by the page itself: ${ratio(m(cold.ours), m(coldTrips))} (the worker's own overhead on top of the server)`,
      `ours vs the same batch feeding the <img>s from the page: first visit ${ratio(m(cold.ours), m(pageImgs))}, worker running ${ratio(m(cold2.ours), m(pageImgs))} (what the service worker itself costs)`,
      `warm ours vs warm browser HTTP cache: ${m(warm.ours).toFixed(0)} vs ${m(warm.none).toFixed(0)} ms (target: no slower) — ${m(warm.ours) <= m(warm.none) ? 'met' : 'NOT met'}; tiles of the warm viewports that reached the worker / the network: ours ${warmFrom.ours.worker}/${warmFrom.ours.n} / ${warmFrom.ours.network}/${warmFrom.ours.n}, no worker ${warmFrom.none.worker}/${warmFrom.none.n} / ${warmFrom.none.network}/${warmFrom.none.n}${warmFrom.ours.worker + warmFrom.ours.network + warmFrom.none.worker + warmFrom.none.network === 0 ? " (both answered by the renderer's in-memory image cache: the same path, so they differ by noise only)" : ''}`,
      `Chromium CPU (browser + renderers + worker, user + system) during our viewport: first visit ${fmt(cpuCold)} ms, worker running ${fmt(cpuCold2)} ms (the first visit is a new browser context's first page: its start-up work, paid without any worker too, shares the cores with the server; docs/performance.md)`,
    ];
    return [
      '## Service worker',
      `Time until all ${N * N} \`<img>\` tiles (256 px JPEG) of a viewport have loaded, ms, median (min–max) of ${iterations} runs; mocked origin at ${LATENCY} ms latency behind the companion server.`,
      '| path | cold viewport (first visit) | vs no worker | vs limit | cold viewport, worker running | vs no worker | warm (reload, same viewport) |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
      verdict.map((v) => `- ${v}`).join('\n'),
      '',
      'Method: headless Chromium (playwright-core), one fresh browser context per path and run (cold HTTP cache, fresh worker install); each run uses a viewport no earlier run touched, so the server fetches every tile from the origin (its origin connection pool was warmed once; the default `ORIGIN_CONCURRENCY=' +
        String(newC) +
        "` so 64 tiles are one origin round; the mocked origin runs in its own process). Warm = reload the page, wait 300 ms, and show the same viewport again, three times per run (median of all): the server sends `Cache-Control: public, max-age` and our worker repeats it, so on a reload both paths are answered from the renderer's in-memory image cache (the counts above say how many tiles reached the worker or the network). The limit is the page-measured round trip of one binary batch of 64 tiles already in the server memory cache, plus one origin latency. The best-a-page-can-do row inserts the same 64 `<img>`s and sets each one's `src` to a blob URL of its frame as the page's own cold batch streams in: the browser work of our path (fetch, frames, image decode) without the service worker.",
      '',
      '### Through nginx: HTTP/2 at the edge',
      `The same cold viewport with the shipped nginx site (\`deploy/nginx-tile-accelerator.conf\`, ${await nginxVersion()}, one worker process; TLS with a throwaway certificate that Chromium trusts through \`--ignore-certificate-errors-spki-list\`, service workers included) in front of the same server, ms, median (min–max) of ${iterations} runs, each in a fresh context. Each path asks for its own copy of the dataset, so every tile is cold in the browser, in nginx's cache and in the server. Protocol = \`nextHopProtocol\` (Resource Timing) of the tile requests: the page's own without a worker, the worker's with one (ours: its batches; Workbox: single tiles). nginx's upstream keep-alive connections were warmed with one viewport per listener.`,
      '| path | protocol | cold viewport (first visit) | vs no worker h2 | cold viewport, worker running | vs no worker h2 |',
      '| --- | --- | --- | --- | --- | --- |',
      ...edgeRows(paths.all, noneH2),
      `| one cold binary batch from the page, no worker, nginx HTTP/2 | ${h2BatchProto || 'none recorded'} | ${fmt(h2Trips)} | ${ratio(m(h2Trips), m(noneH2.cold))} | – | – |`,
      `| the same cold batch feeding the 64 \`<img>\`s from the page (blob URLs), nginx HTTP/2 | ${h2BatchProto || 'none recorded'} | ${fmt(h2Imgs)} | ${ratio(m(h2Imgs), m(noneH2.cold))} | – | – |`,
      '',
      "Where the cold viewport's time goes, ms after the first `<img>` was inserted (medians; Resource Timing of the page and of our worker's batch requests, on one clock):",
      '| path | last fetch event reached the worker | batch requests | first batch sent | its first byte | last batch byte | last tile response ended (page) | last `<img>` loaded |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...milestoneRows(paths.all),
      '',
      [
        `cold viewport over h2: ours ${ratio(m(oursH2.cold), m(noneH2.cold))} of no worker (target ≤ 0.70×) — ${m(oursH2.cold) <= 0.7 * m(noneH2.cold) ? 'met' : 'NOT met'}; worker running ${ratio(m(oursH2.cold2), m(noneH2.cold2))}`,
        `no worker: HTTP/2 through nginx ${ratio(m(noneH2.cold), m(cold.none))} of HTTP/1.1 straight to the server; the no-worker h2 page's tiles came over ${showCounts(noneH2.protocols)}${Object.keys(noneH2.protocols).join() === 'h2' ? ' (checked)' : ' — NOT h2 only'}`,
        `ours over h2 vs the page's own cold batch over h2: ${ratio(m(oursH2.cold), m(h2Trips))}; vs that batch feeding the <img>s: ${ratio(m(oursH2.cold), m(h2Imgs))} (what the service worker costs over h2)`,
        `ORIGIN_CONCURRENCY default ${oldC} (old) → ${newC} (new), cold viewport: ours straight to the server ${m(oldOurs.cold).toFixed(0)} → ${m(cold.ours).toFixed(0)} ms (${ratio(m(cold.ours), m(oldOurs.cold))}); ours over h2 ${m(oldOursH2.cold).toFixed(0)} → ${m(oursH2.cold).toFixed(0)} ms (${ratio(m(oursH2.cold), m(oldOursH2.cold))}); no worker over h2 ${m(oldNoneH2.cold).toFixed(0)} → ${m(noneH2.cold).toFixed(0)} ms (${ratio(m(noneH2.cold), m(oldNoneH2.cold))})`,
      ]
        .map((v) => `- ${v}`)
        .join('\n'),
    ].join('\n');
  } finally {
    await browser.close().catch(() => {});
  }
}
