// The service-worker bench's paths through nginx (the shipped site, TLS, HTTP/2
// or HTTP/1.1) in front of the companion server, and the same cold viewport on
// the server with the old ORIGIN_CONCURRENCY default: each path has its own
// dataset (the same tiles under another name), so its viewports are cold at
// every layer (browser, nginx's cache, the server's memory) and no other
// path's prefetch touched them.
import type { Browser } from 'playwright-core';
import {
  addCounts,
  fmt,
  type Milestones,
  type Mode,
  median,
  milestones,
  openPage,
  showCounts,
  tileProtocols,
  viewport,
  viewportSlots,
} from './pageDriver.js';

export interface EdgePath {
  label: string;
  /** Base URL of the page: nginx's h2 or h1 listener, or the server itself. */
  base: string;
  mode: Mode;
  /** Dataset name the path's tiles are asked under (a copy of `bench`). */
  dataset: string;
}

export interface EdgeResult {
  path: EdgePath;
  cold: number[];
  cold2: number[];
  protocols: Record<string, number>;
  /** Per cold viewport: where its time went. */
  milestones: Milestones[];
}

/**
 * Runs every path once (fresh context, a cold viewport, its protocols, a
 * second cold viewport in the same page), starting at path `iteration` mod n
 * so that no path always runs right after the same neighbour.
 */
export async function runEdgeIteration(
  browser: Browser,
  results: EdgeResult[],
  iteration: number,
  z: number,
  n: number,
  slots: Map<string, () => readonly [number, number]>,
  log: (m: string) => void,
): Promise<void> {
  for (let k = 0; k < results.length; k++) {
    const r = results[(iteration + k) % results.length]!;
    const { base, mode, dataset } = r.path;
    const next = slots.get(dataset) ?? viewportSlots(dataset);
    slots.set(dataset, next);
    const page = await openPage(browser, base, mode);
    try {
      const [x0, y0] = next();
      r.cold.push(await viewport(page, dataset, z, x0, y0, n));
      addCounts(r.protocols, await tileProtocols(page, mode));
      r.milestones.push(await milestones(page, mode));
      const [x1, y1] = next();
      r.cold2.push(await viewport(page, dataset, z, x1, y1, n));
    } finally {
      await page.context().close();
    }
    log(
      `sw edge: ${r.path.label}: cold ${r.cold.at(-1)!.toFixed(0)} ms, worker running ${r.cold2.at(-1)!.toFixed(0)} ms`,
    );
  }
}

/** The URLs the edge paths run against. */
export interface EdgeUrls {
  /** nginx in front of the server with its defaults: h2 and h1-only listeners. */
  h2: string;
  h1: string;
  /** nginx (h2) in front of, and the server itself with, the old ORIGIN_CONCURRENCY default. */
  oldH2: string;
  oldServer: string;
  oldConcurrency: number;
}

/** The datasets the paths below use (copies of `bench`); `warm` and `e-page` are the bench's own. */
export const EDGE_DATASETS = [
  'e-none-h1',
  'e-none-h2',
  'e-wb-h2',
  'e-ours-h1',
  'e-ours-h2',
  'o-none-h2',
  'o-ours-h2',
  'o-ours',
  'e-page',
  'warm',
];

/** The paths: no worker h1/h2, Workbox h2, ours h1/h2, then the old default's rows. */
export function edgePaths(u: EdgeUrls) {
  const p = (label: string, base: string, mode: Mode, dataset: string): EdgeResult => ({
    path: { label, base, mode, dataset },
    cold: [],
    cold2: [],
    protocols: {},
    milestones: [],
  });
  const old = `old default ORIGIN_CONCURRENCY=${u.oldConcurrency}`;
  const noneH2 = p('no service worker, nginx HTTP/2', u.h2, 'none', 'e-none-h2');
  const oursH2 = p('**tile accelerator worker (ours), nginx HTTP/2**', u.h2, 'ours', 'e-ours-h2');
  const oldNoneH2 = p(`no service worker, nginx HTTP/2, ${old}`, u.oldH2, 'none', 'o-none-h2');
  const oldOursH2 = p(`ours, nginx HTTP/2, ${old}`, u.oldH2, 'ours', 'o-ours-h2');
  const oldOurs = p(`ours, browser → server HTTP/1.1, ${old}`, u.oldServer, 'ours', 'o-ours');
  const all = [
    p('no service worker, nginx HTTP/1.1 (TLS)', u.h1, 'none', 'e-none-h1'),
    noneH2,
    p('Workbox CacheFirst worker, nginx HTTP/2', u.h2, 'workbox', 'e-wb-h2'),
    p('ours, nginx HTTP/1.1 (TLS)', u.h1, 'ours', 'e-ours-h1'),
    oursH2,
    oldNoneH2,
    oldOursH2,
    oldOurs,
  ];
  return { all, noneH2, oursH2, oldNoneH2, oldOursH2, oldOurs };
}

/** Table rows: cold and worker-running viewport, each against `ref` (no worker over h2). */
export function edgeRows(results: EdgeResult[], ref: EdgeResult): string[] {
  const ratio = (a: number[], b: number[]) => `${(median(a) / median(b)).toFixed(2)}×`;
  return results.map(
    (r) =>
      `| ${r.path.label} | ${showCounts(r.protocols)} | ${fmt(r.cold)} | ${ratio(r.cold, ref.cold)} | ${fmt(r.cold2)} | ${ratio(r.cold2, ref.cold2)} |`,
  );
}

/** Table rows: the cold viewport's milestones per path (medians over the runs), then the viewport itself. */
export function milestoneRows(results: EdgeResult[]): string[] {
  const col = (r: EdgeResult, k: keyof Milestones) => {
    const xs = r.milestones.map((m) => m[k]).filter((v): v is number => v !== undefined);
    return xs.length === 0 ? '–' : median(xs).toFixed(0);
  };
  return results.map(
    (r) =>
      `| ${r.path.label} | ${col(r, 'lastFetchEvent')} | ${col(r, 'batches')} | ${col(r, 'batchStart')} | ${col(r, 'batchFirstByte')} | ${col(r, 'batchEnd')} | ${col(r, 'lastResponseEnd')} | ${median(r.cold).toFixed(0)} |`,
  );
}
