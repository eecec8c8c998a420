import { TileError } from '../../src/protocol/errors.js';
import { errorFromSignal } from './deadline.js';

interface Waiter {
  grant: (release: () => void) => void;
  fail: (e: TileError) => void;
}

/**
 * A semaphore with a bounded FIFO queue. Overflow is refused at once with
 * OVERLOADED (the server answers 503 + Retry-After) rather than queueing
 * without bound; a queued waiter leaves the queue when its signal aborts, so
 * the queue wait is bounded by the caller's deadline.
 */
export class ConcurrencyLimiter {
  #active = 0;
  readonly #queue = new Set<Waiter>();

  constructor(
    readonly limit: number,
    readonly queueLimit: number,
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
