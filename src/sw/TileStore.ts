import { LRUCache } from 'lru-cache';
import { isTileError, TileError } from '../protocol/errors.js';
import { type CacheIndex, type IndexEntry, isQuotaError } from './CacheIndex.js';
import type { SwCounters } from './SwCounters.js';
import type { TileResult } from './TileResult.js';

/** The part of the Cache Storage `Cache` interface the store uses (injected in tests). */
export interface BodyCache {
  match(url: string): Promise<Response | undefined>;
  put(url: string, response: Response): Promise<void>;
  delete(url: string): Promise<boolean>;
}

export interface TileStoreOptions {
  openCache: () => Promise<BodyCache>;
  index: Promise<CacheIndex>;
  memoryBytes: number;
  /** Byte budget of the persistent cache (resolved once, lazily). */
  budget: () => Promise<number>;
  counters: SwCounters;
  /** Write-behind: a group is written this long after its last tile (ms)... */
  writeDelayMs: number;
  /** ...or as soon as it holds this many tiles. */
  writeGroup: number;
  /**
   * True while visible tiles are still being answered: the write waits, so
   * Cache Storage puts (each blocks the worker's thread for ~1–3 ms) never
   * hold back responses the page is waiting for...
   */
  busy?: () => boolean;
  /** ...but a pending tile is written at the latest this long after it was put (ms). */
  maxDeferMs?: number;
  /**
   * Longest wait for the IndexedDB index on a response path (a persistent
   * hit, a video size) before treating the tile as not cached (ms, default
   * 250). An index open blocked by another connection must cost a miss, not a stall.
   */
  indexWaitMs?: number;
  /** Longest wait for the index off the response path (writes, eviction, clear, stats; ms, default 10 s). */
  indexWriteWaitMs?: number;
}

export type StoredTile = TileResult & { prefetched: boolean; dataset: string };
type Entry = StoredTile;

/**
 * Three layers: a byte-bounded memory LRU (answers inline, no Cache Storage
 * round trip for hot tiles), Cache Storage for bodies, and the IndexedDB
 * index that makes the persistent part a true byte-budget LRU. Writes and
 * evictions run off the response path (callers hand them to waitUntil).
 */
export class TileStore {
  private readonly memory: LRUCache<string, Entry> | undefined;
  private cache: Promise<BodyCache> | undefined;
  private evicting: Promise<void> | undefined;
  /** Mirror of the index's URLs: a miss is known at once, without a Cache Storage match. */
  private known: Set<string> | undefined;
  private pending: Array<{ url: string; dataset: string; r: TileResult; prefetched: boolean }> = [];
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private flushed: { promise: Promise<void>; resolve: () => void } | undefined;
  /** When the oldest pending tile was put (performance.now()). */
  private pendingSince = 0;
  /** Writes made while the URLs were loading. */
  private readonly early = new Set<string>();

  constructor(private readonly o: TileStoreOptions) {
    this.memory =
      o.memoryBytes > 0
        ? new LRUCache<string, Entry>({
            maxSize: o.memoryBytes,
            sizeCalculation: (v) => v.body.byteLength + 64,
          })
        : undefined;
    this.knownLoaded = o.index
      .then((i) => {
        this.indexOpened = true;
        return i.allUrls();
      })
      .then((urls) => {
        const set = new Set(urls);
        for (const u of this.early) set.add(u);
        this.early.clear();
        this.known = set;
      })
      .catch(() => {});
    // Open Cache Storage now too, not on the first tile.
    void this.bodies().catch(() => {});
  }

  private readonly knownLoaded: Promise<void>;

