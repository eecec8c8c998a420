// One measured session: the steps as the page timed them, then what the
// session cost below the browser (origin GETs, server bytes), which fetched
// tiles were never shown, and our worker's prefetch counters.
import { setTimeout as sleep } from 'node:timers/promises';
import { pageTally, replaySession, type SwMode, type Tab, type Viewer } from './runSession.js';
import type { StepResult } from './sessionScript.js';
import { originCounts, type ServerMeter } from './trafficMeter.js';

/** After the last step, before counting: the same for every path (in-flight prefetch lands, or not). */
export const SETTLE_MS = 500;

export interface SessionCost {
  originGets: number;
  /** Distinct tiles the origin was asked for. */
  originTiles: number;
  serverBytes: number;
  serverRequests: number;
  /** Distinct tiles the viewer showed, and their bytes. */
  shown: number;
  visibleBytes: number;
  /** Tiles fetched from the origin for this session that the viewer never showed, and their bytes. */
  notShown: number;
  notShownBytes: number;
}

export interface SessionRun extends SessionCost {
  engine: 'chromium' | 'firefox';
  viewer: Viewer;
  mode: SwMode;
  dataset: string;
  steps: StepResult[];
  /** Sum of the steps' `loaded`. */
  total: number;
  /** Our worker's `prefetched` / `prefetch_used` counters at the end (null: not ours). */
  prefetched: number | null;
  prefetchUsed: number | null;
  /** The page's own tile requests by protocol (no worker: every tile; with one: none or few). */
  protocols: Record<string, number>;
}

export interface Meters {
  originUrl: string;
  server: ServerMeter;
  /** Bytes of each tile, `z/x/y.jpg`. */
  sizes: Map<string, number>;
}

const tileKey = (path: string, dataset: string) => path.slice(`/api/tiles/${dataset}/`.length);

/** The dataset's costs so far; `shown` are the tiles some tab of the session showed. */
export async function sessionCost(meters: Meters, dataset: string, shown: Set<string>): Promise<SessionCost> {
  const origin = await originCounts(meters.originUrl, dataset);
  const server = meters.server.of(dataset);
  let visibleBytes = 0;
  for (const k of shown) visibleBytes += meters.sizes.get(k) ?? 0;
  let notShown = 0;
  let notShownBytes = 0;
  for (const k of origin.keys.keys()) {
    if (shown.has(k)) continue;
    notShown++;
    notShownBytes += meters.sizes.get(k) ?? 0;
  }
  return {
    originGets: origin.gets,
    originTiles: origin.keys.size,
    serverBytes: server.bytes,
    serverRequests: server.requests,
    shown: shown.size,
    visibleBytes,
    notShown,
    notShownBytes,
  };
}

/** Replays the session in `tab` (already on the session page) and tallies it. */
export async function measureSession(
  tab: Tab,
  meters: Meters,
  run: { engine: SessionRun['engine']; viewer: Viewer; mode: SwMode; dataset: string },
  during?: { step: number; run: () => Promise<void> },
  alsoShown: () => Promise<string[]> = async () => [],
): Promise<SessionRun> {
  const steps = await replaySession(tab, during);
  await sleep(SETTLE_MS);
  const tally = await pageTally(tab);
  const shown = new Set([...tally.shown, ...(await alsoShown())].map((p) => tileKey(p, run.dataset)));
  return {
    ...run,
    steps,
    total: steps.reduce((a, s) => a + s.loaded, 0),
    ...(await sessionCost(meters, run.dataset, shown)),
    prefetched: tally.stats?.prefetched ?? null,
    prefetchUsed: tally.stats?.prefetch_used ?? null,
    protocols: tally.protocols,
  };
}
