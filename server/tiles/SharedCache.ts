/**
 * Optional second cache layer between the memory cache and the origin, shared
 * by several server instances (Redis in server/sharedCache/, added later).
 * Implementations must never throw into the tile path for availability
 * problems: resolve `undefined` on a miss or when the store is down.
 */
export interface SharedTile {
  bytes: Uint8Array;
  contentType: string;
  etag: string;
}

export interface SharedCache {
  readonly name: string;
  /** `key` is the full object identity (`dataset/z/x/y.ext`); `generation` is the dataset's current one. */
  get(dataset: string, key: string, generation: number, signal: AbortSignal): Promise<SharedTile | undefined>;
  set(dataset: string, key: string, generation: number, tile: SharedTile, signal: AbortSignal): Promise<void>;
  /** Drops every entry of the dataset (by namespace/generation, never a KEYS scan). */
  clearDataset(dataset: string, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
  /** Optional: called when another instance cleared a dataset, so this one drops it from memory too. */
  onRemoteClear?(listener: (dataset: string) => void): void;
  /** Optional counters for cache-stats and /metrics. */
  stats?(): Record<string, number | string | boolean>;
}

/** The default when REDIS_URL is unset: stores nothing. */
export const noSharedCache: SharedCache = {
  name: 'none',
  get: async () => undefined,
  set: async () => {},
  clearDataset: async () => {},
  close: async () => {},
};
