// Compiled with `tsc --noEmit` against the installed package (a .mts so the repo's own typecheck skips it).
import { registerTileAccelerator, type SwStats, type TileAccelerator } from 'tile-accelerator';
import type { ServerConfig, TileServer } from 'tile-accelerator/server';
import { createTileServer, loadConfig } from 'tile-accelerator/server';
import { installTileAccelerator } from 'tile-accelerator/sw';
import { encodeBC1, initCodecs } from 'tile-accelerator/wasm';

export async function page(): Promise<SwStats> {
  const acc: TileAccelerator = await registerTileAccelerator({ swUrl: '/sw.js', batch: { windowMs: 4 } });
  const bc1 = await acc.decode(new Uint8Array(4), { as: 'bc1' });
  const n: number = bc1.levels.length;
  void n;
  return acc.stats();
}

export function worker(self: ServiceWorkerGlobalScope): void {
  installTileAccelerator(self, { prefetch: { enabled: false } }).uninstall();
}

export function server(): TileServer {
  const config: ServerConfig = loadConfig({ TILES_DIR: '/srv/tiles' });
  return createTileServer(config);
}

export async function codecs(): Promise<Uint8Array> {
  await initCodecs();
  return encodeBC1(new Uint8Array(16 * 4), 4, 4);
}
