import { BreakerMachine, type BreakerState } from '../../src/async/BreakerMachine.js';
import { TileError } from '../../src/protocol/errors.js';

/** What FetchEngine's `breaker` option carries (everything but the clock). */
export interface BreakerSettings {
  /**
   * Minimum volume: completed attempts within the window before the failure
   * ratio is judged. Kept under its old name (it used to count consecutive
   * failures); under a total outage it is still exactly the number of failed
   * attempts that opens the circuit. `minRequests` wins when both are given.
   */
  failureThreshold: number;
  /** How long it stays open before one trial is let through. */
  openMs: number;
  /** Failed / completed attempts in the window at or above which it opens (default 0.5). */
  failureRatio?: number;
  /** Length of the sliding window (default 10 000 ms), kept as 10 fixed buckets. */
  windowMs?: number;
  /** Overrides `failureThreshold` as the minimum volume. */
  minRequests?: number;
}

export interface CircuitBreakerOptions extends BreakerSettings {
  now?: () => number;
}

const BUCKETS = 10;

/**
 * Per-origin breaker on a failure RATE: it opens when, within the last
 * `windowMs`, at least `minRequests` attempts completed and failed / completed
 * ≥ `failureRatio`. A fault on some keys only (a share of failing attempts
 * below the ratio) no longer takes healthy keys down with it. Open: fails fast
 * (CIRCUIT_OPEN, no origin request) for `openMs`, then lets exactly one trial
 * through; a success closes it and clears the window, a failure re-opens it. A
 * trial that is cancelled (client gone) gives no verdict and frees the slot.
 *
 * The window is 10 fixed buckets of windowMs/10 in typed arrays, reused in
 * place: no allocation per attempt. A bucket is stale (and zeroed on reuse)
 * when its epoch has left the window, so the window is windowMs wide to within
 * one bucket. Only each request's first attempt is counted (see `success`),
 * so the ratio is the share of requests whose origin fetch failed at first.
 * The open / half-open / one-trial machine is the shared `BreakerMachine`.
 */
export class CircuitBreaker {
  readonly #m: BreakerMachine;
  readonly #now: () => number;
  readonly #ratio: number;
  readonly #minRequests: number;
  readonly #bucketMs: number;
  readonly #epoch = new Float64Array(BUCKETS).fill(Number.NEGATIVE_INFINITY);
  readonly #total = new Uint32Array(BUCKETS);
  readonly #failed = new Uint32Array(BUCKETS);

  constructor(o: CircuitBreakerOptions) {
    this.#now = o.now ?? Date.now;
    this.#m = new BreakerMachine(o.openMs, this.#now);
    this.#ratio = o.failureRatio ?? 0.5;
    this.#minRequests = o.minRequests ?? o.failureThreshold;
    const windowMs = o.windowMs ?? 10_000;
    if (!(this.#ratio > 0 && this.#ratio <= 1))
      throw new TileError('BAD_CONFIG', 'breaker failureRatio must be in (0, 1]', {
        failureRatio: this.#ratio,
      });
    if (!(Number.isInteger(this.#minRequests) && this.#minRequests >= 1))
      throw new TileError('BAD_CONFIG', 'breaker minRequests must be an integer >= 1', {
        minRequests: this.#minRequests,
      });
    if (!(windowMs >= BUCKETS))
      throw new TileError('BAD_CONFIG', `breaker windowMs must be >= ${BUCKETS}`, { windowMs });
    this.#bucketMs = windowMs / BUCKETS;
  }

  get state(): BreakerState {
    return this.#m.state;
  }

  /** Call before an origin attempt. Returns true when this attempt is the half-open trial. Throws CIRCUIT_OPEN. */
  enter(): boolean {
    const entry = this.#m.enter();
    if (entry !== 'refused') return entry === 'trial';
    const retryAfterSec = Math.max(1, Math.ceil(this.#m.remainingMs / 1000));
    throw new TileError('CIRCUIT_OPEN', 'origin circuit is open', { retryAfterSec });
  }

  /**
   * `retry`: this attempt retries a failed one of the same request. Retries are
   * left out of the window (a failing key would otherwise weigh retries+1 times
   * against one healthy key), but a retry that is the half-open trial still
   * decides it.
   */
  success(retry = false): void {
    // A late success of an attempt started before the circuit opened is no trial: the open period runs out.
    if (this.#m.phase === 'open') return;
    if (this.#m.phase === 'half-open') {
      this.#m.close();
      this.#clear(); // the failures that opened it are history now
      return;
    }
    if (!retry) this.#record(false);
  }

  failure(retry = false): void {
    // A late failure from an attempt started before the circuit opened must not extend the open period.
    if (this.#m.phase === 'open') return;
    if (this.#m.phase === 'half-open') {
      this.#m.open();
      return;
    }
    if (retry) return;
    this.#record(true);
    if (this.#tripped()) this.#m.open();
  }

  /** The attempt ended without a verdict (aborted by the client). */
  cancel(trial: boolean): void {
    this.#m.cancel(trial);
  }

  #record(failed: boolean): void {
    const idx = Math.floor(this.#now() / this.#bucketMs);
    const slot = ((idx % BUCKETS) + BUCKETS) % BUCKETS;
    if (this.#epoch[slot] !== idx) {
      this.#epoch[slot] = idx;
      this.#total[slot] = 0;
      this.#failed[slot] = 0;
    }
    this.#total[slot]!++;
    if (failed) this.#failed[slot]!++;
  }

  #tripped(): boolean {
    const oldest = Math.floor(this.#now() / this.#bucketMs) - BUCKETS;
    let total = 0;
    let failed = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.#epoch[i]! <= oldest) continue;
      total += this.#total[i]!;
      failed += this.#failed[i]!;
    }
    return total >= this.#minRequests && failed >= this.#ratio * total;
  }

  #clear(): void {
    this.#epoch.fill(Number.NEGATIVE_INFINITY);
    this.#total.fill(0);
    this.#failed.fill(0);
  }
}
