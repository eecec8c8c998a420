import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig, type ServerConfig } from '../../../server/config.js';
import { createTileServer, type TileServer } from '../../../server/createTileServer.js';
import { createSharedCache } from '../../../server/sharedCache/createSharedCache.js';
import type { RedisSharedCache } from '../../../server/sharedCache/RedisSharedCache.js';

export interface Instance {
  url: string;
  server: TileServer;
  /** The instance's Redis layer (undefined without redisUrl), for its counters. */
  shared: RedisSharedCache | undefined;
}

export interface Instances {
  list: Instance[];
  /** Closes every instance; safe to call twice. */
  close(): Promise<void>;
}

/**
 * N companion servers (each on port 0 on 127.0.0.1) in front of one origin
 * URL, sharing one Redis when `redisUrl` is given: the multi-instance setup of
 * docs/deployment.md, for tests and benches.
 */
export async function startInstances(
  n: number,
  o: { originUrl: string; redisUrl?: string; config?: Partial<ServerConfig> },
): Promise<Instances> {
  const staticDir = await mkdtemp(path.join(tmpdir(), 'ta-static-'));
  const list: Instance[] = [];
  const close = async () => {
    await Promise.allSettled(list.splice(0).map((i) => i.server.close()));
    await rm(staticDir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < n; i++) {
      const config: ServerConfig = {
        ...loadConfig({}),
        port: 0,
        host: '127.0.0.1',
        r2PublicUrl: o.originUrl,
        redisUrl: o.redisUrl,
        staticDir,
        ownerToken: 'owner-secret',
        logLevel: 'silent',
        shutdownTimeoutMs: 2_000,
        // Origin counts per tile: no dataset probes (server/datasets/) unless a test opts in.
        datasetDiscovery: 'tree',
        ...o.config,
      };
      const logger = pino({ level: config.logLevel });
      const shared = createSharedCache(config, logger);
      const server = createTileServer(config, { logger, sharedCache: shared });
      const inst: Instance = {
        url: '',
        server,
        shared: shared.name === 'redis' ? (shared as RedisSharedCache) : undefined,
      };
      list.push(inst);
      inst.url = (await server.listen()).url;
    }
  } catch (e) {
    await close();
    throw e;
  }
  let closed: Promise<void> | undefined;
  return {
    list,
    close: () => {
      closed ??= close();
      return closed;
    },
  };
}
