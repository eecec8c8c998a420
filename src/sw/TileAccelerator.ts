import { Coalescer } from '../async/Coalescer.js';
import type { PrefetchTarget, PrefetchViewport, SwStats } from '../protocol/swMessages.js';
import { batchPath, isTileExt, parseTileKey } from '../protocol/tileKey.js';
import { Batcher } from './Batcher.js';
import { CacheIndex } from './CacheIndex.js';
import type { StoredTile } from './MemoryTier.js';
import type { ResolvedOptions } from './options.js';
import type { BodyCache } from './PersistentTier.js';
import { Prefetcher, type PrefetchTask } from './Prefetcher.js';
import { PrefetchPlanner } from './PrefetchPlanner.js';
import { SwCounters } from './SwCounters.js';
import { storageBudget } from './storageBudget.js';
import { type TileResult, tileResponse } from './TileResult.js';
import { type TileRoute, TileRouter } from './TileRouter.js';
import { TileStore } from './TileStore.js';
import { VideoChunks } from './VideoChunks.js';

/** The environment the accelerator runs in (a service worker, or fakes in Node tests). */
export interface AcceleratorEnv {
  workerOrigin: string;
  fetch: typeof fetch;
  openCache: () => Promise<BodyCache>;
  storageEstimate?: () => Promise<{ quota?: number | undefined }>;
  saveData?: () => boolean;
  /** Opens the IndexedDB index (default `CacheIndex.open`; injected in tests). */
  openIndex?: (name: string) => Promise<CacheIndex>;
}

interface Loaded {
  result: TileResult;
  /** The persistent write, for waitUntil. */
  stored: Promise<void> | undefined;
  fetched: boolean;
}

type Target = Pick<TileRoute, 'url' | 'dataset' | 'key' | 'batchUrl'> & {
  /** The page request's `Authorization`; such tiles live only in memory, under their own key. */
  authorization?: string | undefined;
};

/**
 * The memory and coalescing key of a tile: its URL, plus the credential when
 * the request carried one, so an answer given to one credential is never
 * served to a request with another or none (a URL never contains a newline).
 */
export const tileKey = (url: string, authorization: string | undefined) =>
  authorization === undefined ? url : `${url}\n${authorization}`;

