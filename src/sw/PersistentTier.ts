import { type CacheIndex, type IndexEntry, isQuotaError } from './CacheIndex.js';
import { IndexGate, type IndexGateOptions } from './IndexGate.js';
import type { StoredTile } from './MemoryTier.js';
import type { SwCounters } from './SwCounters.js';
import type { TileResult } from './TileResult.js';

/** The part of the Cache Storage `Cache` interface the store uses (injected in tests). */
export interface BodyCache {
  match(url: string): Promise<Response | undefined>;
  put(url: string, response: Response): Promise<void>;
  delete(url: string): Promise<boolean>;
}

export interface PersistentTierOptions extends IndexGateOptions {
  openCache: () => Promise<BodyCache>;
  /** Byte budget of the persistent cache (resolved once, lazily). */
  budget: () => Promise<number>;
  counters: SwCounters;
}

/** One body to persist, with its index record's fields. */
export interface PendingWrite {
  url: string;
  /** A tile's dataset, or a video's namespace (`VideoStore`). */
  dataset: string;
  r: TileResult;
  prefetched: boolean;
}

type Record = Omit<IndexEntry, 'lastAccess'>;

/**
 * Cache Storage for the bodies and the IndexedDB index (`CacheIndex`) that
 * makes it a true byte-budget LRU: reads, grouped writes, quota failures
 * (count, evict a batch, retry once) and eviction. Index before body on every
 * write: if the worker dies between the two, the index over-counts
 * (harmless, evicted later) instead of leaking an unbudgeted body.
 */
export class PersistentTier {
  readonly index: IndexGate;
  #cache: Promise<BodyCache> | undefined;
  #evicting: Promise<void> | undefined;

  constructor(private readonly o: PersistentTierOptions) {
    this.index = new IndexGate(o);
    // Open Cache Storage now too, not on the first tile.
    void this.#bodies().catch(() => {});
  }

