import { ConcurrencyLimiter } from '../async/ConcurrencyLimiter.js';
import { BATCH_MEDIA_TYPE, type BatchFrame, readBatchFrames } from '../protocol/batchFraming.js';
import { TileError } from '../protocol/errors.js';
import { TILE_GENERATION_HEADER } from '../protocol/swMessages.js';
import { authError, fetchSingleTile, isAuthStatus, type SingleFetchOptions } from './fetchSingleTile.js';
import { notFound, type TileResult } from './TileResult.js';

export type Priority = 'visible' | 'prefetch';

export interface BatchItemRequest {
  dataset: string;
  /** `z/x/y.ext` */
  key: string;
  /** The batch route; undefined: this tile is fetched alone. */
  batchUrl: string | undefined;
  /** Single-tile URL for fallbacks. */
  url: string;
  priority: Priority;
  /**
   * The page request's `Authorization` header: forwarded on the batch and
   * single fetches, and such a tile is batched only with tiles carrying the
   * same value (never mixing auth contexts in one request).
   */
  authorization?: string | undefined;
}

export interface BatcherOptions extends SingleFetchOptions {
  /** Quiet gap that closes a batch window: each new miss extends the window by this much... */
  windowMs: number;
  /** ...but never past this long after the window's first miss. */
  maxWaitMs?: number;
  maxTiles: number;
  method: 'POST' | 'GET';
  /** Deadline of a whole batch response. */
  timeoutMs: number;
  /** Single fetches in flight at once for keys a batch did not answer (default 6). */
  fallbackConcurrency?: number;
  onBatch?(size: number): void;
  onBatchFailure?(error: unknown): void;
  onGeneration?(dataset: string, generation: string): void;
}

interface Item {
  req: BatchItemRequest;
  signal: AbortSignal;
  resolve(r: TileResult): void;
  reject(e: unknown): void;
  settled: boolean;
  batch: InFlightBatch | undefined;
  detach(): void;
}

interface InFlightBatch {
  controller: AbortController;
  open: number;
}

interface Group {
  items: Item[];
  timer: ReturnType<typeof setTimeout> | undefined;
  /** When the window's first miss arrived. */
  opened: number;
}

/** The group of a tile: its batch route and auth context (tiles of different credentials never share a batch). */
const groupKey = (r: BatchItemRequest) =>
  r.authorization === undefined ? r.batchUrl! : `${r.batchUrl!}\n${r.authorization}`;

/**
 * Gathers tile misses for a short window and sends them as one binary
 * streamed batch; each waiter resolves when its frame arrives. Keys the
 * batch does not answer (failed request, ERROR frame with a 5xx, truncated
 * stream) fall back to single-tile fetches with retries and backoff, at
 * most `fallbackConcurrency` at once. A 401/403 (batch or frame) is no
 * answer: those tiles reject `UNAUTHORIZED`/`FORBIDDEN` for the caller's
 * fail-safe, and are not fetched alone.
 */
export class Batcher {
  private readonly groups = new Map<string, Group>();
  private visibleOpen = 0;
  private readonly idleListeners = new Set<() => void>();
  private readonly fallbackLimit: ConcurrencyLimiter;

  constructor(private readonly o: BatcherOptions) {
    this.fallbackLimit = new ConcurrencyLimiter(o.fallbackConcurrency ?? 6);
  }

  /** Visible tiles asked and not answered yet (queued or in flight). */
  get busy(): number {
    return this.visibleOpen;
  }

  /** Called each time the last visible tile has been answered. */
  onIdle(fn: () => void): () => void {
    this.idleListeners.add(fn);
    return () => this.idleListeners.delete(fn);
  }

