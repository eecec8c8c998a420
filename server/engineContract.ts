import type { ByteRange, EngineStats, FetchedBytes } from './engine/FetchEngine.js';
import type { OriginObject } from './origin/Origin.js';

// The engine owns these shapes; the HTTP side names them through this module.
export type { ByteRange, EngineStats, FetchedBytes };

/**
 * What the HTTP side needs from the fetch engine (server/engine/FetchEngine.ts
 * satisfies it structurally). Kept here so routes and tests depend on the
 * shape, not on the class: tests can pass a fake, production passes the engine.
 */
export interface TileEngine {
  /** Whole small object, coalesced by key. null = 404. Rejects with TileError. */
  getBytes(key: string, signal: AbortSignal): Promise<FetchedBytes | null>;
  /** A byte range of an object (PMTiles), coalesced by key and range. null = 404. */
  getRange(key: string, range: ByteRange, signal: AbortSignal): Promise<FetchedBytes | null>;
  /** Streamed (ranged) object. null = 404. The caller consumes or destroys `body`. */
  getStream(
    key: string,
    opts: { signal: AbortSignal; range?: { start: number; end?: number } },
  ): Promise<OriginObject | null>;
  stats(): EngineStats;
  close(): Promise<void>;
}
