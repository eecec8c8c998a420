import { LRUCache } from 'lru-cache';

export interface MissBudgetOptions {
  /** Tokens (origin misses) each client earns per second: the sustained rate. */
  perSec: number;
  /** Tokens a bucket holds at most: the burst a client may spend at once. */
  burst: number;
  /** Buckets kept at most; the least recently used is dropped past it. */
  maxClients: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  /** Clock time `tokens` was computed at. */
  at: number;
}

/**
 * A token bucket of origin misses per client (MISS_BUDGET_*). Only the miss
 * path asks it, so a cache hit costs nothing. The buckets live in an LRU
 * bounded by entries: a flood of addresses cannot grow memory past
 * `maxClients` buckets, and losing a bucket costs nothing once it has been
 * idle for `burst / perSec` seconds (it would be full again anyway).
 */
export class MissBudget {
  private readonly buckets: LRUCache<string, Bucket>;
  private readonly now: () => number;
  /** Tiles refused because their client's bucket was empty. */
  refused = 0;

  constructor(readonly o: MissBudgetOptions) {
    this.now = o.now ?? Date.now;
    this.buckets = new LRUCache<string, Bucket>({ max: Math.max(1, o.maxClients) });
  }

  /** Takes one token from `client`'s bucket; false (and counted) when it is empty. */
  take(client: string): boolean {
    const now = this.now();
    let b = this.buckets.get(client);
    if (b === undefined) {
      b = { tokens: this.o.burst, at: now };
      this.buckets.set(client, b);
    } else this.refill(b, now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    this.refused++;
    return false;
  }

  /** Gives a token back: the miss was answered without the origin (shared cache, a known-missing key). */
  refund(client: string): void {
    const b = this.buckets.peek(client);
    if (b !== undefined) b.tokens = Math.min(this.o.burst, b.tokens + 1);
  }

  /** Whole seconds until `client` has a token again (at least 1). */
  retryAfterSec(client: string): number {
    const b = this.buckets.peek(client);
    if (b === undefined) return 1;
    this.refill(b, this.now());
    return Math.max(1, Math.ceil((1 - b.tokens) / this.o.perSec));
  }

  /** Buckets held now. */
  get clients(): number {
    return this.buckets.size;
  }

  private refill(b: Bucket, now: number): void {
    const elapsed = now - b.at;
    if (elapsed > 0) {
      b.tokens = Math.min(this.o.burst, b.tokens + (elapsed * this.o.perSec) / 1000);
      b.at = now;
    }
  }
}
