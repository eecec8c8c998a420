// Navigation-session bench (`npm run bench -- --only=session`, issues 13 and 17):
// OpenSeadragon and Leaflet each replay one fixed session (sessionScript.ts)
// over HTTP/2 through nginx (the shipped site, a throwaway certificate) in front
// of the companion server, the mocked origin at 40 ms in its own process. Paths:
// no worker, Workbox CacheFirst, ours in Chromium; the same plus the in-memory
// floor worker in Firefox. Every session runs on a dataset name nobody asked for
// before (cold in the browser, nginx's cache and the server's memory). Chromium
// also: a second tab opening the same image mid-session, and a revisit in a new
// tab after the HTTP cache was cleared (worker and its caches kept).
//
// For iterating on one part: SESSION_ENGINES=chromium,firefox,
// SESSION_VIEWERS=osd,leaflet, SESSION_PATHS=none,workbox,ours,map,
// SESSION_RUNS=N, SESSION_EXTRAS=0 narrow the run (the report says so).
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BrowserContext, chromium } from 'playwright-core';
import { firefoxPath, launchFirefox } from '../../e2e/firefox/launchFirefox.js';
import { type NginxEdge, nginxVersion, startNginxEdge } from '../../e2e/harness/nginxEdge.js';
import { type Stack, startStack } from '../../e2e/harness/startStack.js';
import { type Proc, spawnNode } from '../server/processes.js';
import type { BenchContext } from '../types.js';
import { type Meters, measureSession, SETTLE_MS, type SessionRun, sessionCost } from './measureSession.js';
import { type ExtrasRun, renderReport } from './report.js';
import { openSessionPage, openStep, replaySession, type SwMode, type Viewer } from './runSession.js';
import { datasetNames, sessionStaticDir, writePyramid } from './sessionAssets.js';
import { sessionPlot } from './sessionPlot.js';
import { VIEW } from './sessionScript.js';
import { COUNTS_PATH, meterServer } from './trafficMeter.js';

const LATENCY = 40;
/** The step the second tab opens the image alongside (the first pan). */
const SECOND_TAB_STEP = 4;
const PAGE_VIEWPORT = { width: VIEW.width + 40, height: VIEW.height + 40 };
export const PLOT_FILE = 'BENCHMARKS-session.svg';

const list = <T extends string>(env: string | undefined, all: readonly T[]): T[] =>
  env ? all.filter((x) => env.split(',').includes(x)) : [...all];

