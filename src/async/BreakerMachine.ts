import type { BreakerState } from '../protocol/stats.js';

export type { BreakerState };

/** What `enter` lets through: a normal call, the one half-open trial, or nothing. */
export type BreakerEntry = 'pass' | 'trial' | 'refused';

/**
 * The state machine every breaker here shares (the origin's `CircuitBreaker`,
 * the shared cache's `RedisBreaker`): closed -> open -> after `openMs` exactly
 * one trial (half-open) -> closed on its success, open again on its failure.
 * When to open is the owner's business (a failure rate, a streak); so is what
 * a refusal means (an error, a skipped cache). No timers: the clock is read
 * when asked, so an idle breaker costs nothing and tests inject `now`.
 */
export class BreakerMachine {
  #phase: BreakerState = 'closed';
  #openedAt = 0;
  #trialInFlight = false;

  constructor(
    readonly openMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The state as seen from outside: an open breaker whose period ran out reads half-open. */
  get state(): BreakerState {
    if (this.#phase === 'open' && this.now() - this.#openedAt >= this.openMs) return 'half-open';
    return this.#phase;
  }

  /**
   * The state as last moved by `enter`/`open`/`close`: still `'open'` after the
   * period ran out until the next `enter`, so an owner can tell a late verdict
   * of a call started before it opened (ignore it) from the trial's.
   */
  get phase(): BreakerState {
    return this.#phase;
  }

  /** Milliseconds the open period still runs (<= 0 once the trial may go). */
  get remainingMs(): number {
    return this.openMs - (this.now() - this.#openedAt);
  }

  /** Call before each call: moves open -> half-open when the period ran out and hands out the one trial. */
  enter(): BreakerEntry {
    if (this.#phase === 'closed') return 'pass';
    if (this.#phase === 'open' && this.now() - this.#openedAt >= this.openMs) this.#phase = 'half-open';
    if (this.#phase === 'half-open' && !this.#trialInFlight) {
      this.#trialInFlight = true;
      return 'trial';
    }
    return 'refused';
  }

  /** Opens (or re-opens) now; a trial in flight no longer counts. */
  open(): void {
    this.#phase = 'open';
    this.#openedAt = this.now();
    this.#trialInFlight = false;
  }

  close(): void {
    this.#phase = 'closed';
    this.#trialInFlight = false;
  }

  /** The call ended without a verdict (the client left): a trial frees its slot for the next caller. */
  cancel(trial: boolean): void {
    if (trial) this.#trialInFlight = false;
  }

  /** Ends the open period now (the next `enter` is the trial), e.g. when a fresh connection is up. */
  expire(): void {
    if (this.#phase === 'open') this.#openedAt = this.now() - this.openMs;
  }
}
