import { BreakerMachine, type BreakerState } from '../../src/async/BreakerMachine.js';

/** The slice of a pino logger the shared cache uses. */
export interface SharedCacheLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface RedisBreakerOptions {
  /** Consecutive failures (errors or missed deadlines) that open the breaker. */
  failureThreshold: number;
  /** How long no command is sent once open; then one trial goes through. */
  openMs: number;
  log?: SharedCacheLog | undefined;
  now?: () => number;
}

/**
 * Availability of Redis as the tile path sees it. A breaker (closed -> open
 * after `failureThreshold` consecutive failures -> one half-open trial after
 * `openMs`; the shared `BreakerMachine`) so a slow or hung Redis costs at most
 * a few deadlines, not one per request; and "log once": one warning when Redis
 * becomes unusable, one info line when it answers again, never a line per
 * request or per reconnect try. Never throws: callers ask `allow()` and skip
 * Redis when it says no.
 */
export class RedisBreaker {
  readonly #m: BreakerMachine;
  #failures = 0;
  #down = false;
  /** Times the breaker opened (for stats and tests). */
  opened = 0;

  constructor(private readonly o: RedisBreakerOptions) {
    this.#m = new BreakerMachine(o.openMs, o.now ?? Date.now);
  }

  get state(): BreakerState {
    return this.#m.state;
  }

  /** True after a failure was logged and before the next success. */
  get down(): boolean {
    return this.#down;
  }

  /** `false`: skip Redis. `'trial'`: this call is the half-open probe (report its outcome). */
  allow(): false | 'normal' | 'trial' {
    const entry = this.#m.enter();
    return entry === 'pass' ? 'normal' : entry === 'trial' ? 'trial' : false;
  }

  success(): void {
    this.#m.close();
    this.#failures = 0;
    if (this.#down) {
      this.#down = false;
      this.o.log?.info({ sharedCache: 'redis' }, 'shared cache (Redis) answers again; using it');
    }
  }

  failure(cause: string): void {
    this.#m.cancel(true); // any verdict ends a trial
    this.#failures++;
    if (this.#m.phase === 'half-open' || this.#failures >= this.o.failureThreshold) {
      if (this.#m.phase !== 'open') this.opened++;
      this.#m.open();
    }
    this.markDown(cause);
  }

  /** The call ended without a verdict (the client left): frees the trial slot. */
  cancel(trial: boolean): void {
    this.#m.cancel(trial);
  }

  /** Records unavailability seen outside a command (connection lost); logs only the first time. */
  markDown(cause: string): void {
    if (this.#down) return;
    this.#down = true;
    this.o.log?.warn(
      { sharedCache: 'redis', cause, retryInMs: this.o.openMs },
      'shared cache (Redis) unavailable; serving from memory and the origin until it is back',
    );
  }

  /** A fresh connection is up: let the next call through as a trial instead of waiting out `openMs`. */
  reconnected(): void {
    this.#m.expire();
  }
}
