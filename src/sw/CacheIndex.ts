import { type DBSchema, type IDBPDatabase, type IDBPTransaction, openDB, type StoreNames } from 'idb';

/**
 * True for a storage-quota failure in any of the shapes browsers report it:
 * a `QuotaExceededError` DOMException (legacy code 22, Firefox's
 * `NS_ERROR_DOM_QUOTA_REACHED`), or a transaction `AbortError` whose `.error`
 * is one (Chromium fails an IndexedDB write on commit, so the requests see
 * the abort first).
 */
export function isQuotaError(e: unknown, depth = 0): boolean {
  if (typeof e !== 'object' || e === null || depth > 3) return false;
  const x = e as { name?: unknown; code?: unknown; error?: unknown; cause?: unknown };
  if (x.name === 'QuotaExceededError' || x.name === 'NS_ERROR_DOM_QUOTA_REACHED' || x.code === 22)
    return true;
  return isQuotaError(x.error, depth + 1) || isQuotaError(x.cause, depth + 1);
}

/** One cached body's bookkeeping; the body itself lives in Cache Storage under `url`. */
export interface IndexEntry {
  url: string;
  /** Dataset id, or `video` for video chunks. */
  dataset: string;
  bytes: number;
  lastAccess: number;
  etag: string | undefined;
  generation: string | undefined;
  /** Fetched by the prefetcher and not yet asked for by a page. */
  prefetched: boolean;
}

interface Schema extends DBSchema {
  entries: { key: string; value: IndexEntry; indexes: { byAccess: number; byDataset: string } };
  meta: { key: string; value: { k: string; v: number | string } };
}

const TOTAL = 'totalBytes';

type WriteTx = IDBPTransaction<Schema, StoreNames<Schema>[], 'readwrite'>;

/**
 * Awaits a readwrite transaction's work and its commit. On failure it throws
 * the transaction's own error when there is one: a quota failure aborts the
 * whole transaction, and its requests only report a bare `AbortError`.
 */
async function committed<T>(tx: WriteTx, work: Promise<T>): Promise<T> {
  try {
    const [value] = await Promise.all([work, tx.done]);
    return value;
  } catch (e) {
    await tx.done.catch(() => {});
    throw tx.error ?? e;
  }
}

/**
 * IndexedDB index of the persistent tile cache: a true LRU by bytes. The
 * byte total is kept in the same transaction as every put and delete, so it
 * survives the worker being killed between any two steps. Access times are
 * written behind in batches (an LRU order a second stale is fine).
 */
export class CacheIndex {
  private readonly touches = new Map<string, number>();
  private touchTimer: ReturnType<typeof setTimeout> | undefined;

  private closedFlag = false;

  private constructor(
    private readonly db: IDBPDatabase<Schema>,
    private readonly now: () => number,
  ) {}

