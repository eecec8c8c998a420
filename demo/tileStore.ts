import type { JobPriority } from '../src/client/pool/index.js';
import { isTileError } from '../src/protocol/errors.js';
import { type TileRef, tileKey } from './camera.js';
import { type DatasetConfig, tileUrl } from './config.js';
import type { Renderer, TileImage } from './render/Renderer.js';
import type { DecodeTile } from './tileDecoder.js';

type State = 'loading' | 'ready' | 'missing' | 'error';

interface Entry {
  tile: TileRef;
  state: State;
  img: TileImage | undefined;
  ctl: AbortController;
  lastUsed: number;
  retryAt: number;
}

export interface StoreStats {
  loading: number;
  ready: number;
  missing: number;
  errors: number;
  /** Live texture bytes. */
  textureBytes: number;
  /** Every upload so far. */
  uploads: number;
  uploadedBytes: number;
  /** true while the last tile fetch failed at the network level (server down). */
  serverDown: boolean;
  lastError: string | undefined;
}

export interface TileStoreOptions {
  ds: DatasetConfig;
  renderer: Renderer;
  decode: DecodeTile;
  /** Called when a tile changes state (redraw). */
  onChange: () => void;
  /** Fetch-to-bytes latency of each tile, for the histogram. */
  onLatency?: (ms: number) => void;
  /** Decoded tiles kept beyond the visible ones. */
  budget?: number;
}

const RETRY_MS = 2000;

/** Tile fetch, decode (pool), upload and eviction; aborts loads that left the view. */
export class TileStore {
  readonly #o: TileStoreOptions;
  readonly #entries = new Map<string, Entry>();
  #clock = 0;
  #uploads = 0;
  #uploadedBytes = 0;
  #serverDown = false;
  #lastError: string | undefined;

  constructor(opts: TileStoreOptions) {
    this.#o = opts;
  }

  /** The decoded image of a tile, if ready (marks it recently used). */
  get(t: TileRef): TileImage | undefined {
    const e = this.#entries.get(tileKey(t));
    if (e?.state !== 'ready') return undefined;
    e.lastUsed = ++this.#clock;
    return e.img;
  }

  state(t: TileRef): State | undefined {
    return this.#entries.get(tileKey(t))?.state;
  }

  /**
   * Makes sure `wanted` tiles are loading (in order, so the centre goes
   * first), aborts loads for tiles no longer wanted, and evicts beyond budget.
   */
  want(wanted: TileRef[], priority: JobPriority = 'visible'): void {
    const keep = new Set(wanted.map(tileKey));
    const now = performance.now();
    for (const t of wanted) {
      const key = tileKey(t);
      const e = this.#entries.get(key);
      if (e && !(e.state === 'error' && now >= e.retryAt)) {
        e.lastUsed = ++this.#clock;
        continue;
      }
      this.#start(t, key, priority);
    }
    for (const [key, e] of this.#entries) {
      if (e.state === 'loading' && !keep.has(key)) {
        e.ctl.abort();
        this.#entries.delete(key);
      }
    }
    this.#evict(keep);
  }

  stats(): StoreStats {
    const s: StoreStats = {
      loading: 0,
      ready: 0,
      missing: 0,
      errors: 0,
      textureBytes: 0,
      uploads: this.#uploads,
      uploadedBytes: this.#uploadedBytes,
      serverDown: this.#serverDown,
      lastError: this.#lastError,
    };
    for (const e of this.#entries.values()) {
      if (e.state === 'loading') s.loading++;
      else if (e.state === 'ready') {
        s.ready++;
        s.textureBytes += e.img!.bytes;
      } else if (e.state === 'missing') s.missing++;
      else s.errors++;
    }
    return s;
  }

  /** Drops every tile (e.g. after the renderer changed). */
  clear(): void {
    for (const e of this.#entries.values()) {
      e.ctl.abort();
      if (e.img) this.#o.renderer.release(e.img);
    }
    this.#entries.clear();
  }

  #start(t: TileRef, key: string, priority: JobPriority): void {
    const e: Entry = {
      tile: t,
      state: 'loading',
      img: undefined,
      ctl: new AbortController(),
      lastUsed: ++this.#clock,
      retryAt: 0,
    };
    this.#entries.set(key, e);
    void this.#load(e, priority);
  }

  async #load(e: Entry, priority: JobPriority): Promise<void> {
    const { ds, renderer, decode } = this.#o;
    const signal = e.ctl.signal;
    try {
      const t0 = performance.now();
      const res = await fetch(tileUrl(ds, e.tile.z, e.tile.x, e.tile.y), { signal });
      if (res.status === 404) {
        e.state = 'missing';
        this.#serverDown = false;
        return;
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      this.#o.onLatency?.(performance.now() - t0);
      this.#serverDown = false;
      const decoded = await decode(bytes, renderer.decodeAs, signal, priority);
      if (signal.aborted) {
        if (decoded.kind === 'bitmap') decoded.bitmap.close();
        return;
      }
      e.img = renderer.upload(decoded);
      e.state = 'ready';
      this.#uploads++;
      this.#uploadedBytes += e.img.bytes;
    } catch (err) {
      if (signal.aborted || isTileError(err, 'ABORTED')) return;
      e.state = 'error';
      e.retryAt = performance.now() + RETRY_MS;
      // Nothing else may redraw a still view: wake it up for the retry.
      setTimeout(() => this.#o.onChange(), RETRY_MS + 50);
      // fetch rejects with a TypeError only when no HTTP answer came back at all.
      if (err instanceof TypeError) this.#serverDown = true;
      else if (err instanceof Error && /^HTTP 5/.test(err.message)) this.#serverDown = true;
      this.#lastError = err instanceof Error ? err.message : String(err);
    } finally {
      if (!signal.aborted) this.#o.onChange();
    }
  }

  #evict(keep: Set<string>): void {
    const budget = this.#o.budget ?? 256;
    if (this.#entries.size <= budget + keep.size) return;
    const victims = [...this.#entries.entries()]
      .filter(([k, e]) => !keep.has(k) && e.state !== 'loading' && e.tile.z > this.#o.ds.minZoom)
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    let excess = this.#entries.size - budget - keep.size;
    for (const [k, e] of victims) {
      if (excess-- <= 0) break;
      if (e.img) this.#o.renderer.release(e.img);
      this.#entries.delete(k);
    }
  }
}
