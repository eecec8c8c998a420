// Drives the bench page (benchPage.ts) from Playwright: opens it with one of the
// workers at a base URL (the server itself, or nginx in front of it), times a
// viewport, and says where the tiles came from and over which protocol.
import type { Browser, BrowserContext, Page } from 'playwright-core';

export type Mode = 'none' | 'workbox' | 'ours';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? Number.NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]!
      : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const fmt = (xs: number[]): string =>
  `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;

/**
 * A fresh browser context (cold HTTP cache, no worker) on `baseUrl/bench.html`
 * with `mode`'s worker installed and in control. With `settledContext`, the
 * context first shows a page without a worker and idles 1.5 s (the browser's
 * own new-context start-up work), then installs the worker fresh.
 */
export async function openPage(
  browser: Browser,
  baseUrl: string,
  mode: Mode,
  settledContext = false,
): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (settledContext) {
    await page.goto(`${baseUrl}/bench.html?sw=none`);
    await page.evaluate('window.ready');
    await new Promise((r) => setTimeout(r, 1500));
  }
  await page.goto(`${baseUrl}/bench.html?sw=${mode}`);
  const ok = await page.evaluate('window.ready');
  if (!ok) throw new Error(`${mode}: the worker did not take control`);
  return page;
}

/** Time until all `n`×`n` `<img>`s of a viewport of `dataset` at level `z` loaded (ms). */
export const viewport = (page: Page, dataset: string, z: number, x0: number, y0: number, n: number) =>
  page.evaluate(`window.viewport(${z}, ${x0}, ${y0}, ${n}, ${JSON.stringify(dataset)})`) as Promise<number>;

/** Where the last viewport's tiles came from (Resource Timing): how many reached the worker, the network. */
export const tileSources = (page: Page) =>
  page.evaluate('window.tileSources()') as Promise<{ n: number; worker: number; network: number }>;

/**
 * The protocols (`nextHopProtocol`) the tile bytes of the last viewport came
 * over, counted: the page's own tile requests without a worker, the worker's
 * requests (batches for ours, single tiles for Workbox) with one. Requests
 * answered from a cache report an empty protocol and are not counted.
 */
export async function tileProtocols(page: Page, mode: Mode): Promise<Record<string, number>> {
  const script = `(() => {
    const out = {};
    for (const e of performance.getEntriesByType('resource')) {
      if (!e.name.includes('/api/tiles/') || !e.nextHopProtocol) continue;
      out[e.nextHopProtocol] = (out[e.nextHopProtocol] ?? 0) + 1;
    }
    return out;
  })()`;
  if (mode === 'none') return (await page.evaluate(script)) as Record<string, number>;
  const worker = serviceWorkerOf(page.context());
  if (!worker) throw new Error(`${mode}: no service worker in the page's context`);
  return (await worker.evaluate(script)) as Record<string, number>;
}

/** Milestones of the last viewport, ms after its first `<img>` was inserted (undefined: none such). */
export interface Milestones {
  /** The last tile's fetch event reached the worker (page Resource Timing, `workerStart`). */
  lastFetchEvent?: number;
  /**
   * The worker's first batch request for the visible tiles started / its first
   * byte / the last such batch's last byte. Visible tiles' batches are the ones
   * sent by 30 ms after the last fetch event (a batch waits at most
   * `batch.maxWaitMs`, 16 ms); the prefetch batch starts only once every
   * visible tile is answered, later than that.
   */
  batchStart?: number;
  batchFirstByte?: number;
  batchEnd?: number;
  /** How many batch requests the worker sent for the visible tiles. */
  batches?: number;
  /** The last tile's response ended, as the page sees it (network or worker). */
  lastResponseEnd?: number;
}

/**
 * Where the last viewport's time went, from Resource Timing in the page and,
 * with our worker, in the worker (its batch requests), on one clock
 * (`timeOrigin` + entry times).
 */
export async function milestones(page: Page, mode: Mode): Promise<Milestones> {
  const p = (await page.evaluate(`(() => {
    const e = performance.getEntriesByType('resource').filter((r) => r.name.includes('/api/tiles/') && r.initiatorType === 'img');
    const abs = (t) => performance.timeOrigin + t;
    const ws = e.map((r) => r.workerStart).filter((t) => t > 0);
    return { t0: window.lastT0, lastFetchEvent: ws.length ? abs(Math.max(...ws)) : null, lastResponseEnd: e.length ? abs(Math.max(...e.map((r) => r.responseEnd))) : null };
  })()`)) as { t0: number; lastFetchEvent: number | null; lastResponseEnd: number | null };
  const out: Milestones = {};
  if (p.lastFetchEvent !== null) out.lastFetchEvent = p.lastFetchEvent - p.t0;
  if (p.lastResponseEnd !== null) out.lastResponseEnd = p.lastResponseEnd - p.t0;
  const worker = mode === 'ours' ? serviceWorkerOf(page.context()) : undefined;
  if (worker) {
    const b = (await worker.evaluate(`(() => {
      const abs = (t) => performance.timeOrigin + t;
      const e = performance.getEntriesByType('resource').filter((r) => r.name.includes('/batch') && abs(r.startTime) >= ${p.t0} && abs(r.startTime) <= ${(p.lastFetchEvent ?? p.t0) + 30});
      if (!e.length) return null;
      return { n: e.length, start: abs(Math.min(...e.map((r) => r.startTime))), firstByte: abs(Math.min(...e.map((r) => r.responseStart))), end: abs(Math.max(...e.map((r) => r.responseEnd))) };
    })()`)) as { n: number; start: number; firstByte: number; end: number } | null;
    if (b) {
      out.batchStart = b.start - p.t0;
      out.batchFirstByte = b.firstByte - p.t0;
      out.batchEnd = b.end - p.t0;
      out.batches = b.n;
    }
  }
  return out;
}

function serviceWorkerOf(context: BrowserContext) {
  return context.serviceWorkers()[0];
}

/** Adds counts into `into`; renders them as `h2` or `h2 ×60, http/1.1 ×4`. */
export function addCounts(into: Record<string, number>, more: Record<string, number>): void {
  for (const [k, v] of Object.entries(more)) into[k] = (into[k] ?? 0) + v;
}
export function showCounts(c: Record<string, number>): string {
  const e = Object.entries(c).sort((a, b) => b[1] - a[1]);
  if (e.length === 0) return 'none recorded';
  return e.length === 1 ? e[0]![0] : e.map(([k, v]) => `${k} ×${v}`).join(', ');
}

/** Viewports of `n` tiles 9 apart in a 64×64 level (7×7 slots): never overlapping, never in each other's prefetch ring nor sharing parents. */
export function viewportSlots(name: string): () => readonly [number, number] {
  let slot = 0;
  return () => {
    const i = slot++;
    if (i >= 49) throw new Error(`sw bench: out of untouched viewports in ${name}`);
    return [(i % 7) * 9 + 1, Math.floor(i / 7) * 9 + 1] as const;
  };
}
