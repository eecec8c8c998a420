import type { TileError } from '../protocol/errors.js';
import { errorFromSignal } from './errorFromSignal.js';

interface Entry<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiters: number;
}

/**
 * Reference-counted request coalescing, for the server's origin fetches and
 * the worker's tile and video loads: concurrent `run`s with one key share one
 * job. Each waiter keeps its own signal: its abort rejects only that waiter
 * (with `errorFromSignal`); the shared job's signal aborts only when the last
 * waiter leaves. The entry lives only while the job runs (caching is the
 * caller's business), so after a failure the next call starts again.
 */
export class Coalescer<T> {
  readonly #entries = new Map<string, Entry<T>>();

  /** Jobs running now. */
  get size(): number {
    return this.#entries.size;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /**
   * Joins the job for `key`, starting it with `start` when none runs.
   * `onJoin` is called (synchronously) when this call shares a running job,
   * for the callers' counters.
   */
  run(
    key: string,
    signal: AbortSignal,
    start: (signal: AbortSignal) => Promise<T>,
    onJoin?: () => void,
  ): Promise<T> {
    if (signal.aborted) return Promise.reject(errorFromSignal(signal));
    let entry = this.#entries.get(key);
    if (entry) onJoin?.();
    else {
      const controller = new AbortController();
      const created: Entry<T> = { promise: undefined as unknown as Promise<T>, controller, waiters: 0 };
      created.promise = Promise.resolve()
        .then(() => start(controller.signal))
        .finally(() => {
          if (this.#entries.get(key) === created) this.#entries.delete(key);
        });
      // Waiters may all have left; the shared promise must never be an unhandled rejection.
      created.promise.catch(() => {});
      this.#entries.set(key, created);
      entry = created;
    }
    return this.#wait(key, entry, signal);
  }

  /** Aborts every shared job (shutdown). */
  abortAll(reason: TileError): void {
    for (const e of this.#entries.values()) e.controller.abort(reason);
    this.#entries.clear();
  }

  #wait(key: string, entry: Entry<T>, signal: AbortSignal): Promise<T> {
    entry.waiters++;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const leave = () => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        entry.waiters--;
      };
      const onAbort = () => {
        if (settled) return;
        leave();
        const why = errorFromSignal(signal);
        reject(why);
        if (entry.waiters === 0) {
          // Last one out: nobody wants the result any more, free the origin socket (or drop the tile
          // from its batch). The reason travels on, so a fetch cut by a deadline still counts as slow.
          if (this.#entries.get(key) === entry) this.#entries.delete(key);
          entry.controller.abort(why);
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      entry.promise.then(
        (v) => {
          if (settled) return;
          leave();
          resolve(v);
        },
        (e: unknown) => {
          if (settled) return;
          leave();
          reject(e);
        },
      );
    });
  }
}
