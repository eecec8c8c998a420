import { LRUCache } from 'lru-cache';
import { isTileError } from '../../src/protocol/errors.js';
import { datasetKeyPrefix } from '../../src/protocol/tileKey.js';
import { raceSignal } from '../engine/deadline.js';
import type { FetchedBytes, TileEngine } from '../engineContract.js';
import { asReadTimeout } from './asReadTimeout.js';
import { type Dataset, unknownInfo } from './Dataset.js';
import { DziDataset } from './DziDataset.js';
import { DZI_VIEW_SUFFIX, DziView, dziDescriptorOf } from './DziView.js';
import { MAX_MANIFEST_BYTES, manifestInfo } from './manifestInfo.js';
import { PMTILES_HEAD_BYTES, PmtilesDataset } from './PmtilesDataset.js';
import { MAX_DZI_BYTES, parseDzi } from './parseDzi.js';
import { TreeDataset } from './TreeDataset.js';

/** DATASET_DISCOVERY: `auto` probes for each kind; `tree` serves every dataset as a z/x/y tree of unknown extent. */
export type DatasetDiscovery = 'auto' | 'tree';

export interface DatasetResolverOptions {
  engine: TileEngine;
  tileKeyTemplate: string;
  discovery: DatasetDiscovery;
  /** The dataset's cache generation: a cache-clear bumps it, and the dataset is found again. */
  generation: (dataset: string) => number;
  tileTimeoutMs?: number;
  /** How long an answer made while the origin failed (or a refused descriptor) stands before asking again. */
  retryMs?: number;
  /** Datasets remembered (LRU). */
  maxDatasets?: number;
  now?: () => number;
}

interface Resolved {
  generation: number;
  promise: Promise<Dataset>;
  /** Set once the answer is known to be provisional (the origin failed, or the descriptor was refused). */
  expiresAt: number | undefined;
  /** The answer once it resolved (for peek: no await on the hot path). */
  value?: Dataset;
}

type Probe = FetchedBytes | null | 'empty';

/**
 * Finds what dataset `d` is, with no configuration, on every origin: under
 * TILE_KEY_TEMPLATE's prefix (the text before `{dataset}`), in this order,
 *  1. the PMTiles archive `d.pmtiles` (its header range),
 *  2. the Deep Zoom descriptor `d.dzi` (tiles in `d_files/`),
 *  3. the z/x/y tree `d/` with our tiler's `d/manifest.json` (known format and extent),
 *  4. the z/x/y tree `d/` of unknown extent (today's layout; nothing probed says otherwise).
 * The three probes go out together (one origin round trip, once per dataset and
 * generation); the answer is cached until the dataset's generation changes.
 * A probe the origin could not answer (timeout, 5xx, 429, unreachable,
 * breaker open) fails the lookup with that coded error for `retryMs`: served
 * as a tree meanwhile, an archive's tiles would be 404s, and those are cached.
 * A probe refused for good (a 403 from a bucket without list rights) still
 * leaves the tree, provisionally.
 * `d_files` is the Deep Zoom view of `d` (the `/api/tiles/d_files/{level}/{col}_{row}`
 * tiles of `/api/tiles/d.dzi`), whatever kind `d` is.
 */
export class DatasetResolver {
  /** Probe requests sent (each is one origin object read). */
  probes = 0;
  private readonly cache: LRUCache<string, Resolved>;
  private readonly views = new WeakMap<Dataset, DziView>();
  private readonly prefix: string | undefined;
  private readonly now: () => number;

  constructor(private readonly o: DatasetResolverOptions) {
    this.cache = new LRUCache({ max: o.maxDatasets ?? 10_000 });
    this.prefix = datasetKeyPrefix(o.tileKeyTemplate);
    this.now = o.now ?? Date.now;
  }

  /**
   * The dataset if it is already known (resolved, current generation, not
   * expired), else undefined; never asks the origin. Lets a route answer a key
   * outside a known pyramid before it charges the client's miss budget.
   */
  peek(dataset: string): Dataset | undefined {
    if (dataset.length > DZI_VIEW_SUFFIX.length && dataset.endsWith(DZI_VIEW_SUFFIX)) {
      const base = this.peek(dataset.slice(0, -DZI_VIEW_SUFFIX.length));
      return base && this.views.get(base);
    }
    const hit = this.cache.peek(dataset);
    if (!hit || hit.generation !== this.o.generation(dataset)) return undefined;
    if (hit.expiresAt !== undefined && this.now() >= hit.expiresAt) return undefined;
    return hit.value;
  }

