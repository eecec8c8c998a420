/// <reference lib="webworker" />
import { isTileError } from '../protocol/errors.js';
import { isSwRequest, SW_MESSAGE_TAG, type SwReply, type SwRequest } from '../protocol/swMessages.js';
import { resolveOptions, type TileAcceleratorOptions } from './options.js';
import { TileAccelerator } from './TileAccelerator.js';

export type { TileAcceleratorOptions } from './options.js';

/** How long a companion that refused us CORS is left to the browser before the worker tries it again. */
const CORS_RETRY_MS = 60_000;

/** What {@link installTileAccelerator} returns: the same operations the page reaches by message. */
export interface InstalledAccelerator {
  accelerator: TileAccelerator;
  /** Removes our listeners (the worker's other routes are untouched either way). */
  uninstall(): void;
}

/**
 * Adds tile and video handling to a service worker, the app's own or our
 * standalone one. Only requests our router claims get `respondWith`; all
 * others fall through to the worker's other listeners (Workbox routes,
 * precaching). Install it before other fetch listeners that might claim the
 * same URLs: the first `respondWith` wins.
 */
export function installTileAccelerator(
  self: ServiceWorkerGlobalScope,
  options: TileAcceleratorOptions = {},
): InstalledAccelerator {
  const resolved = resolveOptions(options, self.location.origin);
  const acc = new TileAccelerator(resolved, {
    workerOrigin: self.location.origin,
    fetch: (input, init) => self.fetch(input, init),
    openCache: () => self.caches.open(resolved.cache.name),
    storageEstimate: () => self.navigator.storage.estimate(),
    saveData: () => (self.navigator as { connection?: { saveData?: boolean } }).connection?.saveData === true,
  });

  // Companion origins that gave our CORS fetches no answer while the
  // browser's own no-cors fetch of the same URL got one: CORS_ORIGINS does not
  // list this site. Their URLs are left to the browser for a while instead of
  // paying a failed batch, retried single fetches and the fallback per tile.
  const corsRefused = new Map<string, number>();

  const onFetch = (event: FetchEvent) => {
    let route: ReturnType<TileAccelerator['router']['route']>;
    try {
      route = acc.router.route(event.request);
    } catch {
      return;
    }
    if (!route) return;
    const request = event.request;
    // Only parsed when some origin was refused: this is the path of every tile.
    const refusedUntil = corsRefused.size > 0 ? corsRefused.get(new URL(route.url).origin) : undefined;
    if (refusedUntil !== undefined) {
      if (Date.now() < refusedUntil) return;
      corsRefused.delete(new URL(route.url).origin);
    }
    const waitUntil = (p: Promise<unknown>) => {
      try {
        event.waitUntil(p);
      } catch {
        // The event already finished; the work still runs, it just does not extend the lifetime.
      }
    };
    // A fetch-based viewer's credential: forwarded, and its tiles kept apart
    // from every other auth context (see TileAccelerator.handleTile).
    const authorization = request.headers.get('Authorization') ?? undefined;
    // Video chunks are shared and persisted: a credentialed range request is the browser's.
    if (route.kind === 'video' && authorization !== undefined) return;
    const work =
      route.kind === 'tile'
        ? acc.handleTile(route, request.signal, waitUntil, authorization)
        : acc.video.serve(request, route.url, waitUntil);
    event.respondWith(
      work.catch((e: unknown) => {
        if (request.signal.aborted || isTileError(e, 'ABORTED')) return Response.error();
        // Our own failure must never break the page: let the network answer.
        acc.counters.inc('fallbacks');
        return self.fetch(request).then((res) => {
          const unreadable = isTileError(e, 'ORIGIN_UNAVAILABLE') && res.type === 'opaque';
          const origin = unreadable ? new URL(route.url).origin : undefined;
          if (origin !== undefined && origin !== self.location.origin)
            corsRefused.set(origin, Date.now() + CORS_RETRY_MS);
          return res;
        });
      }),
    );
  };

  const onMessage = (event: ExtendableMessageEvent) => {
    if (!isSwRequest(event.data)) return;
    const msg = event.data;
    const port = event.ports[0];
    const reply = (r: SwReply) => {
      if (port) port.postMessage(r);
      else (event.source as Client | null)?.postMessage(r);
    };
    event.waitUntil(
      answer(acc, msg).then(
        (value) => reply({ tag: SW_MESSAGE_TAG, id: msg.id, ok: true, value }),
        (e: unknown) =>
          reply({
            tag: SW_MESSAGE_TAG,
            id: msg.id,
            ok: false,
            code: isTileError(e) ? e.code : 'INTERNAL',
            message: e instanceof Error ? e.message : String(e),
          }),
      ),
    );
  };

  self.addEventListener('fetch', onFetch);
  self.addEventListener('message', onMessage);
  return {
    accelerator: acc,
    uninstall() {
      self.removeEventListener('fetch', onFetch);
      self.removeEventListener('message', onMessage);
    },
  };
}

async function answer(acc: TileAccelerator, msg: SwRequest): Promise<unknown> {
  switch (msg.type) {
    case 'stats':
      return acc.stats();
    case 'prefetch':
      return acc.prefetch(msg.targets);
    case 'prefetchViewport':
      return acc.prefetchViewport(msg.viewport);
    case 'clear':
      return { removed: await acc.clear(msg.dataset) };
    case 'resetStats':
      acc.counters.reset();
      return acc.stats();
  }
}