/** The worker's tile and video logic, independent of the service-worker globals. */
export class TileAccelerator {
  readonly router: TileRouter;
  readonly counters = new SwCounters();
  readonly store: TileStore;
  readonly video: VideoChunks;
  private readonly coalescer = new Coalescer<Loaded>();
  private readonly batcher: Batcher;
  private readonly prefetcher: Prefetcher;
  private readonly generations = new Map<string, string>();
  private readonly prefetching = new Set<string>();
  private readonly planner: PrefetchPlanner;
  /**
   * Prefetched tiles no page request was served yet, with their bytes: the
   * one place `prefetched` / `prefetch_used` are counted, so each fetch
   * counts once and each first use once, whichever tier serves it.
   * Bounded; a tile that falls out stays counted as unused.
   */
  private readonly unused = new Map<string, number>();
  private visibleOpen = 0;
  private prefetchScan: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly options: ResolvedOptions,
    private readonly env: AcceleratorEnv,
  ) {
    const o = options;
    this.router = new TileRouter({
      workerOrigin: env.workerOrigin,
      server: o.server,
      tileRoutes: o.tileRoutes,
      videoRoutes: o.videoRoutes,
      batchEnabled: o.batch.enabled,
    });
    this.store = new TileStore({
      openCache: env.openCache,
      index: (env.openIndex ?? ((name: string) => CacheIndex.open(name)))(`${o.cache.name}-index`),
      memoryBytes: o.cache.memoryBytes,
      budget: storageBudget(o.cache, env.storageEstimate),
      writeDelayMs: 30,
      writeGroup: 100,
      // Persist after the visible burst: the page's responses first.
      busy: () => this.visibleOpen > 0 || this.batcher.busy > 0,
      maxDeferMs: 2000,
      counters: this.counters,
    });
    this.batcher = new Batcher({
      fetch: env.fetch,
      windowMs: o.batch.windowMs,
      maxWaitMs: o.batch.maxWaitMs,
      maxTiles: o.batch.maxTiles,
      method: o.batch.method,
      timeoutMs: o.batch.timeoutMs,
      retries: o.network.retries,
      backoffBaseMs: o.network.backoffBaseMs,
      singleTimeoutMs: o.network.timeoutMs,
      fallbackConcurrency: o.network.fallbackConcurrency,
      onBatch: (n) => {
        this.counters.inc('batches');
        this.counters.inc('batch_tiles', n);
        this.counters.max('batch_max', n);
      },
      onBatchFailure: () => this.counters.inc('batch_failures'),
      onSingleFetch: () => this.counters.inc('network_fetches'),
      onGeneration: (d, g) => this.onGeneration(d, g),
    });
    this.planner = new PrefetchPlanner({
      ring: o.prefetch.ring,
      parent: o.prefetch.parent,
      budget: o.prefetch.budget,
    });
    this.prefetcher = new Prefetcher({
      ...o.prefetch,
      busy: () => this.visibleOpen > 0 || this.batcher.busy > 0,
      saveData: env.saveData ?? (() => false),
      run: (t, s) => this.prefetchOne(t, s),
    });
    this.video = new VideoChunks({
      fetch: env.fetch,
      store: this.store.video,
      counters: this.counters,
      chunkBytes: o.video.chunkBytes,
      prefetchAhead: o.video.prefetchAhead,
      timeoutMs: o.video.timeoutMs,
    });
  }

  /**
   * A visible tile request: memory inline, else one coalesced load (cache,
   * then batch). `authorization` is the request's own header: such a tile is
   * fetched with it, batched and coalesced only with the same value, kept in
   * memory under its own key and never persisted nor prefetched around.
   */
  async handleTile(
    route: TileRoute,
    signal: AbortSignal,
    waitUntil: (p: Promise<unknown>) => void,
    authorization?: string,
  ) {
    this.counters.inc('total_requests');
    const key = tileKey(route.url, authorization);
    // A credentialed answer is for this user only, as the server marks it behind API_TOKEN.
    const cc =
      authorization === undefined
        ? this.options.cacheControl
        : this.options.cacheControl.replace(/\bpublic\b/, 'private');
    const mem = this.store.memoryGet(key);
    if (mem && this.fresh(mem)) {
      this.counters.inc('cache_hits');
      this.counters.inc('memory_hits');
      if (mem.prefetched && this.store.memoryMarkUsed(key)) {
        waitUntil(this.store.persistentMarkUsed(route.url).catch(() => {}));
      }
      this.noteServed(key);
      this.afterVisible(authorization === undefined ? route : undefined);
      return tileResponse(mem, 'sw-memory', cc);
    }
    this.visibleOpen++;
    let served = false;
    try {
      const joinsPrefetch = this.prefetching.has(key);
      let joined = false;
      const promise = this.coalescer.run(
        key,
        signal,
        (s) => this.load({ ...route, authorization }, s, 'visible'),
        () => {
          joined = true;
        },
      );
      if (joined && !joinsPrefetch) this.counters.inc('coalesced');
      const r = await promise.catch((e: unknown) => {
        if (signal.aborted) this.leftView(route, authorization);
        throw e;
      });
      served = true;
      if (r.stored) waitUntil(r.stored);
      if (this.noteServed(key))
        waitUntil(
          Promise.resolve(r.stored).then(() => this.store.persistentMarkUsed(route.url).catch(() => {})),
        );
      if (joined && !joinsPrefetch && !r.fetched) this.counters.inc('cache_hits');
      return tileResponse(r.result, r.result.source, cc);
    } finally {
      this.visibleOpen--;
      // A credentialed tile's neighbours are not prefetched (the prefetcher has no
      // credential), but as the last visible tile it still schedules the plan.
      this.afterVisible(authorization === undefined && served ? route : undefined);
    }
  }

  /**
   * The page gave up on a tile (Leaflet swapped the img's src, a loader
   * aborted): the coalescer already took it out of its pending batch when it
   * was the last waiter; prefetch spends nothing on it until it is asked again.
   */
  private leftView(route: TileRoute, authorization: string | undefined): void {
    this.counters.inc('aborted');
    if (authorization !== undefined) return;
    this.planner.aborted(route.url);
    if (this.prefetcher.drop(route.url)) this.counters.inc('prefetch_cancelled');
  }

  /** A fetch the prefetcher made (counted once per fetch). */
  private notePrefetched(url: string, bytes: number): void {
    this.counters.inc('prefetched');
    this.counters.inc('prefetch_bytes', bytes);
    this.unused.delete(url);
    this.unused.set(url, bytes);
    if (this.unused.size > 4096) this.unused.delete(this.unused.keys().next().value!);
  }

  /** A tile served to the page: true when it is a prefetched tile's first use (counted once). */
  private noteServed(key: string): boolean {
    const bytes = this.unused.get(key);
    if (bytes === undefined) return false;
    this.unused.delete(key);
    this.counters.inc('prefetch_used');
    this.counters.inc('prefetch_used_bytes', bytes);
    return true;
  }

  private fresh(t: StoredTile): boolean {
    const g = this.generations.get(t.dataset);
    return g === undefined || t.generation === undefined || t.generation === g;
  }

  private async load(t: Target, signal: AbortSignal, priority: 'visible' | 'prefetch'): Promise<Loaded> {
    if (t.authorization !== undefined) {
      // Credentialed: memory only, under the credential's own key; never Cache Storage.
      if (priority === 'visible') this.counters.inc('cache_misses');
      const result = await this.batcher.request({ ...t, priority }, signal);
      if (result.status === 404) this.counters.inc('not_found');
      this.store.memoryPut(tileKey(t.url, t.authorization), t.dataset, result);
      return { result, stored: undefined, fetched: true };
    }
    await this.store.ready(100);
    const hit = this.store.mayHave(t.url)
      ? await this.store.persistentGet(t.url).catch(() => undefined)
      : undefined;
    if (hit && this.fresh(hit)) {
      if (priority === 'visible') {
        this.counters.inc('cache_hits');
        this.counters.inc('cache_storage_hits');
        // The flag steers eviction only; off the response path (`noteServed` counts).
        if (hit.prefetched) void this.store.persistentMarkUsed(t.url).catch(() => false);
      }
      return { result: hit, stored: undefined, fetched: false };
    }
    if (priority === 'visible') this.counters.inc('cache_misses');
    const result = await this.batcher.request({ ...t, priority }, signal);
    if (result.status === 404) this.counters.inc('not_found');
    // Counted here, before any waiter resumes: a page request that joined this prefetch is its use.
    if (priority === 'prefetch') this.notePrefetched(t.url, result.body.byteLength);
    const stored = this.store.put(t.url, t.dataset, result, priority === 'prefetch').catch(() => {});
    return { result, stored, fetched: true };
  }

  /**
   * Notes a served visible tile for prefetch. The plan waits for a quiet gap
   * with no visible tile pending (prefetch could not run before that anyway),
   * so it sees a step's tiles together and never competes with frames still
   * streaming in.
   */
  private afterVisible(route: TileRoute | undefined): void {
    if (!this.options.prefetch.enabled) return;
    if (route) this.planner.served(route);
    if (this.visibleOpen > 0) return;
    if (this.prefetchScan !== undefined) clearTimeout(this.prefetchScan);
    this.prefetchScan = setTimeout(() => {
      this.prefetchScan = undefined;
      this.planPrefetch();
    }, this.options.prefetch.quietMs);
  }

  private planPrefetch(): void {
    if (this.visibleOpen > 0) return; // the last visible tile to finish schedules it again
    if (!this.planner.pending) {
      this.prefetcher.pump();
      return;
    }
    const tasks = this.planner.plan(
      (url) => this.store.memoryGet(url) !== undefined || this.coalescer.has(url),
    );
    this.counters.inc('prefetch_cancelled', this.prefetcher.replace(tasks));
  }

  private async prefetchOne(t: PrefetchTask, signal: AbortSignal): Promise<boolean> {
    if (this.store.memoryGet(t.url) || this.coalescer.has(t.url) || this.planner.hasLeft(t.url)) return false;
    this.prefetching.add(t.url);
    try {
      const r = await this.coalescer.run(t.url, signal, (s) => this.load(t, s, 'prefetch'));
      if (!r.fetched) this.counters.inc('prefetch_skipped');
      await r.stored;
      return r.fetched;
    } finally {
      this.prefetching.delete(t.url);
    }
  }

  /** Page-initiated prefetch: URLs the router knows, or dataset + key on the companion. */
  prefetch(targets: PrefetchTarget[]): { accepted: number; rejected: number } {
    const tasks: PrefetchTask[] = [];
    let rejected = 0;
    for (const t of targets) {
      const task = this.taskFor(t);
      if (task) tasks.push(task);
      else rejected++;
    }
    const accepted = this.prefetcher.add(tasks);
    return { accepted, rejected: rejected + tasks.length - accepted };
  }

  prefetchViewport(v: PrefetchViewport): { accepted: number; rejected: number } {
    const targets: PrefetchTarget[] = [];
    const n = 2 ** v.z;
    for (let y = Math.max(0, v.y0); y <= Math.min(n - 1, v.y1); y++) {
      for (let x = Math.max(0, v.x0); x <= Math.min(n - 1, v.x1); x++) {
        targets.push({ dataset: v.dataset, key: `${v.z}/${x}/${y}.${v.ext}` });
        if (targets.length >= this.options.prefetch.maxQueue) return this.prefetch(targets);
      }
    }
    return this.prefetch(targets);
  }

  private taskFor(t: PrefetchTarget): PrefetchTask | undefined {
    if (typeof t === 'string') {
      const r = this.router.route({ url: new URL(t, this.env.workerOrigin).href, method: 'GET' });
      return r?.kind === 'tile'
        ? { url: r.url, dataset: r.dataset, key: r.key, batchUrl: r.batchUrl }
        : undefined;
    }
    try {
      const c = parseTileKey(t.key);
      if (!isTileExt(c.ext)) return undefined;
      const url = `${this.options.server}/api/tiles/${t.dataset}/${t.key}`;
      const r = this.router.route({ url, method: 'GET' });
      if (r?.kind !== 'tile') return undefined;
      return {
        url,
        dataset: t.dataset,
        key: t.key,
        batchUrl: `${this.options.server}${batchPath(t.dataset)}`,
      };
    } catch {
      return undefined;
    }
  }

  /** A generation the server reported: a change means the server's cache was cleared. */
  private onGeneration(dataset: string, g: string): void {
    const known = this.generations.get(dataset);
    if (known === g) return;
    this.generations.set(dataset, g);
    void (async () => {
      const index = await this.store.indexReady();
      const saved = known ?? (await index.getGeneration(dataset));
      await index.setGeneration(dataset, g);
      if (saved !== undefined && saved !== g) await this.store.clear(dataset, g);
    })().catch(() => {});
  }

  async clear(dataset?: string): Promise<number> {
    this.prefetcher.cancelQueued();
    return this.store.clear(dataset);
  }

  async stats(): Promise<SwStats> {
    const usage = await this.store.usage().catch(() => ({ entries: 0, bytes: 0 }));
    this.counters.set('in_flight', this.coalescer.size);
    this.counters.set('cache_size', usage.entries);
    this.counters.set('bytes', usage.bytes);
    this.counters.set('cache_max', await this.store.persistent.budget());
    this.counters.set('memory_bytes', this.store.memoryBytes());
    return this.counters.snapshot();
  }
}
