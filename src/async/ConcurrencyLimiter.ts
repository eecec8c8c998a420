import { TileError } from '../protocol/errors.js';
import { errorFromSignal } from './errorFromSignal.js';

interface Waiter {
  grant: (release: () => void) => void;
  fail: (e: TileError) => void;
}

/**
 * A semaphore with a FIFO queue, for the server's origin and conversion slots
 * and the worker's single-tile fallbacks. With a `queueLimit`, overflow is
 * refused at once with OVERLOADED (the server answers 503 + Retry-After)
 * rather than queueing without bound; without one (the worker: its callers
 * are bounded by the page) the queue is unbounded. A queued waiter leaves the
 * queue when its signal aborts, so the wait is bounded by the caller's deadline.
 */
export class ConcurrencyLimiter {
  #active = 0;
  readonly #queue = new Set<Waiter>();

  constructor(
    readonly limit: number,
    readonly queueLimit = Number.POSITIVE_INFINITY,
    private readonly retryAfterSec = 1,
  ) {
    if (!(limit >= 1)) throw new TileError('BAD_CONFIG', 'concurrency limit must be >= 1', { limit });
  }

  get active(): number {
    return this.#active;
  }
  get queued(): number {
    return this.#queue.size;
  }

  /** Runs `task` in a slot; the slot is released however the task ends. */
  async run<T>(signal: AbortSignal, task: () => Promise<T>): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await task();
    } finally {
      release();
    }
  }

  /** Resolves with an idempotent release function once a slot is free. */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(errorFromSignal(signal));
    if (this.#active < this.limit) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    if (this.#queue.size >= this.queueLimit) {
      return Promise.reject(
        new TileError('OVERLOADED', 'origin queue is full', {
          retryAfterSec: this.retryAfterSec,
          queueLimit: this.queueLimit,
        }),
      );
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#queue.delete(waiter);
        reject(errorFromSignal(signal));
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal.removeEventListener('abort', onAbort);
          resolve(release);
        },
        fail: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#queue.add(waiter);
    });
  }

  /** Rejects every queued waiter (shutdown). */
  rejectAll(e: TileError): void {
    for (const w of this.#queue) w.fail(e);
    this.#queue.clear();
  }

  #releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      // Hand the slot straight to the next waiter: no window where a newcomer overtakes the queue.
      const next = this.#queue.values().next();
      if (!next.done) {
        this.#queue.delete(next.value);
        next.value.grant(this.#releaser());
      } else this.#active--;
    };
  }
}
