// Page-side benchmarks (issue 5), one run, side by side in headless Chromium:
// 1. main-thread busy time while viewports of tiles load, the codecs running in
//    the worker pool against the same code on the main thread (`?decode=main`);
// 2. GPU texture bytes for the same view, BC1 against RGBA8.
// The demo (dist/public) is served by the companion server in front of the
// mocked origin (5 ms); the service worker is off so only decoding differs.
import { type Browser, chromium, type Page } from 'playwright-core';
import { startDemoStack } from '../../e2e/demo/demoStack.js';
import type { BenchContext } from '../types.js';

interface Hook {
  renderer: string;
  frame(): {
    complete: boolean;
    visible: number;
    level: number;
    cam: { cx: number; cy: number; zoom: number };
  };
  camera(): { cx: number; cy: number; zoom: number };
  store(): { uploads: number; textureBytes: number; ready: number };
}

const VIEWS: ReadonlyArray<readonly [number, number]> = [
  [1300, 1300],
  [4096, 3571],
  [6800, 5800],
  [6800, 1300],
  [1300, 5800],
];

async function waitComplete(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const d = (globalThis as { __demo?: Hook }).__demo;
      const f = d?.frame();
      if (!d || !f) return false;
      const c = d.camera();
      return f.cam.cx === c.cx && f.cam.cy === c.cy && f.cam.zoom === c.zoom && f.complete && f.visible > 0;
    },
    undefined,
    { timeout: 60_000 },
  );
}

async function open(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.addInitScript(`
    window.__longTasks = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push(e.duration); })
      .observe({ type: 'longtask' });
  `);
  await page.goto(url);
  await waitComplete(page);
  return page;
}

interface BusyResult {
  tiles: number;
  busyMs: number;
  cpuMs: number;
  wallMs: number;
  longTasks: number;
  maxLongMs: number;
}

/** Main-thread task time (CDP Performance.TaskDuration) while `views` full-resolution viewports load. */
async function mainThreadBusy(browser: Browser, url: string, views: number): Promise<BusyResult> {
  const page = await open(browser, url);
  try {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    // TaskDuration: wall time of main-thread tasks; ThreadTime: CPU time of the main thread.
    // On a shared machine wall time also counts time the thread waited for a core.
    const metric = async (name: string) => {
      const { metrics } = await cdp.send('Performance.getMetrics');
      return metrics.find((m) => m.name === name)?.value ?? 0;
    };
    const taskSeconds = () => metric('TaskDuration');
    const cpuSeconds = () => metric('ThreadTime');
    await page.waitForTimeout(300);
    const uploads0 = (await page.evaluate('window.__demo.store().uploads')) as number;
    await page.evaluate('window.__longTasks = []');
    const busy0 = await taskSeconds();
    const cpu0 = await cpuSeconds();
    const t0 = Date.now();
    for (const [cx, cy] of VIEWS.slice(0, views)) {
      await page.evaluate(`window.__demo.setCamera({ cx: ${cx}, cy: ${cy}, zoom: 5 })`);
      await waitComplete(page);
    }
    const wallMs = Date.now() - t0;
    const busyMs = ((await taskSeconds()) - busy0) * 1000;
    const cpuMs = ((await cpuSeconds()) - cpu0) * 1000;
    const long = (await page.evaluate('window.__longTasks')) as number[];
    const tiles = ((await page.evaluate('window.__demo.store().uploads')) as number) - uploads0;
    return {
      tiles,
      busyMs,
      cpuMs,
      wallMs,
      longTasks: long.filter((d) => d > 50).length,
      maxLongMs: Math.max(0, ...long),
    };
  } finally {
    await page.close();
  }
}

async function textureBytes(
  browser: Browser,
  url: string,
): Promise<{ renderer: string; tiles: number; bytes: number }> {
  const page = await open(browser, url);
  try {
    await page.evaluate('window.__demo.setCamera({ cx: 4096, cy: 3571, zoom: 5 })');
    await waitComplete(page);
    return (await page.evaluate(
      '({ renderer: window.__demo.renderer, tiles: window.__demo.store().ready, bytes: window.__demo.store().textureBytes })',
    )) as { renderer: string; tiles: number; bytes: number };
  } finally {
    await page.close();
  }
}

