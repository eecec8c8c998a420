import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { Coalescer } from '../../src/async/Coalescer.js';
import { isTileError, TileError } from '../../src/protocol/errors.js';
import { isValidDatasetId, isVectorExt, type TileCoord } from '../../src/protocol/tileKey.js';
import type { Dataset } from '../datasets/Dataset.js';
import { type DatasetDiscovery, DatasetResolver } from '../datasets/DatasetResolver.js';
import { DZI_VIEW_SUFFIX } from '../datasets/DziView.js';
import { raceSignal } from '../engine/deadline.js';
import type { TileEngine } from '../engineContract.js';
import { DDS_CONTENT_TYPE } from './contentTypes.js';
import type { MemoryTileCache, TileEntry } from './MemoryTileCache.js';
import type { SharedCache } from './SharedCache.js';

export type TileSource = 'memory-cache' | 'shared-cache' | 'origin';

/** A tile's cached answer and the layer that gave it (headers are the route's business). */
export interface ServedTile {
  entry: TileEntry;
  source: TileSource;
}

/** `rasterToDDS` from server/dds: BC1 when opaque, BC3 with alpha, full mip chain. */
export type ToDDS = (raster: Uint8Array, signal: AbortSignal) => Promise<Uint8Array>;

export interface TileServiceOptions {
  engine: TileEngine;
  cache: MemoryTileCache;
  shared: SharedCache;
  toDDS: () => Promise<ToDDS>;
  tileKeyTemplate: string;
  ttlMs: number;
  staleIfErrorMs: number;
  negativeTtlMs: number;
  /** Deadline of a dds conversion (it is shared by every waiter, so not tied to one client). */
  convertTimeoutMs: number;
  /** Deadline of one shared-cache read (default 500 ms); past it the origin is asked. */
  sharedTimeoutMs?: number;
  /**
   * Deadline of one tile across its format fallback (ORIGIN_TIMEOUT_MS): each
   * origin fetch has that deadline in the engine, and without this a tile
   * falling back jpg -> png -> webp could take three of them.
   */
  tileTimeoutMs?: number;
  /** DATASET_DISCOVERY (default `auto`): see server/datasets/DatasetResolver.ts. */
  discovery?: DatasetDiscovery;
  now?: () => number;
}

const gunzipAsync = promisify(gunzip);
/** A vector tile inflating past this is refused (tiles are KiB). */
const MAX_VECTOR_TILE_BYTES = 16 * 1024 * 1024;

async function gunzipTile(b: Uint8Array): Promise<Uint8Array> {
  try {
    return await gunzipAsync(b, { maxOutputLength: MAX_VECTOR_TILE_BYTES });
  } catch (e) {
    throw new TileError('BAD_ARCHIVE', 'a gzip vector tile could not be inflated', {}, { cause: e });
  }
}

/** Codes that mean "the origin could not answer": stale-if-error may cover them. */
const ORIGIN_FAILURES = new Set([
  'ORIGIN_ERROR',
  'ORIGIN_TIMEOUT',
  'ORIGIN_UNAVAILABLE',
  'CIRCUIT_OPEN',
  'OVERLOADED',
  'DEADLINE_EXCEEDED',
]);

/**
 * The tile data path: memory cache -> shared cache -> origin (through the
 * engine), with format fallback, `.dds` conversion and stale-if-error.
 * `lookup` is synchronous so a hit is answered inline by the route.
 */
export class TileService {
  hits = 0;
  misses = 0;
  staleHits = 0;
  sharedHits = 0;
  /** Keys answered missing without an origin request: outside the dataset's known pyramid. */
  refused = 0;
  /** What each dataset is (tree, PMTiles, DZI) and its known pyramid. */
  readonly datasets: DatasetResolver;
  private readonly now: () => number;
  /** One `.dds` conversion per key however many clients ask. */
  private readonly ddsInFlight = new Coalescer<TileEntry>();

  constructor(private readonly o: TileServiceOptions) {
    this.now = o.now ?? Date.now;
    this.datasets = new DatasetResolver({
      engine: o.engine,
      tileKeyTemplate: o.tileKeyTemplate,
      discovery: o.discovery ?? 'auto',
      generation: (d) => o.cache.generation(d),
      ...(o.tileTimeoutMs !== undefined ? { tileTimeoutMs: o.tileTimeoutMs } : {}),
      now: this.now,
    });
    // A clear on another instance (seen through the shared cache) must empty this memory cache too.
    o.shared.onRemoteClear?.((dataset) => o.cache.clearDataset(dataset));
  }

