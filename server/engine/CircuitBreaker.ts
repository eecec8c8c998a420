import { TileError } from '../../src/protocol/errors.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long it stays open before one trial is let through. */
  openMs: number;
  now?: () => number;
}

/**
 * Per-origin breaker: after `failureThreshold` consecutive failures it fails
 * fast (CIRCUIT_OPEN, no origin request) for `openMs`, then lets exactly one
 * trial through; the trial's outcome closes or re-opens it. A trial that is
 * cancelled (client gone) gives no verdict and frees the trial slot.
 */
export class CircuitBreaker {
  #state: BreakerState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #trialInFlight = false;
  readonly #now: () => number;

  constructor(private readonly o: CircuitBreakerOptions) {
    this.#now = o.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.o.openMs) return 'half-open';
    return this.#state;
  }

  /** Call before an origin attempt. Returns true when this attempt is the half-open trial. Throws CIRCUIT_OPEN. */
  enter(): boolean {
    if (this.#state === 'closed') return false;
    const elapsed = this.#now() - this.#openedAt;
    if (this.#state === 'open' && elapsed >= this.o.openMs) this.#state = 'half-open';
    if (this.#state === 'half-open' && !this.#trialInFlight) {
      this.#trialInFlight = true;
      return true;
    }
    const retryAfterSec = Math.max(1, Math.ceil((this.o.openMs - elapsed) / 1000));
    throw new TileError('CIRCUIT_OPEN', 'origin circuit is open', { retryAfterSec });
  }

  success(): void {
    this.#state = 'closed';
    this.#failures = 0;
    this.#trialInFlight = false;
  }

  failure(): void {
    // A late failure from an attempt started before the circuit opened must not extend the open period.
    if (this.#state === 'open') return;
    this.#trialInFlight = false;
    this.#failures++;
    if (this.#state === 'half-open' || this.#failures >= this.o.failureThreshold) {
      this.#state = 'open';
      this.#openedAt = this.#now();
    }
  }

  /** The attempt ended without a verdict (aborted by the client). */
  cancel(trial: boolean): void {
    if (trial) this.#trialInFlight = false;
  }
}