  /**
   * True once the connection is gone: closed by us, for another context's
   * version change (`blocking`), or by the browser (`terminated`). Every
   * operation then rejects and the store treats the persistent layer as empty.
   */
  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * Opens (creating) the index. A newer version opened elsewhere (another
   * worker version, another tab's code) is never blocked by this connection:
   * it is closed at once on `versionchange`. While this open is itself blocked
   * by an older connection it stays pending; callers on the tile path bound
   * their wait (`TileStore`), so a stuck open costs a cache miss, not a stall.
   */
  static async open(name: string, now: () => number = Date.now): Promise<CacheIndex> {
    let index: CacheIndex | undefined;
    const db = await openDB<Schema>(name, 1, {
      upgrade(d) {
        const s = d.createObjectStore('entries', { keyPath: 'url' });
        s.createIndex('byAccess', 'lastAccess');
        s.createIndex('byDataset', 'dataset');
        d.createObjectStore('meta', { keyPath: 'k' });
      },
      blocking(_current, _next, event) {
        // Another context wants a newer version: step aside rather than block it forever.
        if (index) index.close();
        else (event.target as IDBDatabase).close();
      },
      terminated() {
        if (index) index.closedFlag = true;
      },
    });
    index = new CacheIndex(db, now);
    return index;
  }

  get(url: string): Promise<IndexEntry | undefined> {
    return this.db.get('entries', url);
  }

  /** Every indexed URL (loaded once per worker start so misses are known without a Cache Storage lookup). */
  allUrls(): Promise<string[]> {
    return this.db.getAllKeys('entries');
  }

  async totalBytes(): Promise<number> {
    return Number((await this.db.get('meta', TOTAL))?.v ?? 0);
  }

  count(): Promise<number> {
    return this.db.count('entries');
  }

  /** Adds or replaces an entry; returns the new byte total. Atomic: on failure nothing is written. */
  put(e: Omit<IndexEntry, 'lastAccess'> & { lastAccess?: number }): Promise<number> {
    const tx: WriteTx = this.db.transaction(['entries', 'meta'], 'readwrite');
    return committed(
      tx,
      (async () => {
        const entries = tx.objectStore('entries');
        const meta = tx.objectStore('meta');
        const [old, total] = await Promise.all([entries.get(e.url), meta.get(TOTAL)]);
        const next = Number(total?.v ?? 0) - (old?.bytes ?? 0) + e.bytes;
        await Promise.all([
          entries.put({ ...e, lastAccess: e.lastAccess ?? this.now() }),
          meta.put({ k: TOTAL, v: next }),
        ]);
        return next;
      })(),
    );
  }

  /**
   * Adds or replaces many entries in one transaction; returns the new byte
   * total. Atomic like `put`. A URL listed twice counts once (the last one):
   * every old size is read before the writes, so a repeat would add its bytes
   * to the total twice, a drift no eviction can take back.
   */
  putMany(all: Array<Omit<IndexEntry, 'lastAccess'>>): Promise<number> {
    const list = [...new Map(all.map((e) => [e.url, e])).values()];
    const tx: WriteTx = this.db.transaction(['entries', 'meta'], 'readwrite');
    return committed(
      tx,
      (async () => {
        const entries = tx.objectStore('entries');
        const meta = tx.objectStore('meta');
        let total = Number((await meta.get(TOTAL))?.v ?? 0);
        const olds = await Promise.all(list.map((e) => entries.get(e.url)));
        const t = this.now();
        const writes = list.map((e, i) => {
          total += e.bytes - (olds[i]?.bytes ?? 0);
          return entries.put({ ...e, lastAccess: t });
        });
        await Promise.all([...writes, meta.put({ k: TOTAL, v: total })]);
        return total;
      })(),
    );
  }

  /** Records a use; written behind. Returns nothing so the response path never waits. */
  touch(url: string): void {
    this.touches.set(url, this.now());
    this.touchTimer ??= setTimeout(() => void this.flushTouches().catch(() => {}), 1000);
  }

  async flushTouches(): Promise<void> {
    if (this.touchTimer !== undefined) clearTimeout(this.touchTimer);
    this.touchTimer = undefined;
    if (this.touches.size === 0) return;
    const batch = [...this.touches];
    this.touches.clear();
    const tx = this.db.transaction('entries', 'readwrite');
    await Promise.all([
      ...batch.map(async ([url, t]) => {
        const e = await tx.store.get(url);
        if (e) await tx.store.put({ ...e, lastAccess: Math.max(e.lastAccess, t) });
      }),
      tx.done,
    ]);
  }

  /** Clears the prefetched flag; true when it was set (a prefetch that got used). */
  async markUsed(url: string): Promise<boolean> {
    const tx = this.db.transaction('entries', 'readwrite');
    const e = await tx.store.get(url);
    if (!e?.prefetched) {
      await tx.done;
      return false;
    }
    await tx.store.put({ ...e, prefetched: false, lastAccess: this.now() });
    await tx.done;
    return true;
  }

  /** Deletes the least recently used entries until the total is at most `targetBytes`; returns their URLs. */
  async evictTo(targetBytes: number, maxEntries = 500): Promise<string[]> {
    await this.flushTouches();
    const tx: WriteTx = this.db.transaction(['entries', 'meta'], 'readwrite');
    return committed(
      tx,
      (async () => {
        const meta = tx.objectStore('meta');
        let total = Number((await meta.get(TOTAL))?.v ?? 0);
        const gone: string[] = [];
        let cursor = await tx.objectStore('entries').index('byAccess').openCursor();
        while (cursor && total > targetBytes && gone.length < maxEntries) {
          total -= cursor.value.bytes;
          gone.push(cursor.value.url);
          await cursor.delete();
          cursor = await cursor.continue();
        }
        // Every entry is gone: the true total is 0, whatever an older version's drift left in it.
        if (!cursor) total = 0;
        await meta.put({ k: TOTAL, v: Math.max(0, total) });
        return gone;
      })(),
    );
  }

  /** Deletes the entries of `dataset` (all when undefined), keeping those of generation `keep`. */
  async deleteDataset(dataset: string | undefined, keep?: string): Promise<string[]> {
    const tx = this.db.transaction(['entries', 'meta'], 'readwrite');
    const meta = tx.objectStore('meta');
    let total = Number((await meta.get(TOTAL))?.v ?? 0);
    const gone: string[] = [];
    const store = tx.objectStore('entries');
    let cursor =
      dataset === undefined ? await store.openCursor() : await store.index('byDataset').openCursor(dataset);
    while (cursor) {
      if (keep === undefined || cursor.value.generation !== keep) {
        total -= cursor.value.bytes;
        gone.push(cursor.value.url);
        await cursor.delete();
      }
      cursor = await cursor.continue();
    }
    await meta.put({ k: TOTAL, v: Math.max(0, total) });
    await tx.done;
    return gone;
  }

  /** Removes one entry (its body is missing or could not be written). */
  delete(url: string): Promise<void> {
    const tx: WriteTx = this.db.transaction(['entries', 'meta'], 'readwrite');
    return committed(
      tx,
      (async () => {
        const e = await tx.objectStore('entries').get(url);
        if (!e) return;
        const total = Number((await tx.objectStore('meta').get(TOTAL))?.v ?? 0);
        await tx.objectStore('entries').delete(url);
        await tx.objectStore('meta').put({ k: TOTAL, v: Math.max(0, total - e.bytes) });
      })(),
    );
  }

  async getGeneration(dataset: string): Promise<string | undefined> {
    const v = (await this.db.get('meta', `gen:${dataset}`))?.v;
    return v === undefined ? undefined : String(v);
  }

  async setGeneration(dataset: string, generation: string): Promise<void> {
    await this.db.put('meta', { k: `gen:${dataset}`, v: generation });
  }

  /** Small string records (video sizes and ETags). */
  async getMeta(key: string): Promise<string | undefined> {
    const v = (await this.db.get('meta', `m:${key}`))?.v;
    return v === undefined ? undefined : String(v);
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.db.put('meta', { k: `m:${key}`, v: value });
  }

  async deleteMeta(key: string): Promise<void> {
    await this.db.delete('meta', `m:${key}`);
  }

  close(): void {
    this.closedFlag = true;
    if (this.touchTimer !== undefined) clearTimeout(this.touchTimer);
    this.touchTimer = undefined;
    this.db.close();
  }
}
