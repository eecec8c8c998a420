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

/** The page's handle on the accelerator. */
export interface TileAccelerator {
  /** False where service workers are unavailable: tiles then go straight to the network. */
  readonly supported: boolean;
  /** True once the worker controls this page. */
  readonly controlled: boolean;
  stats(): Promise<SwStats>;
  resetStats(): Promise<SwStats>;
  prefetch(targets: PrefetchTarget[] | PrefetchViewport): Promise<PrefetchResult>;
  decode<A extends DecodeAs>(
    bytes: Uint8Array | ArrayBuffer,
    opts: DecodeOptions<A>,
  ): Promise<DecodeResultFor<A>>;
  /** Drops cached tiles of one dataset, or all; resolves how many entries went. */
  clear(dataset?: string): Promise<number>;
  /** Asks the browser to look for a new worker version. */
  update(): Promise<void>;
  /** The workbox-window instance, for apps that want its other events. */
  readonly workbox: Workbox | undefined;
}

const SW_OPTION_KEYS = [
  'server',
  'tileRoutes',
  'videoRoutes',
  'batch',
  'network',
  'cache',
  'prefetch',
  'video',
] as const;

/** The worker reads its options from its script URL, so a restarted worker gets them back. */
export function scriptUrlWithOptions(swUrl: string, o: TileAcceleratorOptions): string {
  const picked: Record<string, unknown> = {};
  for (const k of SW_OPTION_KEYS) if (o[k] !== undefined) picked[k] = o[k];
  if (Object.keys(picked).length === 0) return swUrl;
  const u = new URL(swUrl, location.href);
  u.searchParams.set('config', JSON.stringify(picked));
  return u.pathname + u.search;
}

const noWorker = (): Promise<SwStats> => Promise.reject(new TileError('UNSUPPORTED', 'no service worker'));

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
    prefetch: async () => ({ accepted: 0, rejected: 0 }),
    decode,
    clear: async () => 0,
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
  const ask = <T>(body: Parameters<typeof askWorker>[1]) => {
    const worker = sw.controller;
    if (!worker)
      return Promise.reject(new TileError('UNSUPPORTED', 'the service worker does not control this page'));
    return askWorker<T>(worker, body, messageTimeoutMs);
  };
  return {
    supported: true,
    get controlled() {
      return sw.controller !== null;
    },
    stats: () => ask<SwStats>({ type: 'stats' }),
    resetStats: () => ask<SwStats>({ type: 'resetStats' }),
    prefetch: (t) =>
      ask<PrefetchResult>(
        Array.isArray(t) ? { type: 'prefetch', targets: t } : { type: 'prefetchViewport', viewport: t },
      ),
    decode,
    clear: async (dataset) =>
      (await ask<{ removed: number }>(dataset === undefined ? { type: 'clear' } : { type: 'clear', dataset }))
        .removed,
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
