import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { buildEngine } from '../../server/buildEngine.js';
import { loadConfig, type ServerConfig } from '../../server/config.js';
import { createTileServer, type TileServer, type TileServerDeps } from '../../server/createTileServer.js';
import type { TileEngine } from '../../server/engineContract.js';
import { type MockOrigin, type MockOriginOptions, startMockOrigin } from '../mockOrigin/MockOrigin.js';

export interface StackOptions {
  /** Mocked origin settings (root dir and/or in-memory files, latency, faults...). */
  origin?: MockOriginOptions;
  /** Config overrides on top of the defaults below. */
  config?: Partial<ServerConfig>;
  /** Wrap the real engine (e.g. to delay one key in a test). */
  wrapEngine?: (engine: TileEngine) => TileEngine;
  deps?: Omit<TileServerDeps, 'engine'>;
}

export interface Stack {
  serverUrl: string;
  origin: MockOrigin;
  server: TileServer;
  config: ServerConfig;
  /** Closes the server, the engine and the mocked origin; safe to call twice. */
  close(): Promise<void>;
}

/**
 * The mocked origin on a free loopback port and a companion server in front
 * of it (HTTP origin = R2_PUBLIC_URL pointing at the mock), also on a free port.
 * Every e2e spec and bench starts its stack through here.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const origin = await startMockOrigin(opts.origin ?? {});
  let tmpStatic: string | undefined;
  let engine: TileEngine | undefined;
  let server: TileServer | undefined;
  try {
    const base = loadConfig({});
    if (!opts.config?.staticDir) tmpStatic = await mkdtemp(path.join(tmpdir(), 'tile-static-'));
    const config: ServerConfig = {
      ...base,
      port: 0,
      host: '127.0.0.1',
      r2PublicUrl: origin.url,
      staticDir: tmpStatic ?? base.staticDir,
      logLevel: 'silent',
      shutdownTimeoutMs: 2_000,
      // Specs count origin requests per tile; the dataset probes (server/datasets/) are opted into
      // by the specs about dataset kinds with `datasetDiscovery: 'auto'`.
      datasetDiscovery: 'tree',
      ...opts.config,
    };
    engine = buildEngine(config);
    if (opts.wrapEngine) engine = opts.wrapEngine(engine);
    server = createTileServer(config, {
      logger: pino({ level: config.logLevel }),
      ...opts.deps,
      engine,
    });
    const { url } = await server.listen();
    let closed: Promise<void> | undefined;
    const started = server;
    return {
      serverUrl: url,
      origin,
      server,
      config,
      close: () => {
        closed ??= (async () => {
          await started.close().catch(() => {});
          await origin.close().catch(() => {});
          if (tmpStatic) await rm(tmpStatic, { recursive: true, force: true });
        })();
        return closed;
      },
    };
  } catch (e) {
    // A failed listen must not leave the engine's origin pool open.
    await (server ? server.close() : engine?.close())?.catch(() => {});
    await origin.close();
    if (tmpStatic) await rm(tmpStatic, { recursive: true, force: true });
    throw e;
  }
}