export default async function sessionBench(ctx: BenchContext): Promise<string> {
  const engines = list(process.env.SESSION_ENGINES, ['chromium', 'firefox'] as const);
  const viewers = list(process.env.SESSION_VIEWERS, ['osd', 'leaflet'] as const);
  const runs = Number(process.env.SESSION_RUNS ?? (ctx.quick ? 1 : 3));
  const extras = process.env.SESSION_EXTRAS !== '0';
  const narrowed = ['SESSION_ENGINES', 'SESSION_VIEWERS', 'SESSION_PATHS', 'SESSION_RUNS', 'SESSION_EXTRAS']
    .filter((k) => process.env[k] !== undefined)
    .map((k) => `${k}=${process.env[k]}`);
  const dir = await sessionStaticDir(ctx.root);
  const pyramid = await writePyramid(ctx.root);
  const nextDataset = datasetNames(pyramid.root);
  let origin: Proc | undefined;
  let stack: Stack | undefined;
  let edge: NginxEdge | undefined;
  try {
    origin = await spawnNode(
      ctx.root,
      'e2e/mockOrigin/cli.ts',
      ['--root', pyramid.root, '--latency', String(LATENCY), '--counts-path', COUNTS_PATH],
      {},
    );
    stack = await startStack({ config: { staticDir: dir, r2PublicUrl: origin.url } });
    edge = await startNginxEdge({ upstream: stack.serverUrl });
    const meter = meterServer(stack.server.server);
    const meters: Meters = { originUrl: origin.url, server: meter, sizes: pyramid.sizes };
    const env = { ctx, edge, meters, nextDataset, viewers, runs };
    const chromiumRuns: SessionRun[] = [];
    const firefoxRuns: SessionRun[] = [];
    const extrasRuns: ExtrasRun[] = [];
    if (engines.includes('chromium')) {
      if (!ctx.chromiumPath) throw new Error('session bench: no Chromium on this machine');
      const paths = list(process.env.SESSION_PATHS, ['none', 'workbox', 'ours'] as const);
      await runChromium(env, paths, extras, chromiumRuns, extrasRuns);
    }
    let firefoxNote = '';
    if (engines.includes('firefox')) {
      if (!firefoxPath)
        firefoxNote = 'Firefox rows skipped: no Firefox on this machine (FIREFOX_PATH, firefox-esr).';
      else {
        const paths = list(process.env.SESSION_PATHS, ['none', 'map', 'workbox', 'ours'] as const);
        await runFirefox(env, paths, firefoxRuns);
      }
    }
    meter.stop();
    const svg = sessionPlot(chromiumRuns, firefoxRuns);
    await writeFile(path.join(ctx.root, PLOT_FILE), svg);
    return renderReport({
      chromium: chromiumRuns,
      firefox: firefoxRuns,
      extras: extrasRuns,
      runs,
      latency: LATENCY,
      nginx: await nginxVersion(),
      originConcurrency: stack.config.originConcurrency,
      plotFile: PLOT_FILE,
      narrowed,
      firefoxNote,
    });
  } finally {
    await edge?.stop();
    await stack?.close();
    await origin?.stop().catch(() => {});
    await rm(pyramid.root, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
}

interface Env {
  ctx: BenchContext;
  edge: NginxEdge;
  meters: Meters;
  nextDataset: () => Promise<string>;
  viewers: Viewer[];
  runs: number;
}

async function runChromium(
  env: Env,
  paths: SwMode[],
  extras: boolean,
  out: SessionRun[],
  extrasOut: ExtrasRun[],
): Promise<void> {
  const { ctx, edge, meters } = env;
  const browser = await chromium.launch({
    executablePath: ctx.chromiumPath,
    // Service workers need the certificate trusted, not only ignored.
    args: [...ctx.chromiumArgs, ...edge.chromiumArgs],
    headless: true,
  });
  const session = async (mode: SwMode, viewer: Viewer, record: boolean) => {
    const dataset = await env.nextDataset();
    const context = await browser.newContext({ viewport: PAGE_VIEWPORT });
    try {
      const page = await context.newPage();
      await openSessionPage(page, edge.url, viewer, mode, dataset);
      const r = await measureSession(page, meters, { engine: 'chromium', viewer, mode, dataset });
      if (record) out.push(r);
      return r;
    } finally {
      await context.close();
    }
  };
  try {
    // nginx's connections to the server and the server's origin pool warm, as in a running deployment.
    for (const v of env.viewers) await session('none', v, false);
    for (let it = 0; it < env.runs; it++) {
      for (let k = 0; k < paths.length; k++) {
        const mode = paths[(it + k) % paths.length]!;
        for (const viewer of env.viewers) {
          const r = await session(mode, viewer, true);
          ctx.log(
            `session: chromium ${viewer} ${mode} run ${it + 1}/${env.runs}: ${r.total.toFixed(0)} ms, ${r.originGets} origin GETs`,
          );
        }
      }
    }
    if (!extras) return;
    for (const mode of paths) {
      for (const viewer of env.viewers) {
        const context = await browser.newContext({ viewport: PAGE_VIEWPORT });
        try {
          extrasOut.push(await secondTabAndRevisit(env, context, mode, viewer));
        } finally {
          await context.close();
        }
        const e = extrasOut.at(-1)!;
        ctx.log(
          `session: chromium ${viewer} ${mode} extras: second tab ${e.secondTab.loaded.toFixed(0)} ms, revisit ${e.revisit.total.toFixed(0)} ms`,
        );
      }
    }
  } finally {
    await browser.close();
  }
}

/**
 * Tile bytes and requests that went over the network from the context's pages
 * and worker since `sinceEpochMs` (Resource Timing `transferSize`; the worker
 * outlives the tabs, so its older entries are left out by start time).
 */
async function networkTiles(
  context: BrowserContext,
  sinceEpochMs: number,
): Promise<{ requests: number; bytes: number }> {
  const script = `(() => {
    let requests = 0, bytes = 0;
    for (const e of performance.getEntriesByType('resource')) {
      if (performance.timeOrigin + e.startTime < ${sinceEpochMs}) continue;
      if (!e.name.includes('/api/tiles/') || !(e.transferSize > 0)) continue;
      requests++;
      bytes += e.transferSize;
    }
    return { requests, bytes };
  })()`;
  let requests = 0;
  let bytes = 0;
  const targets: Array<{ evaluate(expression: string): Promise<unknown> }> = [
    ...context.pages(),
    ...context.serviceWorkers(),
  ];
  for (const t of targets) {
    const r = (await t.evaluate(script)) as { requests: number; bytes: number };
    requests += r.requests;
    bytes += r.bytes;
  }
  return { requests, bytes };
}

async function secondTabAndRevisit(
  env: Env,
  context: BrowserContext,
  mode: SwMode,
  viewer: Viewer,
): Promise<ExtrasRun> {
  const { edge, meters } = env;
  const dataset = await env.nextDataset();
  const tab1 = await context.newPage();
  await openSessionPage(tab1, edge.url, viewer, mode, dataset);
  // The second tab in a window of its own (a popup of the first): a page of
  // the context opened later in the same window is the front tab, and
  // headless Chromium then draws the first at about one frame a second once
  // its canvas has content, which stalls OpenSeadragon (it updates per frame).
  const [tab2] = await Promise.all([
    context.waitForEvent('page'),
    tab1.evaluate(
      `window.open('/session.html?viewer=${viewer}&sw=${mode}&ds=${dataset}', '_blank', 'popup,width=${PAGE_VIEWPORT.width},height=${PAGE_VIEWPORT.height}')`,
    ),
  ]);
  await tab2.waitForLoadState();
  if (!(await tab2.evaluate('window.ready')))
    throw new Error(`${mode}: the second tab's worker did not take control`);
  let secondTab: Awaited<ReturnType<typeof openStep>> | undefined;
  const session = await measureSession(
    tab1,
    meters,
    { engine: 'chromium', viewer, mode, dataset },
    {
      step: SECOND_TAB_STEP,
      run: async () => {
        secondTab = await openStep(tab2);
      },
    },
    () => tab2.evaluate('window.shownTiles()') as Promise<string[]>,
  );
  if (!secondTab) throw new Error('session: the second tab never opened');
  await tab1.close();
  await tab2.close();
  // The revisit: a new tab of the same profile after the browser's HTTP cache
  // was emptied; the worker's registration and its caches stay.
  const tab3 = await context.newPage();
  const cdp = await context.newCDPSession(tab3);
  await cdp.send('Network.clearBrowserCache');
  await cdp.detach();
  const before = { origin: session.originGets, server: meters.server.of(dataset).bytes, at: Date.now() };
  await openSessionPage(tab3, edge.url, viewer, mode, dataset);
  const steps = await replaySession(tab3);
  await sleep(SETTLE_MS);
  const after = await sessionCost(meters, dataset, new Set());
  const net = await networkTiles(context, before.at);
  return {
    viewer,
    mode,
    secondTab,
    session,
    revisit: {
      steps,
      total: steps.reduce((a, s) => a + s.loaded, 0),
      originGets: after.originGets - before.origin,
      serverBytes: after.serverBytes - before.server,
      networkRequests: net.requests,
      networkBytes: net.bytes,
    },
  };
}

async function runFirefox(env: Env, paths: SwMode[], out: SessionRun[]): Promise<void> {
  const { ctx, edge, meters } = env;
  const session = async (mode: SwMode, viewer: Viewer) => {
    // A fresh Firefox per session: a fresh profile (no caches, no worker).
    const dataset = await env.nextDataset();
    const browser = await launchFirefox({ acceptInsecureCerts: true });
    try {
      const page = await browser.newPage();
      await page.setViewport(PAGE_VIEWPORT);
      await openSessionPage(page, edge.url, viewer, mode, dataset);
      return await measureSession(page, meters, { engine: 'firefox', viewer, mode, dataset });
    } finally {
      await browser.close().catch(() => {});
    }
  };
  // Firefox's first start on this machine (and the server, when Chromium did not run) warm.
  await session('none', env.viewers[0] ?? 'osd');
  for (let it = 0; it < env.runs; it++) {
    for (let k = 0; k < paths.length; k++) {
      const mode = paths[(it + k) % paths.length]!;
      for (const viewer of env.viewers) {
        const r = await session(mode, viewer);
        out.push(r);
        ctx.log(
          `session: firefox ${viewer} ${mode} run ${it + 1}/${env.runs}: ${r.total.toFixed(0)} ms, ${r.originGets} origin GETs`,
        );
      }
    }
  }
}