  /**
   * Waits (at most `ms`) for the URL set, so a fresh worker's first burst
   * goes to the batcher together instead of one Cache Storage match each.
   */
  async ready(ms: number): Promise<void> {
    if (this.known) return;
    // One wait per worker, shared by every caller: an index that never opens
    // costs the first burst `ms` once, not every later miss `ms` again.
    this.readyWait ??= new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      void this.knownLoaded.then(() => {
        clearTimeout(t);
        resolve();
      });
    });
    await this.readyWait;
  }

  private readyWait: Promise<void> | undefined;

  /** False only when the tile is surely not in the persistent cache (undefined: not known yet). */
  mayHave(url: string): boolean {
    return this.known === undefined || this.known.has(url);
  }

  private forget(urls: string[]): void {
    for (const u of urls) {
      this.known?.delete(u);
      this.early.delete(u);
    }
  }

  private bodies(): Promise<BodyCache> {
    this.cache ??= this.o.openCache().catch((e: unknown) => {
      this.cache = undefined;
      throw e;
    });
    return this.cache;
  }

  memoryGet(url: string): Entry | undefined {
    return this.memory?.get(url);
  }

  memoryBytes(): number {
    return this.memory?.calculatedSize ?? 0;
  }

  /** Clears the prefetched flag of a memory entry; true when it was set. */
  memoryMarkUsed(url: string): boolean {
    const e = this.memory?.get(url);
    if (!e?.prefetched) return false;
    e.prefetched = false;
    return true;
  }

  /**
   * The index, or a DEADLINE_EXCEEDED rejection after `ms` (an open blocked
   * by another connection's version change, a browser that never answers).
   */
  indexWithin(ms: number): Promise<CacheIndex> {
    return new Promise<CacheIndex>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new TileError('DEADLINE_EXCEEDED', `cache index not open within ${ms} ms`)),
        ms,
      );
      this.o.index.then(
        (i) => {
          clearTimeout(t);
          if (i.closed) reject(new TileError('UNSUPPORTED', 'cache index closed'));
          else resolve(i);
        },
        (e: unknown) => {
          clearTimeout(t);
          reject(e);
        },
      );
    });
  }

  /**
   * The index for the response path (bounded by `indexWaitMs`). Once a wait
   * has run out, later reads fail at once until the index opens: a stuck
   * open costs one tile its bound, not every tile.
   */
  private readIndex(): Promise<CacheIndex> {
    if (this.indexStuck && !this.indexOpened) {
      return Promise.reject(new TileError('DEADLINE_EXCEEDED', 'cache index not open yet'));
    }
    return this.indexWithin(this.o.indexWaitMs ?? 250).catch((e: unknown) => {
      if (isTileError(e, 'DEADLINE_EXCEEDED')) this.indexStuck = true;
      throw e;
    });
  }

  /** A read gave up waiting for the index... */
  private indexStuck = false;
  /** ...until it opens. */
  private indexOpened = false;

  /** The index for work off the response path (bounded by `indexWriteWaitMs`). */
  private writeIndex(): Promise<CacheIndex> {
    return this.indexWithin(this.o.indexWriteWaitMs ?? 10_000);
  }

  /** Cache Storage lookup; refreshes the LRU order and promotes the tile to memory. */
  async persistentGet(url: string, promote = true): Promise<Entry | undefined> {
    const cache = await this.bodies();
    const res = await cache.match(url);
    if (!res) return undefined;
    const index = await this.readIndex().catch(() => undefined);
    if (!index) {
      // Not known to be budgeted right now; the body stays for a later lookup.
      void res.body?.cancel().catch(() => {});
      return undefined;
    }
    const meta = await index.get(url);
    if (!meta) {
      this.forget([url]);
      // A body without bookkeeping cannot be budgeted: forget it.
      void cache.delete(url).catch(() => {});
      return undefined;
    }
    const body = new Uint8Array(await res.arrayBuffer());
    index.touch(url);
    const e: Entry = {
      status: 200,
      body,
      contentType: res.headers.get('Content-Type') ?? 'application/octet-stream',
      etag: meta.etag,
      generation: meta.generation,
      source: 'sw-cache',
      prefetched: meta.prefetched,
      dataset: meta.dataset,
    };
    if (promote) this.memory?.set(url, e);
    return e;
  }

  async persistentMarkUsed(url: string): Promise<boolean> {
    return (await this.readIndex()).markUsed(url);
  }

  /** Memory only (credentialed tiles): a 200 or a 404, never persisted. */
  memoryPut(key: string, dataset: string, r: TileResult): void {
    if (r.status === 200 || r.status === 404) this.memory?.set(key, { ...r, prefetched: false, dataset });
  }

  /**
   * Memory now; Cache Storage + index written behind, in groups (one
   * IndexedDB transaction per group, after the burst that produced them), so
   * persistence does not compete with a batch still streaming in. The
   * promise settles when this tile's group is written: give it to waitUntil.
   */
  put(url: string, dataset: string, r: TileResult, prefetched = false, memory = true): Promise<void> {
    if (r.status !== 200 && r.status !== 404) return Promise.resolve();
    if (memory) this.memory?.set(url, { ...r, prefetched, dataset });
    if (r.status !== 200) return Promise.resolve();
    if (this.pending.length === 0) this.pendingSince = performance.now();
    this.pending.push({ url, dataset, r, prefetched });
    if (!this.flushed) {
      let resolve!: () => void;
      const promise = new Promise<void>((res) => {
        resolve = res;
      });
      this.flushed = { promise, resolve };
    }
    const done = this.flushed.promise;
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length >= this.o.writeGroup) this.flushWhenIdle();
    else this.flushTimer = setTimeout(() => this.flushWhenIdle(), this.o.writeDelayMs);
    return done;
  }

  /** Resolves once no visible tile is pending, or after maxDeferMs of waiting. */
  private async idle(): Promise<void> {
    const end = performance.now() + (this.o.maxDeferMs ?? 2000);
    while (this.o.busy?.() && performance.now() < end) {
      await new Promise((r) => setTimeout(r, this.o.writeDelayMs));
    }
  }

  /** Flushes now unless visible tiles are pending (then re-checks), bounded by maxDeferMs. */
  private flushWhenIdle(): void {
    this.flushTimer = undefined;
    const waited = performance.now() - this.pendingSince;
    if (this.o.busy?.() && waited < (this.o.maxDeferMs ?? 2000)) {
      this.flushTimer = setTimeout(() => this.flushWhenIdle(), this.o.writeDelayMs);
      return;
    }
    void this.flush();
  }

  /** Writes every pending tile now. */
  async flush(): Promise<void> {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const group = this.pending;
    const signal = this.flushed;
    this.pending = [];
    this.flushed = undefined;
    if (group.length === 0) {
      signal?.resolve();
      return;
    }
    try {
      const index = await this.writeIndex();
      const cache = await this.bodies();
      // Index first: if the worker dies between the two writes, the index
      // over-counts (harmless, evicted later) instead of leaking an unbudgeted body.
      const records = group.map((g) => ({
        url: g.url,
        dataset: g.dataset,
        bytes: g.r.body.byteLength,
        etag: g.r.etag,
        generation: g.r.generation,
        prefetched: g.prefetched,
      }));
      const written = await this.putRecords(index, records);
      if (written === undefined) return;
      let total = written;
      for (const rec of records) (this.known ?? this.early).add(rec.url);
      for (const [i, g] of group.entries()) {
        // A burst of visible tiles that starts mid-group goes first (bounded by maxDeferMs).
        await this.idle();
        total = await this.putBody(cache, index, g.url, g.r, records[i]!, total).catch(() => total);
      }
      if (total > (await this.o.budget())) await this.evictSoon();
    } catch (e) {
      // Persisting is best effort (the page already has every tile), but a
      // storage that cannot even be opened for lack of room is still counted.
      if (isQuotaError(e)) this.o.counters.inc('quota_errors');
    } finally {
      signal?.resolve();
    }
  }

  /**
   * Writes a group's index records (one atomic transaction). On a quota
   * failure: count it, evict a batch, retry once; undefined when the group is
   * not persisted (then nothing of it was written).
   */
  private async putRecords(
    index: CacheIndex,
    records: Array<Omit<IndexEntry, 'lastAccess'>>,
  ): Promise<number | undefined> {
    try {
      return await index.putMany(records);
    } catch (e) {
      if (!isQuotaError(e)) throw e;
    }
    this.o.counters.inc('quota_errors');
    const bytes = records.reduce((n, r) => n + r.bytes, 0);
    await this.makeRoom(await index.totalBytes().catch(() => 0), bytes);
    try {
      return await index.putMany(records);
    } catch (e2) {
      if (isQuotaError(e2)) this.o.counters.inc('quota_errors');
      return undefined;
    }
  }

  /** Evicts a batch (LRU by bytes) so `bytes` more fit with a quarter of the budget to spare; best effort. */
  private async makeRoom(total: number, bytes: number): Promise<void> {
    const budget = await this.o.budget();
    await this.evictNow(Math.max(0, Math.min(total, budget) - bytes - budget * 0.25)).catch(() => {});
  }

  /** Removes a tile that could not be persisted from index and bodies alike (best effort: no orphan either way). */
  private async drop(cache: BodyCache, index: CacheIndex, url: string): Promise<void> {
    this.forget([url]);
    await Promise.all([index.delete(url).catch(() => {}), cache.delete(url).catch(() => false)]);
  }

  private async putBody(
    cache: BodyCache,
    index: CacheIndex,
    url: string,
    r: TileResult,
    record: Omit<IndexEntry, 'lastAccess'>,
    total: number,
  ): Promise<number> {
    const response = () => {
      const h = new Headers({ 'Content-Type': r.contentType, 'Content-Length': String(r.body.byteLength) });
      if (r.etag) h.set('ETag', r.etag);
      if (r.generation) h.set('X-Tile-Generation', r.generation);
      return new Response(r.body as Uint8Array<ArrayBuffer>, { status: 200, headers: h });
    };
    try {
      await cache.put(url, response());
      return total;
    } catch (e) {
      if (!isQuotaError(e)) {
        await this.drop(cache, index, url);
        throw e;
      }
    }
    this.o.counters.inc('quota_errors');
    await this.makeRoom(total, r.body.byteLength);
    try {
      // The eviction may have taken this entry's own record: write it again (index first, as always).
      const after = await index.put(record);
      (this.known ?? this.early).add(url);
      await cache.put(url, response());
      return after;
    } catch (e2) {
      // Give up on persisting this one; the page already has its response.
      if (isQuotaError(e2)) this.o.counters.inc('quota_errors');
      await this.drop(cache, index, url);
      return index.totalBytes().catch(() => total);
    }
  }

  /** One eviction pass at a time, down to 90% of the budget so it runs in batches, not per put. */
  evictSoon(): Promise<void> {
    this.evicting ??= (async () => {
      try {
        const budget = await this.o.budget();
        const index = await this.writeIndex();
        while ((await index.totalBytes()) > budget) await this.evictNow(budget * 0.9);
      } finally {
        this.evicting = undefined;
      }
    })();
    return this.evicting;
  }

  private async evictNow(target: number): Promise<void> {
    const index = await this.writeIndex();
    const cache = await this.bodies();
    const gone = await index.evictTo(target);
    this.forget(gone);
    this.o.counters.inc('evictions', gone.length);
    await Promise.all(gone.map((u) => cache.delete(u)));
  }

  /** Drops a dataset (all when undefined) from every layer, except entries of generation `keep`. */
  async clear(dataset: string | undefined, keep?: string): Promise<number> {
    if (this.memory) {
      for (const [url, e] of this.memory.entries()) {
        if (keep !== undefined && e.generation === keep) continue;
        if (dataset === undefined || e.dataset === dataset) this.memory.delete(url);
      }
    }
    const index = await this.writeIndex();
    const cache = await this.bodies();
    const gone = await index.deleteDataset(dataset, keep);
    this.forget(gone);
    await Promise.all(gone.map((u) => cache.delete(u)));
    return gone.length;
  }

  /** The index, for small records next to the bodies (video sizes); bounded like writes. */
  indexReady(): Promise<CacheIndex> {
    return this.writeIndex();
  }

  async usage(): Promise<{ entries: number; bytes: number }> {
    const index = await this.writeIndex();
    return { entries: await index.count(), bytes: await index.totalBytes() };
  }
}
