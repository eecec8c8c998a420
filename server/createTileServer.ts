import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, pino } from 'pino';
import { TileError } from '../src/protocol/errors.js';
import { buildEngine } from './buildEngine.js';
import type { ServerConfig } from './config.js';
import { boundedToDDS } from './dds/boundedToDDS.js';
import type { TileEngine } from './engineContract.js';
import { onClientError } from './http/clientError.js';
import { createMetrics } from './http/metrics.js';
import { createHandler } from './http/router.js';
import { newCounters, newMissGuard, type ServerContext } from './http/ServerContext.js';
import { tileCacheControl } from './routes/tileHeaders.js';
import { createSharedCache } from './sharedCache/createSharedCache.js';
import { MemoryTileCache } from './tiles/MemoryTileCache.js';
import type { SharedCache } from './tiles/SharedCache.js';
import { TileService, type ToDDS } from './tiles/TileService.js';
import { VideoService } from './video/VideoService.js';

export interface TileServerDeps {
  /** Defaults to the FetchEngine over the configured origin. */
  engine?: TileEngine;
  /** Defaults to createSharedCache(config): Redis when REDIS_URL is set, else none. */
  sharedCache?: SharedCache;
  /** Defaults to server/dds/rasterToDDS.ts, loaded on the first `.dds` request. */
  toDDS?: ToDDS;
  logger?: Logger;
  now?: () => number;
  /** Process metrics (CPU, heap, event loop) in /metrics; off for servers started by tests. */
  defaultMetrics?: boolean;
}

export interface TileServer {
  server: Server;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  context: ServerContext;
  listen(): Promise<{ url: string }>;
  /** Graceful: stop accepting, drain in-flight requests up to SHUTDOWN_TIMEOUT_MS, close the engine. */
  close(): Promise<void>;
}

// A variable specifier: the codec module is optional at build time and loaded lazily
// (its WASM is only paid for when someone asks for a .dds).
const DDS_MODULE = './dds/rasterToDDS.js';

type RasterToDDS = (
  raster: Uint8Array,
  signal: AbortSignal,
  opts: { maxPixels: number },
) => Promise<Uint8Array>;

async function loadToDDS(log: Logger, maxPixels: number): Promise<ToDDS> {
  try {
    const m = (await import(DDS_MODULE)) as { rasterToDDS?: RasterToDDS };
    const convert = m.rasterToDDS;
    if (typeof convert === 'function') return (raster, signal) => convert(raster, signal, { maxPixels });
    log.error('server/dds/rasterToDDS has no rasterToDDS export');
  } catch (err) {
    log.error({ err }, 'DDS codec failed to load');
  }
  throw new TileError('UNSUPPORTED', 'DDS conversion is not available on this server');
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

export function createTileServer(config: ServerConfig, deps: TileServerDeps = {}): TileServer {
  const log = deps.logger ?? pino({ level: config.logLevel });
  const engine = deps.engine ?? buildEngine(config);
  const shared = deps.sharedCache ?? createSharedCache(config, log);
  let ddsLoader: Promise<ToDDS> | undefined;
  const loadDDS = deps.toDDS
    ? async () => deps.toDDS!
    : () => {
        ddsLoader ??= loadToDDS(log, config.ddsMaxPixels).catch((e: unknown) => {
          ddsLoader = undefined;
          throw e;
        });
        return ddsLoader;
      };
  // DDS_CONCURRENCY conversions at once (their encode runs on this event loop), a bounded queue.
  const dds = boundedToDDS(loadDDS, config.ddsConcurrency);
  const toDDS = async () => dds.convert;
  const tiles = new TileService({
    engine,
    cache: new MemoryTileCache({ maxBytes: config.cacheMaxBytes, maxEntryBytes: config.cacheMaxEntryBytes }),
    shared,
    toDDS,
    tileKeyTemplate: config.tileKeyTemplate,
    discovery: config.datasetDiscovery,
    ttlMs: config.cacheTtlMs,
    staleIfErrorMs: config.staleIfErrorMs,
    negativeTtlMs: config.negativeTtlMs,
    convertTimeoutMs: config.originTimeoutMs + 10_000,
    tileTimeoutMs: config.originTimeoutMs,
    // The shared layer bounds itself (each Redis call, the cold-tile lock wait); this is the outer safety net.
    sharedTimeoutMs: 2 * config.redisTimeoutMs + config.redisLockWaitMs + 100,
    now: deps.now,
  });
  const video = new VideoService({
    engine,
    keyTemplate: config.videoKeyTemplate,
    chunkBytes: config.videoChunkBytes,
    maxBytes: config.videoCacheMaxBytes,
    metaTtlMs: config.cacheTtlMs,
    idleTimeoutMs: config.originAttemptTimeoutMs,
    probeTimeoutMs: config.originTimeoutMs,
  });
  const context: ServerContext = {
    config,
    engine,
    tiles,
    video,
    log,
    counters: newCounters(),
    cacheControl: tileCacheControl(config),
    guard: newMissGuard(config, deps.now),
    dds: dds.limiter,
    accepting: true,
  };
  const handler = createHandler(context, createMetrics(context, deps.defaultMetrics ?? false));
  const server = createServer(
    { keepAliveTimeout: 65_000, headersTimeout: 20_000, requestTimeout: 120_000 },
    handler,
  );
  server.on('clientError', onClientError);
  if (config.metricsToken === undefined && !isLoopback(config.host)) {
    log.warn({ host: config.host }, '/metrics is open to anyone who reaches this host: set METRICS_TOKEN');
  }

  let closing: Promise<void> | undefined;
  return {
    server,
    handler,
    context,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          const a = server.address() as AddressInfo;
          const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
          resolve({ url: `http://${host}:${a.port}` });
        });
      }),
    close: () => {
      closing ??= (async () => {
        context.accepting = false;
        const drained = new Promise<void>((resolve) => {
          if (!server.listening) resolve();
          else server.close(() => resolve());
        });
        // Keep-alive sockets become idle as their last response ends: close them as they do.
        server.closeIdleConnections();
        const sweeper = setInterval(() => server.closeIdleConnections(), 25);
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            log.warn('shutdown deadline passed: closing remaining connections');
            server.closeAllConnections();
            resolve();
          }, config.shutdownTimeoutMs);
        });
        await Promise.race([drained, deadline]);
        clearTimeout(timer);
        clearInterval(sweeper);
        await Promise.allSettled([engine.close(), shared.close()]);
      })();
      return closing;
    },
  };
}
