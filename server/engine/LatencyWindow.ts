/**
 * Percentiles over the last `size` samples (a ring buffer). Bounded memory,
 * recent behaviour, and a sort of at most `size` numbers only when stats are
 * read: cheaper on the hot path than a histogram library.
 */
export class LatencyWindow {
  readonly #samples: Float64Array;
  #next = 0;
  #count = 0;

  constructor(size = 1024) {
    this.#samples = new Float64Array(size);
  }

  add(ms: number): void {
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#samples.length;
    if (this.#count < this.#samples.length) this.#count++;
  }

  /** Nearest-rank percentile, 0 when empty. */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const sorted = this.#samples.slice(0, this.#count).sort();
    const rank = Math.min(this.#count - 1, Math.max(0, Math.ceil((p / 100) * this.#count) - 1));
    return sorted[rank]!;
  }
}