  get cache(): MemoryTileCache {
    return this.o.cache;
  }

  get shared(): SharedCache {
    return this.o.shared;
  }

  /** The dataset's cache generation (`X-Tile-Generation`): bumped by every clear. */
  generation(dataset: string): number {
    return this.o.cache.generation(dataset);
  }

  /**
   * Fresh memory entry (counted as a hit) or undefined (not counted: the
   * caller validates the key, then `fetch` counts the miss). Only validated
   * keys are ever stored, so looking up an unvalidated key is safe.
   */
  lookup(cacheKey: string): TileEntry | undefined {
    const e = this.o.cache.get(cacheKey);
    if (e !== undefined && this.isFresh(e)) {
      this.hits++;
      return e;
    }
    return undefined;
  }

  /** lookup, then fetch on a miss. */
  async get(dataset: string, coord: TileCoord, cacheKey: string, signal: AbortSignal): Promise<ServedTile> {
    const e = this.lookup(cacheKey);
    return e ? { entry: e, source: 'memory-cache' } : await this.fetch(dataset, coord, cacheKey, signal);
  }

  /** The miss path (counts one miss): shared cache, then the origin; stale entry when the origin fails. */
  async fetch(dataset: string, coord: TileCoord, cacheKey: string, signal: AbortSignal): Promise<ServedTile> {
    this.misses++;
    const generation = this.o.cache.generation(dataset);
    try {
      return await this.fetchFresh(dataset, coord, cacheKey, generation, signal);
    } catch (e) {
      const stale = this.o.cache.get(cacheKey);
      if (
        stale?.bytes &&
        isTileError(e) &&
        ORIGIN_FAILURES.has(e.code) &&
        this.now() - stale.storedAt < this.o.ttlMs + this.o.staleIfErrorMs
      ) {
        this.staleHits++;
        return { entry: stale, source: 'memory-cache' };
      }
      throw e;
    }
  }

  /** Drops the dataset from the memory and shared caches; bumps the generation first. */
  async clearDataset(dataset: string, signal: AbortSignal): Promise<number> {
    let n = this.o.cache.clearDataset(dataset);
    await this.o.shared.clearDataset(dataset, signal);
    // The Deep Zoom view `d_files` shows d's tiles: it goes with them.
    const view = `${dataset}${DZI_VIEW_SUFFIX}`;
    if (isValidDatasetId(view) && !dataset.endsWith(DZI_VIEW_SUFFIX)) {
      n += this.o.cache.clearDataset(view);
      await this.o.shared.clearDataset(view, signal);
    }
    return n;
  }

  private isFresh(e: TileEntry): boolean {
    const age = this.now() - e.storedAt;
    return age < (e.bytes === null ? this.o.negativeTtlMs : this.o.ttlMs);
  }

  private async fetchFresh(
    dataset: string,
    coord: TileCoord,
    cacheKey: string,
    generation: number,
    signal: AbortSignal,
  ): Promise<ServedTile> {
    const ds = await this.datasets.resolve(dataset, signal);
    if (coord.ext === 'dds' && ds.info.vector) {
      throw new TileError('BAD_EXTENSION', 'a vector dataset has no .dds tiles', { dataset });
    }
    if (!this.inPyramid(ds, coord)) {
      // Known not to exist: nothing asked of the shared cache or the origin, and nothing stored.
      this.refused++;
      return { entry: this.entry(null, 'application/json', generation), source: 'memory-cache' };
    }
    const shared = await this.sharedGet(dataset, cacheKey, generation, signal);
    if (shared) {
      const entry = this.entry(shared.bytes, shared.contentType, generation, shared.etag);
      this.o.cache.set(dataset, cacheKey, entry, generation);
      this.sharedHits++;
      return { entry, source: 'shared-cache' };
    }
    const entry =
      coord.ext === 'dds'
        ? await this.convertShared(dataset, coord, cacheKey, generation, signal)
        : await this.fetchRaster(dataset, coord, generation, signal);
    this.o.cache.set(dataset, cacheKey, entry, generation);
    // No shared layer (the default): skip the call, whose 5 s AbortSignal.timeout per tile
    // was a measurable share of a cold tile's CPU (a timer and a signal nobody needs).
    if (entry.bytes && coord.ext !== 'dds' && this.o.shared.name !== 'none') {
      const tile = { bytes: entry.bytes, contentType: entry.contentType, etag: entry.etag };
      // Fire and forget: the shared layer must never slow the answer down.
      void this.o.shared.set(dataset, cacheKey, generation, tile, AbortSignal.timeout(5_000)).catch(() => {});
    }
    return { entry, source: 'origin' };
  }

