import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import type { TileEngine } from '../engineContract.js';
import { MissGuard } from '../guard/MissGuard.js';
import type { TileService } from '../tiles/TileService.js';
import type { VideoService } from '../video/VideoService.js';

/** Plain counters bumped on the hot path; /metrics reads them at scrape time. */
export interface HttpCounters {
  requests: number;
  errors5xx: number;
  errors4xx: number;
  tilesBySource: { 'memory-cache': number; 'shared-cache': number; origin: number };
  notModified: number;
  batches: number;
  batchTiles: number;
  /** Batch tiles answered BATCH_TOO_LARGE (past BATCH_MAX_BYTES). */
  batchTilesOverLimit: number;
  videoBytes: number;
  /** Responses cut because their client stopped reading for SEND_TIMEOUT_MS. */
  sendStalls: number;
}

/** Everything a route needs; built once per server by createTileServer. */
export interface ServerContext {
  config: ServerConfig;
  engine: TileEngine;
  tiles: TileService;
  video: VideoService;
  log: Logger;
  counters: HttpCounters;
  /** `Cache-Control` of tile and video answers (routes/tileHeaders.ts `tileCacheControl`). */
  cacheControl: string;
  /** The per-client budget of origin misses (MISS_BUDGET_*, TRUST_PROXY); asked on the miss path only. */
  guard: MissGuard;
  /** `.dds` conversions running and waiting (DDS_CONCURRENCY); read by /metrics. */
  dds: { readonly active: number; readonly queued: number };
  /** Answered by /healthz; false while draining. */
  accepting: boolean;
}

export function newCounters(): HttpCounters {
  return {
    requests: 0,
    errors5xx: 0,
    errors4xx: 0,
    tilesBySource: { 'memory-cache': 0, 'shared-cache': 0, origin: 0 },
    notModified: 0,
    batches: 0,
    batchTiles: 0,
    batchTilesOverLimit: 0,
    videoBytes: 0,
    sendStalls: 0,
  };
}

/** The miss guard of a configuration: MISS_BUDGET_PER_SEC=0 turns the budget off. */
export function newMissGuard(config: ServerConfig, now?: () => number): MissGuard {
  return new MissGuard({
    budget:
      config.missBudgetPerSec > 0
        ? {
            perSec: config.missBudgetPerSec,
            burst: config.missBudgetBurst,
            maxClients: config.missBudgetClients,
            now,
          }
        : undefined,
    trustProxy: config.trustProxy,
  });
}
