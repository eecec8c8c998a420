import { TileError } from '../protocol/errors.js';

interface Shared<T> {
  controller: AbortController;
  promise: Promise<T>;
  waiters: number;
}

/**
 * Reference-counted request coalescing: identical keys share one running
 * job. Each waiter brings its own AbortSignal; an abort removes only that
 * waiter (its promise rejects with ABORTED), and the shared job's signal
 * aborts only when the last waiter has left.
 */
export class Coalescer<T> {
  private readonly running = new Map<string, Shared<T>>();

  /** Jobs running now. */
  get size(): number {
    return this.running.size;
  }

  has(key: string): boolean {
    return this.running.has(key);
  }

  /** Joins the job for `key`, starting it with `start` when none runs. `joined` tells which. */
  run(
    key: string,
    signal: AbortSignal,
    start: (signal: AbortSignal) => Promise<T>,
  ): {
    promise: Promise<T>;
    joined: boolean;
  } {
    if (signal.aborted) return { promise: Promise.reject(aborted()), joined: false };
    let shared = this.running.get(key);
    const joined = shared !== undefined;
    if (!shared) {
      const controller = new AbortController();
      const s: Shared<T> = { controller, waiters: 0, promise: undefined as unknown as Promise<T> };
      s.promise = Promise.resolve()
        .then(() => start(controller.signal))
        .finally(() => {
          if (this.running.get(key) === s) this.running.delete(key);
        });
      // The shared promise may settle with nobody listening (all waiters gone).
      s.promise.catch(() => {});
      this.running.set(key, s);
      shared = s;
    }
    const s = shared;
    s.waiters++;
    const promise = new Promise<T>((resolve, reject) => {
      let left = false;
      const leave = () => {
        if (left) return;
        left = true;
        signal.removeEventListener('abort', onAbort);
        s.waiters--;
      };
      const onAbort = () => {
        if (left) return;
        leave();
        reject(aborted());
        if (s.waiters === 0) {
          if (this.running.get(key) === s) this.running.delete(key);
          s.controller.abort(aborted());
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      s.promise.then(
        (v) => {
          if (left) return;
          leave();
          resolve(v);
        },
        (e: unknown) => {
          if (left) return;
          leave();
          reject(e);
        },
      );
    });
    return { promise, joined };
  }
}

function aborted(): TileError {
  return new TileError('ABORTED', 'the request was aborted');
}
