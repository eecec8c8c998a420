import { Workbox } from 'workbox-window';
import { TileError } from '../protocol/errors.js';
import type { PrefetchResult, PrefetchTarget, PrefetchViewport, SwStats } from '../protocol/swMessages.js';
import type { TileAcceleratorOptions } from '../sw/options.js';
import type { DecodeAs, DecodeOptions, DecodeResultFor } from './pool/types.js';
import { askWorker } from './swChannel.js';

export interface RegisterOptions extends TileAcceleratorOptions {
  /** The worker script; default `/tile-sw.js`. */
  swUrl?: string;
  scope?: string;
  /** Activate an updated worker as soon as it is installed (default: wait for `update.activate()`). */
  autoActivate?: boolean;
  /** Called when a new worker version is installed and waiting. */
  onUpdate?: (update: PendingUpdate) => void;
  /** How long to wait for the worker to control this page on first install (ms). */
  controlTimeoutMs?: number;
  /** Deadline of each message to the worker (ms). */
  messageTimeoutMs?: number;
}

export interface PendingUpdate {
  /** Tells the waiting worker to take over; resolves when it controls the page. */
  activate(): Promise<void>;
}

/** Options of each call to the worker. */
export interface CallOptions {
  /**
   * Stops waiting for the worker's answer: the call rejects with a
   * `TileError` coded `ABORTED` (at once if already aborted, without asking
   * the worker). The worker may still carry the request out.
   */
  signal?: AbortSignal;
}

/** The page's handle on the accelerator. */
export interface TileAccelerator {
  /** False where service workers are unavailable: tiles then go straight to the network. */
  readonly supported: boolean;
  /** True once the worker controls this page. */
  readonly controlled: boolean;
  stats(options?: CallOptions): Promise<SwStats>;
  resetStats(options?: CallOptions): Promise<SwStats>;
  prefetch(targets: PrefetchTarget[] | PrefetchViewport, options?: CallOptions): Promise<PrefetchResult>;
  decode<A extends DecodeAs>(
    bytes: Uint8Array | ArrayBuffer,
    opts: DecodeOptions<A>,
  ): Promise<DecodeResultFor<A>>;
  /** Drops cached tiles of one dataset, or all; resolves how many entries went. */
  clear(dataset?: string, options?: CallOptions): Promise<number>;
  /** Asks the browser to look for a new worker version. */
  update(): Promise<void>;
  /** The workbox-window instance, for apps that want its other events. */
  readonly workbox: Workbox | undefined;
}

/**
 * Every option the worker reads, one entry per key of its options type: a
 * key added to `TileAcceleratorOptions` and not listed here fails to compile,
 * so no documented worker option is silently dropped from the script URL.
 */
const SW_OPTIONS: { readonly [K in keyof Required<TileAcceleratorOptions>]: true } = {
  server: true,
  tileRoutes: true,
  cacheControl: true,
  videoRoutes: true,
  batch: true,
  network: true,
  cache: true,
  prefetch: true,
  video: true,
};

/** The keys `scriptUrlWithOptions` forwards to the worker. */
export const SW_OPTION_KEYS = Object.keys(SW_OPTIONS) as ReadonlyArray<keyof TileAcceleratorOptions>;

/** The worker reads its options from its script URL, so a restarted worker gets them back. */
export function scriptUrlWithOptions(swUrl: string, o: TileAcceleratorOptions): string {
  const picked: Record<string, unknown> = {};
  for (const k of SW_OPTION_KEYS) if (o[k] !== undefined) picked[k] = o[k];
  if (Object.keys(picked).length === 0) return swUrl;
  const u = new URL(swUrl, location.href);
  u.searchParams.set('config', JSON.stringify(picked));
  return u.pathname + u.search;
}

/** An aborted call rejects ABORTED before anything else, with or without a worker. */
function abortedError(signal: AbortSignal | undefined): TileError | undefined {
  return signal?.aborted ? new TileError('ABORTED', 'aborted before the call') : undefined;
}

const noWorker = async (o?: CallOptions): Promise<SwStats> => {
  throw abortedError(o?.signal) ?? new TileError('UNSUPPORTED', 'no service worker');
};

