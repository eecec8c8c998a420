import { LRUCache } from 'lru-cache';
import type { TileResult } from './TileResult.js';

export type StoredTile = TileResult & { prefetched: boolean; dataset: string };

/**
 * The worker's hot tiles: a byte-bounded LRU answered inline, with no Cache
 * Storage round trip. Keyed by the tile key (URL, plus the credential for
 * tiles fetched with one: those live here only). `maxBytes` 0 turns it off.
 */
export class MemoryTier {
  readonly #lru: LRUCache<string, StoredTile> | undefined;

  constructor(maxBytes: number) {
    this.#lru =
      maxBytes > 0
        ? new LRUCache<string, StoredTile>({
            maxSize: maxBytes,
            sizeCalculation: (v) => v.body.byteLength + 64,
          })
        : undefined;
  }

  get(key: string): StoredTile | undefined {
    return this.#lru?.get(key);
  }

  set(key: string, tile: StoredTile): void {
    this.#lru?.set(key, tile);
  }

  get bytes(): number {
    return this.#lru?.calculatedSize ?? 0;
  }

  /** Clears the prefetched flag of an entry; true when it was set. */
  markUsed(key: string): boolean {
    const e = this.#lru?.get(key);
    if (!e?.prefetched) return false;
    e.prefetched = false;
    return true;
  }

  /** Drops a dataset's entries (all when undefined), except those of generation `keep`. */
  clear(dataset: string | undefined, keep?: string): void {
    if (!this.#lru) return;
    for (const [key, e] of this.#lru.entries()) {
      if (keep !== undefined && e.generation === keep) continue;
      if (dataset === undefined || e.dataset === dataset) this.#lru.delete(key);
    }
  }
}
