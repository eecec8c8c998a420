import { withDeadline } from '../async/withDeadline.js';
import { isTileError } from '../protocol/errors.js';

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
   * item was added (ms), and the `idle` waits inside one group's write add up
   * to at most as long again.
   */
  maxDeferMs?: number;
  /**
   * Deadline of one group's write (ms, default 15 s). Past it the group's
   * promises settle anyway (`onTimeout` is called): each is some fetch
   * event's `waitUntil`, and a write that never settles would keep every
   * one of those events, with its request and response, alive.
   */
  maxWriteMs?: number;
  onTimeout?: () => void;
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

  /**
   * Writes every pending item now. Settles when the group is written or its
   * `maxWriteMs` has passed (then rejects with DEADLINE_EXCEEDED); the items'
   * own promises settle either way.
   */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const group = this.#pending;
    const signal = this.#flushed;
    this.#pending = [];
    this.#flushed = undefined;
    // One idle budget per group: a write of 100 bodies waits maxDeferMs in all, not per body.
    let idleUntil: number | undefined;
    const idle = () => {
      idleUntil ??= performance.now() + (this.o.maxDeferMs ?? 2000);
      return this.#idle(idleUntil);
    };
    try {
      if (group.length > 0) {
        await withDeadline(
          this.o.write(group, idle),
          this.o.maxWriteMs ?? 15_000,
          'write-behind group',
        ).catch((e: unknown) => {
          if (isTileError(e, 'DEADLINE_EXCEEDED')) this.o.onTimeout?.();
          throw e;
        });
      }
    } finally {
      signal?.resolve();
    }
  }

  /** Resolves once no visible tile is pending, or at `end` (performance.now()). */
  async #idle(end: number): Promise<void> {
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
