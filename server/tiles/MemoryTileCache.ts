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
  /**
   * The same tile gzip'd, as the dataset stored it (vector tiles): sent with
   * `Content-Encoding: gzip` to a client that accepts it; `bytes` is the inflated tile.
   */
  gzip?: Buffer;
}

export interface MemoryTileCacheOptions {
  maxBytes: number;
  maxEntryBytes: number;
}

/** Fixed per-entry overhead charged against the byte bound (object, key, headers). */
const ENTRY_OVERHEAD = 256;

/**
 * Share of CACHE_MAX_BYTES kept for negative entries (tiles missing in every
 * format), in an LRU of their own: 16 MiB of the default 256 MiB, ~50,000
 * remembered 404s. A flood of distinct missing keys then evicts only other
 * negatives, never a real tile.
 */
export const NEGATIVE_SHARE = 1 / 16;

const sizeOf = (e: TileEntry, k: string) =>
  (e.bytes?.length ?? 0) + (e.gzip?.length ?? 0) + k.length * 2 + ENTRY_OVERHEAD;

/**
 * Byte-bounded LRU of tiles with a generation per dataset. `clearDataset`
 * drops the dataset's entries and bumps its generation; a fetch that started
 * before the clear carries the old generation and `set` refuses it, so a
 * clear can never be undone by a slow in-flight fetch. Negative entries live
 * in a second, small LRU (NEGATIVE_SHARE of the bound; the two together stay
 * within `maxBytes`).
 */
export class MemoryTileCache {
  private readonly lru: LRUCache<string, TileEntry> | undefined;
  private readonly negatives: LRUCache<string, TileEntry> | undefined;
  private readonly generations = new Map<string, number>();
  /** Real tiles evicted by the byte bound. */
  evictions = 0;
  /** Negative entries evicted by their own bound (a flood of missing keys shows here). */
  negativeEvictions = 0;

  constructor(opts: MemoryTileCacheOptions) {
    const negativeBytes = Math.floor(opts.maxBytes * NEGATIVE_SHARE);
    const tileBytes = opts.maxBytes - negativeBytes;
    // lru-cache refuses maxSize 0; CACHE_MAX_BYTES=0 simply disables the layer.
    this.lru =
      tileBytes > 0
        ? new LRUCache<string, TileEntry>({
            maxSize: tileBytes,
            maxEntrySize: Math.max(1, Math.min(opts.maxEntryBytes + ENTRY_OVERHEAD, tileBytes)),
            sizeCalculation: sizeOf,
            dispose: (_v, _k, reason) => {
              if (reason === 'evict') this.evictions++;
            },
          })
        : undefined;
    this.negatives =
      negativeBytes > 0 && this.lru
        ? new LRUCache<string, TileEntry>({
            maxSize: negativeBytes,
            sizeCalculation: sizeOf,
            dispose: (_v, _k, reason) => {
              if (reason === 'evict') this.negativeEvictions++;
            },
          })
        : undefined;
  }

  get enabled(): boolean {
    return this.lru !== undefined;
  }

  /** Entry without touching stats; callers decide fresh/stale. Updates recency. */
  get(key: string): TileEntry | undefined {
    return this.lru?.get(key) ?? this.negatives?.get(key);
  }

  generation(dataset: string): number {
    return this.generations.get(dataset) ?? 0;
  }

  /** Stores unless the dataset was cleared since `generation` was read. Returns whether it stored. */
  set(dataset: string, key: string, entry: TileEntry, generation: number): boolean {
    if (!this.lru || generation !== this.generation(dataset)) return false;
    if (entry.bytes === null) {
      // A tile that went missing: its old bytes must not shadow the 404.
      this.lru.delete(key);
      if (!this.negatives) return false;
      this.negatives.set(key, entry);
      return this.negatives.has(key);
    }
    this.negatives?.delete(key);
    this.lru.set(key, entry);
    return this.lru.has(key);
  }

  delete(key: string): void {
    this.lru?.delete(key);
    this.negatives?.delete(key);
  }

  /** Bumps the generation first, then removes the dataset's keys (O(entries); an owner-only action). */
  clearDataset(dataset: string): number {
    this.generations.set(dataset, this.generation(dataset) + 1);
    let n = 0;
    const prefix = `${dataset}/`;
    for (const lru of [this.lru, this.negatives]) {
      if (!lru) continue;
      const doomed: string[] = [];
      for (const k of lru.keys()) if (k.startsWith(prefix)) doomed.push(k);
      for (const k of doomed) lru.delete(k);
      n += doomed.length;
    }
    return n;
  }

  /** Entries held, real tiles and negatives. */
  get size(): number {
    return (this.lru?.size ?? 0) + (this.negatives?.size ?? 0);
  }

  /** Bytes charged, real tiles and negatives (never more than `maxBytes`). */
  get bytes(): number {
    return (this.lru?.calculatedSize ?? 0) + (this.negatives?.calculatedSize ?? 0);
  }

  get maxBytes(): number {
    return (this.lru?.maxSize ?? 0) + (this.negatives?.maxSize ?? 0);
  }

  /** Negative entries held now, and the bytes they are charged. */
  get negativeSize(): number {
    return this.negatives?.size ?? 0;
  }

  get negativeBytes(): number {
    return this.negatives?.calculatedSize ?? 0;
  }
}