const ms = (n: number) => n.toFixed(0);

/** The repetition with the median main-thread CPU time. */
function median(rs: BusyResult[]): BusyResult {
  return [...rs].sort((a, b) => a.cpuMs - b.cpuMs)[Math.floor(rs.length / 2)]!;
}
const mib = (n: number) => (n / 2 ** 20).toFixed(2);

export default async function clientBench(ctx: BenchContext): Promise<string> {
  const stack = await startDemoStack();
  const browser = await chromium.launch({
    ...(ctx.chromiumPath ? { executablePath: ctx.chromiumPath } : {}),
    args: ctx.chromiumArgs,
  });
  try {
    const views = ctx.quick ? 2 : VIEWS.length;
    const base = `${stack.serverUrl}/?sw=off`;
    const configs = [
      ['BC1 upload, decode + encode in the worker pool', ''],
      ['BC1 upload, decode + encode on the main thread', '&decode=main'],
      ['BC1 `high` upload, decode + encode in the worker pool', '&quality=high'],
      ['BC1 `high` upload, decode + encode on the main thread', '&quality=high&decode=main'],
      ['RGBA8 upload, decode in the worker pool', '&renderer=webgl-rgba'],
      ['RGBA8 upload, decode on the main thread', '&renderer=webgl-rgba&decode=main'],
    ] as const;
    // One discarded load warms the browser (SwiftShader shader compile, WASM compile, server cache).
    await mainThreadBusy(browser, base, 1);
    const reps = ctx.quick ? 1 : 3;
    const results: BusyResult[][] = configs.map(() => []);
    // Interleaved repetitions, median reported: the machine's load drifts during a run.
    for (let rep = 0; rep < reps; rep++) {
      for (const [i, [label, q]] of configs.entries()) {
        ctx.log(`client: main-thread busy, ${label} (${rep + 1}/${reps})`);
        results[i]!.push(await mainThreadBusy(browser, base + q, views));
      }
    }
    const rows = configs.map(([label], i) => {
      const r = median(results[i]!);
      return `| ${label} | ${r.tiles} | ${ms(r.cpuMs)} | ${(r.cpuMs / Math.max(1, r.tiles)).toFixed(1)} | ${ms(r.busyMs)} | ${ms(r.wallMs)} | ${r.longTasks} | ${ms(r.maxLongMs)} |`;
    });
    ctx.log('client: texture bytes');
    const bc1 = await textureBytes(browser, base);
    const rgba = await textureBytes(browser, `${base}&renderer=webgl-rgba`);
    const ratio = bc1.bytes > 0 ? (rgba.bytes / bc1.bytes).toFixed(1) : 'n/a';
    return `## Client: worker pool and GPU textures

Main-thread busy time (median of ${ctx.quick ? 1 : 3} interleaved runs) while ${views} full-resolution 1280×800 viewports of the sample load one after another
(about 20 new 256-px JPEG tiles each), service worker off so only decoding differs.

| path | tiles | main-thread CPU (ms) | CPU per tile (ms) | main-thread task wall time (ms) | load wall (ms) | long tasks > 50 ms | longest task (ms) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

GPU texture memory for the same view (the level-5 view at the image centre plus the tiles loaded on the way there):

| upload format | renderer | tiles resident | texture bytes (MiB) |
| --- | --- | ---: | ---: |
| BC1 (COMPRESSED_RGB_S3TC_DXT1) | ${bc1.renderer} | ${bc1.tiles} | ${mib(bc1.bytes)} |
| RGBA8 | ${rgba.renderer} | ${rgba.tiles} | ${mib(rgba.bytes)} |

RGBA8 / BC1 = ${ratio}×. Method: Playwright drives the built demo (\`window.__demo\` hook) in headless Chromium
(SwiftShader WebGL); main-thread CPU is CDP \`Performance.ThreadTime\` and task wall time \`TaskDuration\` across the loads, long tasks from a
\`PerformanceObserver('longtask')\`; "main thread" runs the pool's own decoder module on the page. Shared
2-core machine: compare rows, not absolute values.`;
  } finally {
    await browser.close();
    await stack.close();
  }
}
