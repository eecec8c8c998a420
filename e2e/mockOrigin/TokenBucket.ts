import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A bandwidth cap shared by every connection of the mocked origin. Virtual
 * time scheduling: each chunk reserves its transmission slot after the
 * previous reservation, so N connections share the rate instead of each
 * getting it. A small burst allowance keeps tiny objects from paying a full
 * timer tick each.
 */
export class TokenBucket {
  #next = 0;
  constructor(
    private readonly bytesPerSec: number,
    private readonly burstMs = 20,
  ) {}

  /** Resolves when `bytes` may be sent. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    const start = Math.max(now - this.burstMs, this.#next);
    this.#next = start + (bytes * 1000) / this.bytesPerSec;
    const wait = this.#next - now;
    if (wait > 0) await sleep(wait, undefined, signal ? { signal } : undefined);
  }
}
