export interface WriteBehindOptions<T> {
  /** Writes one group; `idle` resolves when no visible tile is pending (bounded by maxDeferMs). */
  write(group: T[], idle: () => Promise<void>): Promise<void>;
  /** A group is written this long after its last item (ms)... */
  delayMs: number;
  /** ...or as soon as it holds this many items. */
  groupSize: number;
  /**
   * True while visible tiles are still being answered: the write waits, so
   * Cache Storage puts (each blocks the worker's thread for ~1–3 ms) never
   * hold back responses the page is waiting for...
   */
  busy?: () => boolean;
  /**
   * ...but a pending item's group starts at the latest this long after the
   * item was added (ms), and `idle` inside the write waits at most as long again.
   */
  maxDeferMs?: number;
}

/**
 * The write-behind policy of the persistent tier: items are gathered into
 * groups (one IndexedDB transaction each, after the burst that produced
 * them), so persistence does not compete with a batch still streaming in.
 */
export class WriteBehind<T> {
  #pending: T[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushed: { promise: Promise<void>; resolve: () => void } | undefined;
  /** When the oldest pending item was added (performance.now()). */
  #pendingSince = 0;

  constructor(private readonly o: WriteBehindOptions<T>) {}

  /** Queues an item; the promise settles when its group is written (give it to waitUntil). */
  add(item: T): Promise<void> {
    if (this.#pending.length === 0) this.#pendingSince = performance.now();
    this.#pending.push(item);
    if (!this.#flushed) {
      let resolve!: () => void;
      const promise = new Promise<void>((res) => {
        resolve = res;
      });
      this.#flushed = { promise, resolve };
    }
    const done = this.#flushed.promise;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length >= this.o.groupSize) this.#flushWhenIdle();
    else this.#timer = setTimeout(() => this.#flushWhenIdle(), this.o.delayMs);
    return done;
  }

  /** Writes every pending item now. */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const group = this.#pending;
    const signal = this.#flushed;
    this.#pending = [];
    this.#flushed = undefined;
    try {
      if (group.length > 0) await this.o.write(group, () => this.#idle());
    } finally {
      signal?.resolve();
    }
  }

  /** Resolves once no visible tile is pending, or after maxDeferMs of waiting. */
  async #idle(): Promise<void> {
    const end = performance.now() + (this.o.maxDeferMs ?? 2000);
    while (this.o.busy?.() && performance.now() < end) {
      await new Promise((r) => setTimeout(r, this.o.delayMs));
    }
  }

  /** Flushes now unless visible tiles are pending (then re-checks), bounded by maxDeferMs. */
  #flushWhenIdle(): void {
    this.#timer = undefined;
    const waited = performance.now() - this.#pendingSince;
    if (this.o.busy?.() && waited < (this.o.maxDeferMs ?? 2000)) {
      this.#timer = setTimeout(() => this.#flushWhenIdle(), this.o.delayMs);
      return;
    }
    void this.flush().catch(() => {});
  }
}
