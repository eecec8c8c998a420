/** A tile to prefetch: its URL (the cache key) and what the batcher needs. */
export interface PrefetchTask {
  url: string;
  dataset: string;
  key: string;
  batchUrl: string | undefined;
}

export interface PrefetcherOptions {
  enabled: boolean;
  maxInFlight: number;
  perSecond: number;
  maxQueue: number;
  /** True while visible tiles are waiting: prefetch yields to them. */
  busy: () => boolean;
  /** Data Saver on: prefetch nothing. */
  saveData: () => boolean;
  /** Fetches and stores one tile; resolves whether it fetched (false: already cached). */
  run: (task: PrefetchTask, signal: AbortSignal) => Promise<boolean>;
  now?: () => number;
  /** Retry pause when blocked by the rate cap or busy queue. */
  pauseMs?: number;
}

/**
 * Low-priority prefetch queue: runs only while no visible tile waits, at
 * most `maxInFlight` at once and `perSecond` per second (a token bucket),
 * nothing under Save-Data. Newest targets first: after a pan the tiles next
 * to the current view matter more than the ones next to the old view.
 */
export class Prefetcher {
  private readonly queue = new Map<string, PrefetchTask>();
  /** The planned (not page-asked) targets queued: `replace` swaps only these. */
  private readonly planned = new Set<string>();
  private readonly running = new Map<string, { controller: AbortController; planned: boolean }>();
  private inFlight = 0;
  private tokens: number;
  private lastRefill: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly controller = new AbortController();
  private readonly now: () => number;

  constructor(private readonly o: PrefetcherOptions) {
    this.now = o.now ?? Date.now;
    this.tokens = o.perSecond;
    this.lastRefill = this.now();
  }

  get queued(): number {
    return this.queue.size;
  }

  get active(): number {
    return this.inFlight;
  }

  /** Adds targets (deduplicated); returns how many were accepted. */
  add(tasks: PrefetchTask[]): number {
    if (!this.o.enabled || this.o.saveData()) return 0;
    let accepted = 0;
    for (const t of tasks) {
      // Re-adding moves a target to the front (delete + set = newest).
      this.queue.delete(t.url);
      this.planned.delete(t.url);
      this.queue.set(t.url, t);
      accepted++;
    }
    this.trim();
    this.pump();
    return accepted;
  }

  /**
   * The view moved on: the planned targets become `tasks` (best first).
   * Planned targets no longer wanted leave the queue, and those in flight
   * are aborted (out of their pending batch); page-asked ones stay.
   * Returns how many were cancelled.
   */
  replace(tasks: PrefetchTask[]): number {
    if (!this.o.enabled || this.o.saveData()) return 0;
    const wanted = new Set(tasks.map((t) => t.url));
    let cancelled = 0;
    for (const url of this.planned) {
      if (!wanted.has(url)) {
        this.queue.delete(url);
        cancelled++;
      }
    }
    this.planned.clear();
    for (const [url, r] of this.running) {
      if (r.planned && !wanted.has(url)) {
        r.controller.abort();
        cancelled++;
      }
    }
    // Best first: the queue runs newest first, so the best goes in last.
    for (let i = tasks.length - 1; i >= 0; i--) {
      const t = tasks[i]!;
      if (this.running.has(t.url)) continue;
      this.queue.delete(t.url);
      this.queue.set(t.url, t);
      this.planned.add(t.url);
    }
    this.trim();
    this.pump();
    return cancelled;
  }

  /** Drops one target, queued or in flight (its tile left the view); true when there was one. */
  drop(url: string): boolean {
    const queued = this.queue.delete(url);
    this.planned.delete(url);
    const r = this.running.get(url);
    r?.controller.abort();
    return queued || r !== undefined;
  }

  private trim(): void {
    while (this.queue.size > this.o.maxQueue) {
      const oldest = this.queue.keys().next().value!;
      this.queue.delete(oldest);
      this.planned.delete(oldest);
    }
  }

  /** Runs what the caps allow now; schedules itself again when blocked. */
  pump(): void {
    if (this.o.saveData()) {
      this.queue.clear();
      return;
    }
    this.refill();
    while (this.queue.size > 0 && this.inFlight < this.o.maxInFlight && this.tokens >= 1 && !this.o.busy()) {
      const url = [...this.queue.keys()].pop()!;
      const task = this.queue.get(url)!;
      this.queue.delete(url);
      const planned = this.planned.delete(url);
      this.tokens--;
      this.inFlight++;
      const controller = new AbortController();
      const signal = AbortSignal.any([this.controller.signal, controller.signal]);
      const entry = { controller, planned };
      this.running.set(url, entry);
      this.o
        .run(task, signal)
        .catch(() => false)
        .finally(() => {
          if (this.running.get(url) === entry) this.running.delete(url);
          this.inFlight--;
          this.pump();
        });
    }
    if (this.queue.size > 0 && this.timer === undefined && this.inFlight < this.o.maxInFlight) {
      // Blocked by the rate cap or visible work: look again shortly.
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, this.o.pauseMs ?? 20);
    }
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.o.perSecond, this.tokens + ((t - this.lastRefill) / 1000) * this.o.perSecond);
    this.lastRefill = t;
  }

  /** Forgets queued targets (running ones finish). */
  cancelQueued(): void {
    this.queue.clear();
    this.planned.clear();
  }

  /** Stops everything queued and in flight. */
  cancel(): void {
    this.queue.clear();
    this.planned.clear();
    this.controller.abort();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
