import cluster from 'node:cluster';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { isTileError } from '../src/protocol/errors.js';
import { loadConfig, type ServerConfig } from './config.js';
import { createTileServer } from './createTileServer.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** With no origin configured, the bundled sample under data/ is the origin (built on first start). */
async function originDir(config: ServerConfig, log: pino.Logger): Promise<string | undefined> {
  if (config.s3 || config.r2PublicUrl || config.tilesDir) return config.tilesDir;
  const root = path.join(REPO_ROOT, 'data');
  // Loaded only when needed: the tiler pulls in sharp, which a configured server never uses.
  const { ensureSampleDataset } = await import('./tiler/sampleDataset.js');
  await ensureSampleDataset(root, { log: (m) => log.info(m) });
  return root;
}

async function runServer(config: ServerConfig): Promise<void> {
  const log = pino({ level: config.logLevel });
  const tilesDir = await originDir(config, log);
  const staticDir = path.resolve(REPO_ROOT, config.staticDir);
  const tileServer = createTileServer(
    { ...config, tilesDir, staticDir },
    { logger: log, defaultMetrics: true },
  );
  const { url } = await tileServer.listen();
  if (cluster.isPrimary) console.log(`tile server listening on ${url}`);
  else log.info({ url, pid: process.pid }, 'worker listening');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: draining in-flight requests');
    tileServer.close().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** WORKERS=n: n processes share the port (node:cluster); scaling at the HTTP layer, never a thread hop per request. */
async function main(): Promise<void> {
  let config: ServerConfig;
  try {
    config = loadConfig();
  } catch (e) {
    console.error(`configuration error: ${isTileError(e) ? e.message : String(e)}`);
    process.exit(1);
  }
  if (config.workers > 1 && cluster.isPrimary) {
    // Build the sample once, before the workers race for it.
    const log = pino({ level: config.logLevel });
    await originDir(config, log);
    const listened = new Set<number>();
    let stopping = false;
    cluster.on('listening', (w, a) => {
      listened.add(w.id);
      if (listened.size === config.workers)
        console.log(`tile server listening on http://${a.address}:${a.port} (${config.workers} workers)`);
    });
    const stop = (exitCode: number) => {
      stopping = true;
      // The primary usually ends by itself once its workers are gone: that exit must carry the code too.
      process.exitCode = exitCode;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      setTimeout(() => process.exit(exitCode), config.shutdownTimeoutMs + 1_000).unref();
    };
    cluster.on('exit', (w, code) => {
      if (stopping) return;
      if (!listened.has(w.id)) {
        // Died before listening (port taken, unreadable TILES_DIR...): a new fork
        // would fail the same way, in a loop as fast as processes start.
        log.error({ pid: w.process.pid, code }, 'worker failed to start; stopping');
        console.error('start-up failed: a worker exited before listening');
        stop(1);
        return;
      }
      log.error({ pid: w.process.pid, code }, 'worker exited; starting another');
      cluster.fork();
    });
    process.on('SIGTERM', () => stop(0));
    process.on('SIGINT', () => stop(0));
    for (let i = 0; i < config.workers; i++) cluster.fork();
    return;
  }
  await runServer(config);
}

main().catch((e: unknown) => {
  console.error(
    `start-up failed: ${isTileError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e)}`,
  );
  process.exit(1);
});