  request(req: BatchItemRequest, signal: AbortSignal): Promise<TileResult> {
    if (signal.aborted) return Promise.reject(new TileError('ABORTED', 'aborted before batching'));
    if (!req.batchUrl) return this.single(req, signal);
    return new Promise<TileResult>((resolve, reject) => {
      const visible = req.priority === 'visible';
      if (visible) this.visibleOpen++;
      const done = () => {
        signal.removeEventListener('abort', onAbort);
        if (visible && --this.visibleOpen === 0) for (const fn of this.idleListeners) fn();
      };
      const item: Item = {
        req,
        signal,
        settled: false,
        batch: undefined,
        resolve: (r) => {
          if (item.settled) return;
          item.settled = true;
          done();
          resolve(r);
        },
        reject: (e) => {
          if (item.settled) return;
          item.settled = true;
          done();
          reject(e);
        },
        detach: () => {},
      };
      const onAbort = () => {
        const group = this.groups.get(groupKey(req));
        if (!item.batch && group) {
          // Still waiting for its window: the tile simply leaves the batch.
          const i = group.items.indexOf(item);
          if (i >= 0) group.items.splice(i, 1);
        } else if (item.batch && !item.settled && --item.batch.open === 0) {
          item.batch.controller.abort(new TileError('ABORTED', 'every waiter of the batch left'));
        }
        item.reject(new TileError('ABORTED', 'tile request aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.enqueue(groupKey(req), item);
    });
  }

  private enqueue(key: string, item: Item): void {
    let g = this.groups.get(key);
    if (!g) {
      g = { items: [], timer: undefined, opened: performance.now() };
      this.groups.set(key, g);
    }
    g.items.push(item);
    if (g.items.length >= this.o.maxTiles) {
      this.flush(key);
      return;
    }
    // A viewer asks for a screenful in a burst that reaches the worker over
    // several milliseconds: wait for a quiet gap, bounded by maxWaitMs.
    const maxWait = this.o.maxWaitMs ?? this.o.windowMs * 4;
    const left = Math.max(0, g.opened + maxWait - performance.now());
    if (g.timer !== undefined) clearTimeout(g.timer);
    g.timer = setTimeout(() => this.flush(key), Math.min(this.o.windowMs, left));
  }

  private flush(key: string): void {
    const g = this.groups.get(key);
    if (!g) return;
    if (g.timer !== undefined) clearTimeout(g.timer);
    g.timer = undefined;
    // Visible tiles first; prefetch fills what room is left.
    const order = [...g.items].sort(
      (a, b) => (a.req.priority === 'visible' ? 0 : 1) - (b.req.priority === 'visible' ? 0 : 1),
    );
    const take = order.slice(0, this.o.maxTiles);
    g.items = order.slice(this.o.maxTiles);
    g.opened = performance.now();
    if (g.items.length === 0) this.groups.delete(key);
    else g.timer = setTimeout(() => this.flush(key), 0);
    if (take.length > 0) void this.send(take);
  }

  private async send(items: Item[]): Promise<void> {
    const controller = new AbortController();
    const batch: InFlightBatch = { controller, open: items.length };
    const byKey = new Map<string, Item[]>();
    for (const it of items) {
      it.batch = batch;
      const list = byKey.get(it.req.key);
      if (list) list.push(it);
      else byKey.set(it.req.key, [it]);
    }
    const keys = [...byKey.keys()];
    const { dataset, authorization } = items[0]!.req;
    const batchUrl = items[0]!.req.batchUrl!;
    const auth: Record<string, string> = authorization === undefined ? {} : { Authorization: authorization };
    const timer = setTimeout(
      () => controller.abort(new TileError('DEADLINE_EXCEEDED', 'batch deadline passed')),
      this.o.timeoutMs,
    );
    const answer = (key: string, r: TileResult) => {
      for (const it of byKey.get(key) ?? []) {
        if (!it.settled) batch.open--;
        it.resolve(r);
      }
      byKey.delete(key);
    };
    const reject = (key: string, e: unknown) => {
      for (const it of byKey.get(key) ?? []) {
        if (!it.settled) batch.open--;
        it.reject(e);
      }
      byKey.delete(key);
    };
    const refuse = (e: unknown) => {
      for (const key of [...byKey.keys()]) reject(key, e);
    };
    this.o.onBatch?.(keys.length);
    let generation: string | undefined;
    try {
      const init: RequestInit =
        this.o.method === 'POST'
          ? {
              method: 'POST',
              headers: { ...auth, Accept: BATCH_MEDIA_TYPE, 'Content-Type': 'application/json' },
              body: JSON.stringify({ tiles: keys }),
            }
          : { headers: { ...auth, Accept: BATCH_MEDIA_TYPE } };
      const url =
        this.o.method === 'POST'
          ? batchUrl
          : `${batchUrl}?${keys.map((k) => `tiles=${encodeURIComponent(k)}`).join('&')}`;
      const res = await this.o.fetch(url, { ...init, signal: controller.signal });
      const type = res.headers.get('Content-Type') ?? '';
      if (isAuthStatus(res.status)) {
        // The same request alone would be refused too: no single fetches.
        void res.body?.cancel().catch(() => {});
        refuse(authError(res.status, batchUrl));
        return;
      }
      if (!res.ok || !res.body || !type.startsWith(BATCH_MEDIA_TYPE)) {
        void res.body?.cancel().catch(() => {});
        throw new TileError('ORIGIN_ERROR', `batch answered ${res.status} ${type}`, { status: res.status });
      }
      generation = res.headers.get(TILE_GENERATION_HEADER) ?? undefined;
      for await (const f of readBatchFrames(res.body, controller.signal)) {
        this.onFrame(f, dataset, batchUrl, generation, answer, reject, (g) => {
          generation = g;
        });
      }
    } catch (e) {
      if (batch.open > 0) this.o.onBatchFailure?.(e);
    } finally {
      clearTimeout(timer);
      // Whatever the batch did not answer goes alone, unless its waiters left.
      for (const list of byKey.values()) {
        for (const it of list) {
          if (it.settled || it.signal.aborted) continue;
          this.single(it.req, it.signal, this.fallbackLimit).then(it.resolve, it.reject);
        }
      }
    }
  }

  private onFrame(
    f: BatchFrame,
    dataset: string,
    batchUrl: string,
    generation: string | undefined,
    answer: (key: string, r: TileResult) => void,
    reject: (key: string, e: unknown) => void,
    setGeneration: (g: string) => void,
  ): void {
    switch (f.kind) {
      case 'tile':
        answer(f.key, {
          status: 200,
          body: f.body,
          contentType: f.meta.contentType,
          etag: f.meta.etag,
          source: 'batch',
          generation,
        });
        return;
      case 'missing':
        answer(f.key, notFound('batch', generation));
        return;
      case 'error':
        // Server-side trouble is retried alone; a client error is the answer.
        if (f.error.status >= 500 || f.error.status === 429) return;
        if (isAuthStatus(f.error.status)) {
          reject(f.key, authError(f.error.status, batchUrl));
          return;
        }
        answer(f.key, {
          status: f.error.status,
          body: new TextEncoder().encode(JSON.stringify({ error: f.error })),
          contentType: 'application/json',
          etag: undefined,
          source: 'batch',
          generation,
        });
        return;
      case 'end': {
        const g = f.trailer['generation'];
        if (g !== undefined && g !== null) {
          setGeneration(String(g));
          this.o.onGeneration?.(dataset, String(g));
        }
        return;
      }
    }
  }

  private single(
    req: BatchItemRequest,
    signal: AbortSignal,
    limit?: ConcurrencyLimiter,
  ): Promise<TileResult> {
    return fetchSingleTile(req.url, signal, this.o, { authorization: req.authorization, limit }).then((r) => {
      if (r.generation) this.o.onGeneration?.(req.dataset, r.generation);
      return r;
    });
  }
}
