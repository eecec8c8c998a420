import type { TileError } from '../../src/protocol/errors.js';
import { errorFromSignal } from './deadline.js';

interface Entry<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiters: number;
}

/**
 * Reference-counted request coalescing: concurrent `run`s with one key share
 * one `fetch`. Each waiter keeps its own signal: its abort rejects only that
 * waiter; the shared fetch is aborted only when the last waiter leaves. The
 * entry lives only while the fetch runs (caching is the caller's business),
 * so after a failure the next call fetches again.
 */
export class Coalescer<T> {
  readonly #entries = new Map<string, Entry<T>>();

  get size(): number {
    return this.#entries.size;
  }

  /** `joined` tells the caller whether it shared an existing fetch (for stats). */
  run(
    key: string,
    signal: AbortSignal,
    fetch: (signal: AbortSignal) => Promise<T>,
    onJoin?: () => void,
  ): Promise<T> {
    if (signal.aborted) return Promise.reject(errorFromSignal(signal));
    let entry = this.#entries.get(key);
    if (entry) onJoin?.();
    else {
      const controller = new AbortController();
      const created: Entry<T> = { promise: undefined as unknown as Promise<T>, controller, waiters: 0 };
      created.promise = Promise.resolve()
        .then(() => fetch(controller.signal))
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

  /** Aborts every shared fetch (shutdown). */
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
          // Last one out: nobody wants the bytes any more, free the origin socket. The
          // reason travels on, so a fetch cut by the deadline still counts as slow, not as a client abort.
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
