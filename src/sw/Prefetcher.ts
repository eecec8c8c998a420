import type { TileCoord } from '../protocol/tileKey.js';

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

/** Same-zoom neighbours within `ring` of a tile, then its parent; clipped to the level. */
export function neighbours(c: TileCoord, ring: number, parent: boolean): TileCoord[] {
  const out: TileCoord[] = [];
  const n = 2 ** c.z;
  for (let dy = -ring; dy <= ring; dy++) {
    for (let dx = -ring; dx <= ring; dx++) {
      if (dx === 0 && dy === 0) continue;
      const x = c.x + dx;
      const y = c.y + dy;
      if (x >= 0 && y >= 0 && x < n && y < n) out.push({ z: c.z, x, y, ext: c.ext });
    }
  }
  if (parent && c.z > 0) out.push({ z: c.z - 1, x: c.x >> 1, y: c.y >> 1, ext: c.ext });
  return out;
}

/**
 * Low-priority prefetch queue: runs only while no visible tile waits, at
 * most `maxInFlight` at once and `perSecond` per second (a token bucket),
 * nothing under Save-Data. Newest targets first: after a pan the tiles next
 * to the current view matter more than the ones next to the old view.
 */
export class Prefetcher {
  private readonly queue = new Map<string, PrefetchTask>();
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

  get running(): number {
    return this.inFlight;
  }

  /** Adds targets (deduplicated); returns how many were accepted. */
  add(tasks: PrefetchTask[]): number {
    if (!this.o.enabled || this.o.saveData()) return 0;
    let accepted = 0;
    for (const t of tasks) {
      // Re-adding moves a target to the front (delete + set = newest).
      this.queue.delete(t.url);
      this.queue.set(t.url, t);
      accepted++;
    }
    while (this.queue.size > this.o.maxQueue) this.queue.delete(this.queue.keys().next().value!);
    this.pump();
    return accepted;
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
      this.tokens--;
      this.inFlight++;
      this.o
        .run(task, this.controller.signal)
        .catch(() => false)
        .finally(() => {
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
  }

  /** Stops everything queued and in flight. */
  cancel(): void {
    this.queue.clear();
    this.controller.abort();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
