import { LRUCache } from 'lru-cache';

/** One cached answer for a tile key. `bytes === null` remembers a tile missing in every format. */
export interface TileEntry {
  bytes: Uint8Array | null;
  contentType: string;
  etag: string;
  /** Clock time the origin answered; freshness and stale-if-error are measured from it. */
  storedAt: number;
  /**
   * The dataset's cache generation the entry was fetched under. `set` refuses an
   * older one and `clearDataset` removes the dataset's entries as it bumps it, so
   * every stored entry's generation is the current one.
   */
  generation: number;
  /** `writeHead` list of a 200 from the memory cache, built once per entry so a hit allocates nothing. */
  headers: string[];
  /** The same for a 304 from the memory cache. */
  notModifiedHeaders: string[];
}

export interface MemoryTileCacheOptions {
  maxBytes: number;
  maxEntryBytes: number;
}

/** Fixed per-entry overhead charged against the byte bound (object, key, headers). */
const ENTRY_OVERHEAD = 256;

/**
 * Byte-bounded LRU of tiles with a generation per dataset. `clearDataset`
 * drops the dataset's entries and bumps its generation; a fetch that started
 * before the clear carries the old generation and `set` refuses it, so a
 * clear can never be undone by a slow in-flight fetch.
 */
export class MemoryTileCache {
  private readonly lru: LRUCache<string, TileEntry> | undefined;
  private readonly generations = new Map<string, number>();
  evictions = 0;

  constructor(opts: MemoryTileCacheOptions) {
    // lru-cache refuses maxSize 0; CACHE_MAX_BYTES=0 simply disables the layer.
    this.lru =
      opts.maxBytes > 0
        ? new LRUCache<string, TileEntry>({
            maxSize: opts.maxBytes,
            maxEntrySize: Math.max(1, Math.min(opts.maxEntryBytes + ENTRY_OVERHEAD, opts.maxBytes)),
            sizeCalculation: (e, k) => (e.bytes?.length ?? 0) + k.length * 2 + ENTRY_OVERHEAD,
            dispose: (_v, _k, reason) => {
              if (reason === 'evict') this.evictions++;
            },
          })
        : undefined;
  }

  get enabled(): boolean {
    return this.lru !== undefined;
  }

  /** Entry without touching stats; callers decide fresh/stale. Updates recency. */
  get(key: string): TileEntry | undefined {
    return this.lru?.get(key);
  }

  generation(dataset: string): number {
    return this.generations.get(dataset) ?? 0;
  }

  /** Stores unless the dataset was cleared since `generation` was read. Returns whether it stored. */
  set(dataset: string, key: string, entry: TileEntry, generation: number): boolean {
    if (!this.lru || generation !== this.generation(dataset)) return false;
    this.lru.set(key, entry);
    return this.lru.has(key);
  }

  delete(key: string): void {
    this.lru?.delete(key);
  }

  /** Bumps the generation first, then removes the dataset's keys (O(entries); an owner-only action). */
  clearDataset(dataset: string): number {
    this.generations.set(dataset, this.generation(dataset) + 1);
    if (!this.lru) return 0;
    const prefix = `${dataset}/`;
    const doomed: string[] = [];
    for (const k of this.lru.keys()) if (k.startsWith(prefix)) doomed.push(k);
    for (const k of doomed) this.lru.delete(k);
    return doomed.length;
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  get bytes(): number {
    return this.lru?.calculatedSize ?? 0;
  }

  get maxBytes(): number {
    return this.lru?.maxSize ?? 0;
  }
}
