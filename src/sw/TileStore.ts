import type { CacheIndex } from './CacheIndex.js';
import type { IndexGateOptions } from './IndexGate.js';
import { MemoryTier, type StoredTile } from './MemoryTier.js';
import { type BodyCache, type PendingWrite, PersistentTier } from './PersistentTier.js';
import type { SwCounters } from './SwCounters.js';
import type { TileResult } from './TileResult.js';
import { VideoStore } from './VideoStore.js';
import { WriteBehind } from './WriteBehind.js';

export interface TileStoreOptions extends IndexGateOptions {
  openCache: () => Promise<BodyCache>;
  memoryBytes: number;
  /** Byte budget of the persistent cache (resolved once, lazily). */
  budget: () => Promise<number>;
  counters: SwCounters;
  /** Write-behind: a group is written this long after its last tile (ms)... */
  writeDelayMs: number;
  /** ...or as soon as it holds this many tiles. */
  writeGroup: number;
  /** True while visible tiles are still being answered: writes wait (see `WriteBehind`)... */
  busy?: () => boolean;
  /** ...but not past this long (ms; see `WriteBehindOptions.maxDeferMs`). */
  maxDeferMs?: number;
  /** Deadline of one group's write (ms; see `WriteBehindOptions.maxWriteMs`); counted in `write_timeouts`. */
  maxWriteMs?: number;
  /** Deadline of one storage call in a write (ms; see `PersistentTierOptions.storageOpMs`). */
  storageOpMs?: number;
}

/**
 * The worker's storage, composed: the memory tier (`MemoryTier`), the
 * persistent tier (`PersistentTier`: Cache Storage + the IndexedDB index,
 * quota, eviction), the write-behind policy between them (`WriteBehind`),
 * and the video chunks' own store on the persistent tier (`video`). Writes
 * and evictions run off the response path (callers hand them to waitUntil).
 */
export class TileStore {
  readonly memory: MemoryTier;
  readonly persistent: PersistentTier;
  readonly writes: WriteBehind<PendingWrite>;
  readonly video: VideoStore;

  constructor(o: TileStoreOptions) {
    this.memory = new MemoryTier(o.memoryBytes);
    this.persistent = new PersistentTier(o);
    this.writes = new WriteBehind<PendingWrite>({
      write: (group, idle) => this.persistent.write(group, idle),
      delayMs: o.writeDelayMs,
      groupSize: o.writeGroup,
      ...(o.busy ? { busy: o.busy } : {}),
      ...(o.maxDeferMs !== undefined ? { maxDeferMs: o.maxDeferMs } : {}),
      ...(o.maxWriteMs !== undefined ? { maxWriteMs: o.maxWriteMs } : {}),
      onTimeout: () => o.counters.inc('write_timeouts'),
    });
    this.video = new VideoStore(this.persistent, this.writes);
  }

  /** Waits (at most `ms`) for the persistent tier's URL set (see `IndexGate.ready`). */
  ready(ms: number): Promise<void> {
    return this.persistent.index.ready(ms);
  }

  /** False only when the tile is surely not in the persistent cache (undefined: not known yet). */
  mayHave(url: string): boolean {
    return this.persistent.index.mayHave(url);
  }

  memoryGet(key: string): StoredTile | undefined {
    return this.memory.get(key);
  }

  memoryBytes(): number {
    return this.memory.bytes;
  }

  /** Clears the prefetched flag of a memory entry; true when it was set. */
  memoryMarkUsed(key: string): boolean {
    return this.memory.markUsed(key);
  }

  /** Memory only (credentialed tiles): a 200 or a 404, never persisted. */
  memoryPut(key: string, dataset: string, r: TileResult): void {
    if (r.status === 200 || r.status === 404) this.memory.set(key, { ...r, prefetched: false, dataset });
  }

  /** Cache Storage lookup; refreshes the LRU order and promotes the tile to memory. */
  async persistentGet(url: string): Promise<StoredTile | undefined> {
    const e = await this.persistent.get(url);
    if (e) this.memory.set(url, e);
    return e;
  }

  persistentMarkUsed(url: string): Promise<boolean> {
    return this.persistent.markUsed(url);
  }

  /**
   * Memory now (a 200 or a 404; `memory` false: skip it); a 200 also to Cache Storage + index, written
   * behind in groups. The promise settles when this tile's group is written:
   * give it to waitUntil.
   */
  put(url: string, dataset: string, r: TileResult, prefetched = false, memory = true): Promise<void> {
    if (r.status !== 200 && r.status !== 404) return Promise.resolve();
    if (memory) this.memory.set(url, { ...r, prefetched, dataset });
    if (r.status !== 200) return Promise.resolve();
    return this.writes.add({ url, dataset, r, prefetched });
  }

  /** Writes every pending tile now. */
  flush(): Promise<void> {
    return this.writes.flush();
  }

  evictSoon(): Promise<void> {
    return this.persistent.evictSoon();
  }

  /** Drops a dataset (all when undefined) from every layer, except entries of generation `keep`. */
  async clear(dataset: string | undefined, keep?: string): Promise<number> {
    this.memory.clear(dataset, keep);
    return this.persistent.clear(dataset, keep);
  }

  /** The index, for small records next to the bodies (generations); bounded like writes. */
  indexReady(): Promise<CacheIndex> {
    return this.persistent.index.write();
  }

  usage(): Promise<{ entries: number; bytes: number }> {
    return this.persistent.usage();
  }
}
