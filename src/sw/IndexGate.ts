import { isTileError, TileError } from '../protocol/errors.js';
import type { CacheIndex } from './CacheIndex.js';

export interface IndexGateOptions {
  index: Promise<CacheIndex>;
  /**
   * Longest wait for the IndexedDB index on a response path (a persistent
   * hit, a video size) before treating the tile as not cached (ms, default
   * 250). An index open blocked by another connection must cost a miss, not a stall.
   */
  indexWaitMs?: number;
  /** Longest wait for the index off the response path (writes, eviction, clear, stats; ms, default 10 s). */
  indexWriteWaitMs?: number;
}

/**
 * The open / closed state of the persistent tier's IndexedDB index, and the
 * in-memory mirror of its URLs. Every wait for the index is bounded: a read
 * on the response path gives up after `indexWaitMs` (and, once one has, the
 * next reads fail at once until the index opens), work off the response path
 * after `indexWriteWaitMs`. The URL mirror tells a sure miss at once, without
 * a Cache Storage match.
 */
export class IndexGate {
  /** Mirror of the index's URLs (undefined until loaded). */
  #known: Set<string> | undefined;
  /** Writes made while the URLs were loading. */
  readonly #early = new Set<string>();
  readonly #loaded: Promise<void>;
  #readyWait: Promise<void> | undefined;
  /** A read gave up waiting for the index... */
  #stuck = false;
  /** ...until it opens. */
  #opened = false;

  constructor(private readonly o: IndexGateOptions) {
    this.#loaded = o.index
      .then((i) => {
        this.#opened = true;
        return i.allUrls();
      })
      .then((urls) => {
        const set = new Set(urls);
        for (const u of this.#early) set.add(u);
        this.#early.clear();
        this.#known = set;
      })
      .catch(() => {});
  }

  /**
   * Waits (at most `ms`) for the URL set, so a fresh worker's first burst
   * goes to the batcher together instead of one Cache Storage match each.
   */
  async ready(ms: number): Promise<void> {
    if (this.#known) return;
    // One wait per worker, shared by every caller: an index that never opens
    // costs the first burst `ms` once, not every later miss `ms` again.
    this.#readyWait ??= new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      void this.#loaded.then(() => {
        clearTimeout(t);
        resolve();
      });
    });
    await this.#readyWait;
  }

  /** False only when the URL is surely not in the persistent tier (undefined: not known yet). */
  mayHave(url: string): boolean {
    return this.#known === undefined || this.#known.has(url);
  }

  /** The URL now has an index record. */
  remember(url: string): void {
    (this.#known ?? this.#early).add(url);
  }

  forget(urls: string[]): void {
    for (const u of urls) {
      this.#known?.delete(u);
      this.#early.delete(u);
    }
  }

  /**
   * The index, or a DEADLINE_EXCEEDED rejection after `ms` (an open blocked
   * by another connection's version change, a browser that never answers).
   */
  within(ms: number): Promise<CacheIndex> {
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
  read(): Promise<CacheIndex> {
    if (this.#stuck && !this.#opened) {
      return Promise.reject(new TileError('DEADLINE_EXCEEDED', 'cache index not open yet'));
    }
    return this.within(this.o.indexWaitMs ?? 250).catch((e: unknown) => {
      if (isTileError(e, 'DEADLINE_EXCEEDED')) this.#stuck = true;
      throw e;
    });
  }

  /** The index for work off the response path (bounded by `indexWriteWaitMs`). */
  write(): Promise<CacheIndex> {
    return this.within(this.o.indexWriteWaitMs ?? 10_000);
  }
}