  #bodies(): Promise<BodyCache> {
    this.#cache ??= this.o.openCache().catch((e: unknown) => {
      this.#cache = undefined;
      throw e;
    });
    return this.#cache;
  }

  /** Cache Storage lookup; refreshes the entry's LRU position in the index. */
  async get(url: string): Promise<StoredTile | undefined> {
    const cache = await this.#bodies();
    const res = await cache.match(url);
    if (!res) return undefined;
    const index = await this.index.read().catch(() => undefined);
    if (!index) {
      // Not known to be budgeted right now; the body stays for a later lookup.
      void res.body?.cancel().catch(() => {});
      return undefined;
    }
    const meta = await index.get(url);
    if (!meta) {
      this.index.forget([url]);
      // A body without bookkeeping cannot be budgeted: forget it.
      void cache.delete(url).catch(() => {});
      return undefined;
    }
    const body = new Uint8Array(await res.arrayBuffer());
    index.touch(url);
    return {
      status: 200,
      body,
      contentType: res.headers.get('Content-Type') ?? 'application/octet-stream',
      etag: meta.etag,
      generation: meta.generation,
      source: 'sw-cache',
      prefetched: meta.prefetched,
      dataset: meta.dataset,
    };
  }

  /** The byte budget eviction keeps to. */
  budget(): Promise<number> {
    return this.o.budget();
  }

  async markUsed(url: string): Promise<boolean> {
    return (await this.index.read()).markUsed(url);
  }

  /**
   * Writes one group: its index records in one transaction, then each body,
   * letting visible tiles go first between bodies (`idle`). Best effort (the
   * page already has every tile): never rejects; quota failures are counted.
   */
  async write(group: PendingWrite[], idle: () => Promise<void>): Promise<void> {
    try {
      const index = await this.index.write();
      const cache = await this.#bodies();
      const records = group.map((g) => ({
        url: g.url,
        dataset: g.dataset,
        bytes: g.r.body.byteLength,
        etag: g.r.etag,
        generation: g.r.generation,
        prefetched: g.prefetched,
      }));
      const written = await this.#putRecords(index, records);
      if (written === undefined) return;
      let total = written;
      for (const rec of records) this.index.remember(rec.url);
      for (const [i, g] of group.entries()) {
        // A burst of visible tiles that starts mid-group goes first (bounded by maxDeferMs).
        await idle();
        total = await this.#putBody(cache, index, g.url, g.r, records[i]!, total).catch(() => total);
      }
      if (total > (await this.o.budget())) await this.evictSoon();
    } catch (e) {
      // A storage that cannot even be opened for lack of room is still counted.
      if (isQuotaError(e)) this.o.counters.inc('quota_errors');
    }
  }

  /**
   * Writes a group's index records (one atomic transaction). On a quota
   * failure: count it, evict a batch, retry once; undefined when the group is
   * not persisted (then nothing of it was written).
   */
  async #putRecords(index: CacheIndex, records: Record[]): Promise<number | undefined> {
    try {
      return await index.putMany(records);
    } catch (e) {
      if (!isQuotaError(e)) throw e;
    }
    this.o.counters.inc('quota_errors');
    const bytes = records.reduce((n, r) => n + r.bytes, 0);
    await this.#makeRoom(await index.totalBytes().catch(() => 0), bytes);
    try {
      return await index.putMany(records);
    } catch (e2) {
      if (isQuotaError(e2)) this.o.counters.inc('quota_errors');
      return undefined;
    }
  }

  /** Evicts a batch (LRU by bytes) so `bytes` more fit with a quarter of the budget to spare; best effort. */
  async #makeRoom(total: number, bytes: number): Promise<void> {
    const budget = await this.o.budget();
    await this.#evictNow(Math.max(0, Math.min(total, budget) - bytes - budget * 0.25)).catch(() => {});
  }

  /** Removes a body that could not be persisted from index and bodies alike (best effort: no orphan either way). */
  async #drop(cache: BodyCache, index: CacheIndex, url: string): Promise<void> {
    this.index.forget([url]);
    await Promise.all([index.delete(url).catch(() => {}), cache.delete(url).catch(() => false)]);
  }

  async #putBody(
    cache: BodyCache,
    index: CacheIndex,
    url: string,
    r: TileResult,
    record: Record,
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
        await this.#drop(cache, index, url);
        throw e;
      }
    }
    this.o.counters.inc('quota_errors');
    await this.#makeRoom(total, r.body.byteLength);
    try {
      // The eviction may have taken this entry's own record: write it again (index first, as always).
      const after = await index.put(record);
      this.index.remember(url);
      await cache.put(url, response());
      return after;
    } catch (e2) {
      // Give up on persisting this one; the page already has its response.
      if (isQuotaError(e2)) this.o.counters.inc('quota_errors');
      await this.#drop(cache, index, url);
      return index.totalBytes().catch(() => total);
    }
  }

  /** One eviction pass at a time, down to 90% of the budget so it runs in batches, not per put. */
  evictSoon(): Promise<void> {
    this.#evicting ??= (async () => {
      try {
        const budget = await this.o.budget();
        const index = await this.index.write();
        while ((await index.totalBytes()) > budget) await this.#evictNow(budget * 0.9);
      } finally {
        this.#evicting = undefined;
      }
    })();
    return this.#evicting;
  }

  async #evictNow(target: number): Promise<void> {
    const index = await this.index.write();
    const cache = await this.#bodies();
    const gone = await index.evictTo(target);
    this.index.forget(gone);
    this.o.counters.inc('evictions', gone.length);
    await Promise.all(gone.map((u) => cache.delete(u)));
  }

  /** Drops a dataset (all when undefined) from index and bodies, except entries of generation `keep`. */
  async clear(dataset: string | undefined, keep?: string): Promise<number> {
    const index = await this.index.write();
    const cache = await this.#bodies();
    const gone = await index.deleteDataset(dataset, keep);
    this.index.forget(gone);
    await Promise.all(gone.map((u) => cache.delete(u)));
    return gone.length;
  }

  async usage(): Promise<{ entries: number; bytes: number }> {
    const index = await this.index.write();
    return { entries: await index.count(), bytes: await index.totalBytes() };
  }
}
