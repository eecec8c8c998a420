import { withDeadline } from '../async/withDeadline.js';
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
  /**
   * Longest wait for one storage call off the response path (a Cache Storage
   * open, put or delete, an index transaction, an eviction pass; ms, default
   * 10 s). Neither API takes an AbortSignal, so a call that never settles is
   * abandoned at its deadline instead of holding the write (and every fetch
   * event waiting on it) forever.
   */
  storageOpMs?: number;
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
  /** URLs whose body a write is putting right now (with how many writes)... */
  readonly #writing = new Map<string, number>();
  /** ...and those of them whose index record an eviction or clear took meanwhile. */
  readonly #lost = new Set<string>();

  constructor(private readonly o: PersistentTierOptions) {
    this.index = new IndexGate(o);
    // Open Cache Storage now too, not on the first tile.
    void this.#bodies().catch(() => {});
  }

  #bodies(): Promise<BodyCache> {
    this.#cache ??= this.#bounded(this.o.openCache(), 'Cache Storage open').catch((e: unknown) => {
      this.#cache = undefined;
      throw e;
    });
    return this.#cache;
  }

  #bounded<T>(p: Promise<T>, what: string): Promise<T> {
    return withDeadline(p, this.o.storageOpMs ?? 10_000, what);
  }

  /** Index records that an eviction or clear removed: a body being put for one of them must not stay. */
  #took(gone: string[]): void {
    this.index.forget(gone);
    for (const u of gone) if (this.#writing.has(u)) this.#lost.add(u);
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

  /** Given to `waitUntil` like a write, so bounded like one. */
  async markUsed(url: string): Promise<boolean> {
    return this.#bounded((await this.index.read()).markUsed(url), 'index write');
  }

  /**
   * Writes one group: its index records in one transaction, then each body,
   * letting visible tiles go first between bodies (`idle`). Best effort (the
   * page already has every tile): never rejects; quota failures are counted.
   */
  async write(all: PendingWrite[], idle: () => Promise<void>): Promise<void> {
    // A URL queued twice (fetched again before its group was written) is written once, the last.
    const group = [...new Map(all.map((g) => [g.url, g])).values()];
    for (const g of group) this.#writing.set(g.url, (this.#writing.get(g.url) ?? 0) + 1);
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
        if (this.#lost.has(g.url)) {
          // Its record was evicted (or cleared) while the body went in: take the body out too.
          this.#lost.delete(g.url);
          await this.#bounded(cache.delete(g.url), 'Cache Storage delete').catch(() => false);
        }
      }
      if (total > (await this.#bounded(this.o.budget(), 'storage budget'))) {
        await this.#bounded(this.evictSoon(), 'eviction');
      }
    } catch (e) {
      // A storage that cannot even be opened for lack of room is still counted.
      if (isQuotaError(e)) this.o.counters.inc('quota_errors');
    } finally {
      for (const g of group) {
        const n = (this.#writing.get(g.url) ?? 1) - 1;
        if (n > 0) this.#writing.set(g.url, n);
        else {
          this.#writing.delete(g.url);
          this.#lost.delete(g.url);
        }
      }
    }
  }

  /**
   * Writes a group's index records (one atomic transaction). On a quota
   * failure: count it, evict a batch, retry once; undefined when the group is
   * not persisted (then nothing of it was written).
   */
  async #putRecords(index: CacheIndex, records: Record[]): Promise<number | undefined> {
    try {
      return await this.#bounded(index.putMany(records), 'index write');
    } catch (e) {
      if (!isQuotaError(e)) throw e;
    }
    this.o.counters.inc('quota_errors');
    const bytes = records.reduce((n, r) => n + r.bytes, 0);
    await this.#makeRoom(await this.#bounded(index.totalBytes(), 'index read').catch(() => 0), bytes);
    try {
      return await this.#bounded(index.putMany(records), 'index write');
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
    await Promise.all([
      this.#bounded(index.delete(url), 'index delete').catch(() => {}),
      this.#bounded(cache.delete(url), 'Cache Storage delete').catch(() => false),
    ]);
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
      await this.#bounded(cache.put(url, response()), 'Cache Storage put');
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
      const after = await this.#bounded(index.put(record), 'index write');
      this.index.remember(url);
      // Its record is back: an eviction from here on takes the body too (and marks it lost again).
      this.#lost.delete(url);
      await this.#bounded(cache.put(url, response()), 'Cache Storage put');
      return after;
    } catch (e2) {
      // Give up on persisting this one; the page already has its response.
      if (isQuotaError(e2)) this.o.counters.inc('quota_errors');
      await this.#drop(cache, index, url);
      return this.#bounded(index.totalBytes(), 'index read').catch(() => total);
    }
  }

  /**
   * One eviction pass at a time, down to 90% of the budget so it runs in
   * batches, not per put. Ends when under budget or when a batch evicts
   * nothing (a total no record backs: looping on it would never end and
   * hold every write that waits for this pass).
   */
  evictSoon(): Promise<void> {
    this.#evicting ??= (async () => {
      try {
        const budget = await this.#bounded(this.o.budget(), 'storage budget');
        const index = await this.index.write();
        while ((await this.#bounded(index.totalBytes(), 'index read')) > budget) {
          if ((await this.#evictNow(budget * 0.9)) === 0) break;
        }
      } finally {
        this.#evicting = undefined;
      }
    })();
    return this.#evicting;
  }

  /** Evicts down to `target` bytes (one batch); returns how many entries went. */
  async #evictNow(target: number): Promise<number> {
    const index = await this.index.write();
    const cache = await this.#bodies();
    const gone = await this.#bounded(index.evictTo(target), 'eviction batch');
    this.#took(gone);
    this.o.counters.inc('evictions', gone.length);
    await Promise.all(
      gone.map((u) => this.#bounded(cache.delete(u), 'Cache Storage delete').catch(() => false)),
    );
    return gone.length;
  }

  /** Drops a dataset (all when undefined) from index and bodies, except entries of generation `keep`. */
  async clear(dataset: string | undefined, keep?: string): Promise<number> {
    const index = await this.index.write();
    const cache = await this.#bodies();
    const gone = await index.deleteDataset(dataset, keep);
    this.#took(gone);
    await Promise.all(gone.map((u) => cache.delete(u)));
    return gone.length;
  }

  async usage(): Promise<{ entries: number; bytes: number }> {
    const index = await this.index.write();
    return { entries: await index.count(), bytes: await index.totalBytes() };
  }
}
