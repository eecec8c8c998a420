import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { TileError } from '../../src/protocol/errors.js';
import { assertDatasetId, dziTileRest } from '../../src/protocol/tileKey.js';
import { batchRoute } from '../routes/batchRoute.js';
import { buildCacheStats } from '../routes/buildCacheStats.js';
import { staticRoute } from '../routes/staticRoute.js';
import { tileRoute } from '../routes/tileRoute.js';
import { videoRoute } from '../routes/videoRoute.js';
import { isDescriptorPath, viewerRoute } from '../routes/viewerRoute.js';
import { requireToken } from './auth.js';
import { applyCors } from './cors.js';
import { sendError, sendJson } from './respond.js';
import type { ServerContext } from './ServerContext.js';

const TILES = '/api/tiles/';
const VIDEO = '/api/video/';
/** Far above any real route (the longest is a tile key); a longer path is an attack or a bug. */
const MAX_PATH_BYTES = 2048;

function methods(req: IncomingMessage, ...allowed: string[]): void {
  if (!allowed.includes(req.method ?? '')) {
    throw new TileError('METHOD_NOT_ALLOWED', `use ${allowed.join(' or ')}`, { allow: allowed.join(', ') });
  }
}

/**
 * The whole routing table: prefix checks, no framework. Synchronous routes
 * (a tile hit) finish inside this call; async ones report errors through
 * `fail`. Nothing a client sends can make it throw past here.
 */
export function createHandler(ctx: ServerContext, metrics: Registry) {
  const { config } = ctx;
  const fail = (res: ServerResponse, e: unknown) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, e, ctx);
  };

  const route = (req: IncomingMessage, res: ServerResponse): void | Promise<void> => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    if (query.length > config.maxQueryBytes) {
      throw new TileError('QUERY_TOO_LARGE', `query is limited to ${config.maxQueryBytes} bytes`);
    }
    if (pathname.length > MAX_PATH_BYTES) {
      throw new TileError('QUERY_TOO_LARGE', `path is limited to ${MAX_PATH_BYTES} bytes`);
    }
    if (config.corsOrigins.length > 0 && applyCors(req, res, config.corsOrigins)) return;

    if (pathname.startsWith(TILES)) {
      const rest = pathname.slice(TILES.length);
      const slash = rest.indexOf('/');
      const sub = slash < 0 ? '' : rest.slice(slash + 1);
      if (sub === 'batch') {
        methods(req, 'GET', 'POST');
        return batchRoute(req, res, ctx, assertDatasetId(rest.slice(0, slash)), query);
      }
      if (sub === 'cache-stats') {
        methods(req, 'GET', 'HEAD');
        const dataset = assertDatasetId(rest.slice(0, slash));
        // Same read token as the tile routes: the counters describe a private deployment too.
        requireToken(req, config.apiToken, false);
        sendJson(res, 200, { dataset_id: dataset, stats: buildCacheStats(ctx, dataset) });
        return;
      }
      if (sub === 'cache-clear') {
        methods(req, 'POST');
        const dataset = assertDatasetId(rest.slice(0, slash));
        requireToken(req, config.ownerToken, true);
        return ctx.tiles.clearDataset(dataset, AbortSignal.timeout(5_000)).then((cleared) => {
          ctx.log.info({ dataset, cleared }, 'cache cleared');
          sendJson(res, 200, {
            dataset_id: dataset,
            cleared,
            generation: ctx.tiles.generation(dataset),
          });
        });
      }
      // Inline method check: this is the hot path, no rest-argument array per request.
      if (req.method !== 'GET' && req.method !== 'HEAD') methods(req, 'GET', 'HEAD');
      if (config.apiToken !== undefined) requireToken(req, config.apiToken, false);
      // Viewer-native shapes (server/routes/viewerRoute.ts): `d.dzi`, `d.json`, and `d_files/L/c_r.ext` tiles.
      if (slash < 0 && isDescriptorPath(rest)) return viewerRoute(req, res, ctx, rest);
      tileRoute(req, res, ctx, slash > 0 && rest.includes('_files/') ? dziTileRest(rest) : rest);
      return;
    }
    if (pathname.startsWith(VIDEO)) {
      methods(req, 'GET', 'HEAD');
      return videoRoute(req, res, ctx, pathname.slice(VIDEO.length));
    }
    if (pathname === '/healthz') {
      methods(req, 'GET', 'HEAD');
      const e = ctx.engine.stats();
      sendJson(res, ctx.accepting ? 200 : 503, {
        status: ctx.accepting ? 'ok' : 'draining',
        breaker: e.breaker,
      });
      return;
    }
    if (pathname === '/metrics') {
      methods(req, 'GET');
      // Unset: open (local use); set: a scraper's own token, not the owner's nor the readers'.
      requireToken(req, config.metricsToken, false);
      return metrics.metrics().then((text) => {
        res.writeHead(200, {
          'Content-Type': metrics.contentType,
          'Cache-Control': 'no-store',
          'X-Content-Type-Options': 'nosniff',
        });
        res.end(text);
      });
    }
    if (pathname.startsWith('/api/')) throw new TileError('NOT_FOUND', 'no such route');
    methods(req, 'GET', 'HEAD');
    return staticRoute(req, res, config.staticDir, pathname);
  };

  return function handler(req: IncomingMessage, res: ServerResponse): void {
    ctx.counters.requests++;
    try {
      const p = route(req, res);
      if (p) p.catch((e: unknown) => fail(res, e));
    } catch (e) {
      fail(res, e);
    }
  };
}
