// The package's `./server` entry: mount the companion in an existing Node app.
// `createTileServer(config).handler` is a plain (req, res) handler for
// node:http, Express or Fastify; `listen()` runs it on its own port instead.

export { type ErrorCode, isTileError, TileError } from '../src/protocol/errors.js';
export { buildEngine } from './buildEngine.js';
export { type LogLevel, loadConfig, type ServerConfig } from './config.js';
export { createTileServer, type TileServer, type TileServerDeps } from './createTileServer.js';
export type { TileEngine } from './engineContract.js';
export type { Origin } from './origin/Origin.js';