  /** The shared layer gets a short deadline of its own: a slow shared cache must cost little, then the origin. */
  private async sharedGet(dataset: string, key: string, generation: number, signal: AbortSignal) {
    if (this.o.shared.name === 'none') return undefined;
    const s = AbortSignal.any([signal, AbortSignal.timeout(this.o.sharedTimeoutMs ?? 500)]);
    return await raceSignal(this.o.shared.get(dataset, key, generation, s), s).catch(() => undefined);
  }

  /**
   * The origin step, through the dataset layer: the dataset's kind and known
   * pyramid decide what (if anything) is fetched. A key outside a known
   * pyramid, or a vector key on a raster dataset (and back), is missing at
   * once: no origin request.
   */
  private async fetchRaster(
    dataset: string,
    coord: TileCoord,
    generation: number,
    signal: AbortSignal,
  ): Promise<TileEntry> {
    const ds = await this.datasets.resolve(dataset, signal);
    if (!this.inPyramid(ds, coord)) {
      this.refused++;
      return this.entry(null, 'application/json', generation);
    }
    const t = await ds.getTile(coord, signal);
    if (!t) return this.entry(null, 'application/json', generation);
    if (t.encoding !== 'gzip') return this.entry(t.bytes, t.contentType, generation);
    // Both forms kept: the gzip one for clients that accept it, the inflated one for the
    // rest and for batches (a worker cannot hand a page a Response with Content-Encoding).
    const e = this.entry(await gunzipTile(t.bytes), t.contentType, generation);
    e.gzip = Buffer.from(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
    return e;
  }

  /**
   * A missing answer when `dataset` is already known and `coord` lies outside
   * its pyramid: a 404 the route can answer at once, before the client's miss budget is
   * charged (an out-of-pyramid key is never a 429). Counted as refused. An
   * unknown dataset gives undefined: finding it asks the origin, so it is a miss.
   */
  knownMissing(dataset: string, coord: TileCoord): ServedTile | undefined {
    const ds = this.datasets.peek(dataset);
    if (ds === undefined || this.inPyramid(ds, coord)) return undefined;
    this.refused++;
    const generation = this.o.cache.generation(dataset);
    return { entry: this.entry(null, 'application/json', generation), source: 'memory-cache' };
  }

  private inPyramid(ds: Dataset, coord: TileCoord): boolean {
    if (!ds.contains(coord)) return false;
    return ds.info.format === undefined || isVectorExt(coord.ext) === ds.info.vector || coord.ext === 'dds';
  }

  /**
   * One conversion per key however many clients ask; it runs under its own
   * deadline, not the coalescer's signal, because it is shared: even the last
   * client leaving must not waste it (the next asker finds it running).
   */
  private async convertShared(
    dataset: string,
    coord: TileCoord,
    cacheKey: string,
    generation: number,
    signal: AbortSignal,
  ): Promise<TileEntry> {
    return await this.ddsInFlight.run(cacheKey, signal, () => this.convert(dataset, coord, generation));
  }

  private async convert(dataset: string, coord: TileCoord, generation: number): Promise<TileEntry> {
    const signal = AbortSignal.timeout(this.o.convertTimeoutMs);
    const rasterCoord: TileCoord = { ...coord, ext: 'jpg' };
    const rasterKey = `${dataset}/${rasterCoord.z}/${rasterCoord.x}/${rasterCoord.y}.jpg`;
    let raster = this.o.cache.get(rasterKey);
    if (!raster || !this.isFresh(raster)) {
      raster = await this.fetchRaster(dataset, rasterCoord, generation, signal);
      this.o.cache.set(dataset, rasterKey, raster, generation);
    }
    if (!raster.bytes) return this.entry(null, 'application/json', generation);
    const toDDS = await this.o.toDDS();
    return this.entry(await toDDS(raster.bytes, signal), DDS_CONTENT_TYPE, generation);
  }

  private entry(raw: Uint8Array | null, contentType: string, generation: number, etag?: string): TileEntry {
    // A Buffer view (no copy): Node turns any other Uint8Array into one on every write, i.e. on every hit.
    const bytes =
      raw === null || Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const tag =
      etag ?? (bytes ? `"${createHash('sha1').update(bytes).digest('base64url').slice(0, 22)}"` : '');
    return { bytes, contentType, etag: tag, storedAt: this.now(), generation };
  }
}
