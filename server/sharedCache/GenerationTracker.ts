import { LRUCache } from 'lru-cache';

/** Datasets remembered at once; ids come from requests, so the map is bounded. */
const MAX_DATASETS = 10_000;

/**
 * Ties this instance's memory-cache generation of a dataset (bumped by every
 * local clear) to the dataset's generation in Redis (bumped by a clear on any
 * instance). A write to Redis is accepted only under the Redis generation that
 * was current when the fetch began, so a fetch that started before a clear
 * anywhere can never put old bytes back; and a read that finds Redis ahead of
 * what this instance knew reveals a clear made elsewhere (a missed pub/sub
 * message, e.g. during a disconnect).
 */
export class GenerationTracker {
  readonly #m = new LRUCache<string, { local: number; redis: number }>({ max: MAX_DATASETS });

  /**
   * Records the Redis generation a read saw under the local one. Returns
   * `'remote-clear'` when Redis moved ahead while the local generation did not
   * (another instance cleared the dataset); the caller then clears locally and
   * calls `forget`.
   */
  observe(dataset: string, local: number, redis: number): 'ok' | 'remote-clear' {
    const e = this.#m.get(dataset);
    if (e === undefined || local > e.local) {
      this.#m.set(dataset, { local, redis });
      return 'ok';
    }
    if (local < e.local) return 'ok'; // a fetch that began before a local clear: it can no longer write
    if (redis > e.redis) return 'remote-clear';
    // Lower: Redis lost its data (restart without persistence); the new numbering starts over.
    if (redis < e.redis) e.redis = redis;
    return 'ok';
  }

  /** Accepts the Redis generation as known (used when no one listens for remote clears). */
  adopt(dataset: string, local: number, redis: number): void {
    this.#m.set(dataset, { local, redis });
  }

  /** The Redis generation a write under `local` must still find, or undefined (stale or unknown: skip). */
  expected(dataset: string, local: number): number | undefined {
    const e = this.#m.get(dataset);
    return e !== undefined && e.local === local ? e.redis : undefined;
  }

  forget(dataset: string): void {
    this.#m.delete(dataset);
  }
}