async function decode<A extends DecodeAs>(bytes: Uint8Array | ArrayBuffer, opts: DecodeOptions<A>) {
  // Loaded on first use: pages that never decode do not pay for the pool.
  const { getWorkerPool } = await import('./pool/index.js');
  return getWorkerPool().decode(bytes, opts) as Promise<DecodeResultFor<A>>;
}

/** The handle of a page without a working service worker: every call is a harmless no-op but decode. */
function unsupported(): TileAccelerator {
  return {
    supported: false,
    controlled: false,
    stats: noWorker,
    resetStats: noWorker,
    prefetch: async (_t, o) => {
      const aborted = abortedError(o?.signal);
      if (aborted) throw aborted;
      return { accepted: 0, rejected: 0 };
    },
    decode,
    clear: async (_d, o) => {
      const aborted = abortedError(o?.signal);
      if (aborted) throw aborted;
      return 0;
    },
    update: async () => {},
    workbox: undefined,
  };
}

/**
 * Registers the tile accelerator's service worker (workbox-window) and
 * resolves when it controls the page, or after `controlTimeoutMs`. On an
 * update the new worker waits; `onUpdate` is told and activates it on
 * request (or at once with `autoActivate`). Never throws for a missing
 * feature: without service workers, or when registration is refused,
 * `supported` is false and tiles load from the network as before.
 */
export async function registerTileAccelerator(options: RegisterOptions = {}): Promise<TileAccelerator> {
  const messageTimeoutMs = options.messageTimeoutMs ?? 5000;
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return unsupported();
  const sw = navigator.serviceWorker;
  const wb = new Workbox(scriptUrlWithOptions(options.swUrl ?? '/tile-sw.js', options), {
    scope: options.scope ?? '/',
  });
  const activate = async () => {
    // One listener per call, removed when it fires: activate() may be called on every update.
    const controlling = new Promise<void>((r) => {
      const on = () => {
        wb.removeEventListener('controlling', on);
        r();
      };
      wb.addEventListener('controlling', on);
    });
    wb.messageSkipWaiting();
    await withDeadline(controlling, options.controlTimeoutMs ?? 10_000);
  };
  wb.addEventListener('waiting', (event) => {
    if (!event.isUpdate && !sw.controller) return;
    if (options.autoActivate) void activate().catch(() => {});
    else options.onUpdate?.({ activate });
  });
  try {
    await wb.register();
  } catch (e) {
    // Registration can be refused where the API exists (a private window, a
    // CSP, a 404 for the script): the page must keep working from the network.
    console.warn('tile-accelerator: service worker registration failed; tiles load from the network', e);
    return unsupported();
  }
  if (!sw.controller) {
    // First install: the worker claims open pages when it activates.
    const claimed = new Promise<void>((r) =>
      sw.addEventListener('controllerchange', () => r(), { once: true }),
    );
    await withDeadline(claimed, options.controlTimeoutMs ?? 10_000).catch(() => {});
  }
  const ask = <T>(body: Parameters<typeof askWorker>[1], o: CallOptions | undefined) => {
    const worker = sw.controller;
    const aborted = abortedError(o?.signal);
    if (aborted) return Promise.reject(aborted);
    if (!worker)
      return Promise.reject(new TileError('UNSUPPORTED', 'the service worker does not control this page'));
    return askWorker<T>(worker, body, messageTimeoutMs, o?.signal);
  };
  return {
    supported: true,
    get controlled() {
      return sw.controller !== null;
    },
    stats: (o) => ask<SwStats>({ type: 'stats' }, o),
    resetStats: (o) => ask<SwStats>({ type: 'resetStats' }, o),
    prefetch: (t, o) =>
      ask<PrefetchResult>(
        Array.isArray(t) ? { type: 'prefetch', targets: t } : { type: 'prefetchViewport', viewport: t },
        o,
      ),
    decode,
    clear: async (dataset, o) =>
      (
        await ask<{ removed: number }>(
          dataset === undefined ? { type: 'clear' } : { type: 'clear', dataset },
          o,
        )
      ).removed,
    update: () => wb.update(),
    workbox: wb,
  };
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new TileError('DEADLINE_EXCEEDED', `no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
