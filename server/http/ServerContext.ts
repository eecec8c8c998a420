import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import type { TileEngine } from '../engineContract.js';
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