  /** The dataset (cached per generation). Rejects with BAD_ARCHIVE / BAD_DESCRIPTOR / UNSUPPORTED for unreadable ones. */
  resolve(dataset: string, signal: AbortSignal): Promise<Dataset> {
    if (dataset.length > DZI_VIEW_SUFFIX.length && dataset.endsWith(DZI_VIEW_SUFFIX)) {
      // `d_files`: the Deep Zoom view of `d`, made once per resolved `d` (so it follows d's generation).
      return this.resolve(dataset.slice(0, -DZI_VIEW_SUFFIX.length), signal).then((base) => {
        let view = this.views.get(base);
        if (!view) {
          view = new DziView(base, dziDescriptorOf(base));
          this.views.set(base, view);
        }
        return view;
      });
    }
    const generation = this.o.generation(dataset);
    const hit = this.cache.get(dataset);
    if (hit && hit.generation === generation && (hit.expiresAt === undefined || this.now() < hit.expiresAt)) {
      return raceSignal(hit.promise, signal);
    }
    const entry: Resolved = {
      generation,
      promise: Promise.resolve(undefined as unknown as Dataset),
      expiresAt: undefined,
    };
    const retry = () => {
      entry.expiresAt = this.now() + (this.o.retryMs ?? 5_000);
    };
    // Not tied to the first caller's signal: the answer is shared; the engine's deadlines bound it.
    entry.promise = this.discover(dataset).then(
      (r) => {
        if (r.provisional) retry();
        entry.value = r.dataset;
        return r.dataset;
      },
      (e: unknown) => {
        retry();
        throw e;
      },
    );
    entry.promise.catch(() => {});
    this.cache.set(dataset, entry);
    return raceSignal(entry.promise, signal);
  }

  private tree(dataset: string, info = unknownInfo('tree')): Dataset {
    return new TreeDataset({
      engine: this.o.engine,
      tileKeyTemplate: this.o.tileKeyTemplate,
      dataset,
      info,
      ...(this.o.tileTimeoutMs !== undefined ? { tileTimeoutMs: this.o.tileTimeoutMs } : {}),
    });
  }

  private async probe(key: string, length: number, signal: AbortSignal): Promise<Probe> {
    this.probes++;
    try {
      return await this.o.engine.getRange(key, { offset: 0, length }, signal);
    } catch (e) {
      // A zero-byte object: it exists, but there is nothing in it.
      if (
        isTileError(e, 'RANGE_NOT_SATISFIABLE') ||
        (isTileError(e, 'ORIGIN_ERROR') && e.details.status === 416)
      ) {
        return 'empty';
      }
      throw e;
    }
  }

  private async discover(dataset: string): Promise<{ dataset: Dataset; provisional: boolean }> {
    const p = this.prefix;
    if (this.o.discovery === 'tree' || p === undefined)
      return { dataset: this.tree(dataset), provisional: false };
    const signal = new AbortController().signal;
    const treeDir = this.o.tileKeyTemplate.startsWith(`${p}{dataset}/`);
    const [pm, dzi, manifest] = await Promise.allSettled([
      this.probe(`${p}${dataset}.pmtiles`, PMTILES_HEAD_BYTES, signal),
      this.probe(`${p}${dataset}.dzi`, MAX_DZI_BYTES + 1, signal),
      treeDir
        ? this.probe(`${p}${dataset}/manifest.json`, MAX_MANIFEST_BYTES + 1, signal)
        : Promise.resolve(null),
    ]);
    // In order: the first kind found wins; a failed probe before it leaves the answer open.
    for (const r of [pm, dzi, manifest])
      if (r.status === 'rejected' && isTransient(r.reason))
        throw asReadTimeout(r.reason, 'discovery', `${p}${dataset}`);
    if (pm.status === 'rejected') return { dataset: this.tree(dataset), provisional: true };
    if (pm.value !== null) {
      const head = pm.value === 'empty' ? { data: new ArrayBuffer(0) } : toHead(pm.value);
      return {
        dataset: await PmtilesDataset.open(this.o.engine, `${p}${dataset}.pmtiles`, head),
        provisional: false,
      };
    }
    if (dzi.status === 'rejected') return { dataset: this.tree(dataset), provisional: true };
    if (dzi.value !== null) {
      const descriptor = parseDzi(dzi.value === 'empty' ? new Uint8Array(0) : dzi.value.bytes);
      return {
        dataset: new DziDataset(this.o.engine, `${p}${dataset}_files/`, descriptor),
        provisional: false,
      };
    }
    if (manifest.status === 'rejected') return { dataset: this.tree(dataset), provisional: true };
    const info = manifest.value && manifest.value !== 'empty' ? manifestInfo(manifest.value.bytes) : null;
    return { dataset: this.tree(dataset, info ?? undefined), provisional: false };
  }
}

/** The origin did not answer (as opposed to answering no): asking again later may succeed. */
function isTransient(e: unknown): boolean {
  if (!isTileError(e)) return false;
  if (e.code === 'ORIGIN_ERROR') {
    const status = e.details.status;
    return typeof status !== 'number' || status >= 500 || status === 429;
  }
  return (
    e.code === 'ORIGIN_TIMEOUT' ||
    e.code === 'DEADLINE_EXCEEDED' ||
    e.code === 'ORIGIN_UNAVAILABLE' ||
    e.code === 'CIRCUIT_OPEN' ||
    e.code === 'OVERLOADED'
  );
}

function toHead(f: FetchedBytes): { data: ArrayBuffer; etag?: string } {
  const b = f.bytes;
  const data = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  const etag = f.etag?.startsWith('W/') ? undefined : f.etag;
  return etag === undefined ? { data } : { data, etag };
}
