/// <reference lib="webworker" />
// The usual approach, for comparison: a plain Workbox CacheFirst route for tiles.
import { clientsClaim } from 'workbox-core';
import { registerRoute } from 'workbox-routing';
import { CacheFirst } from 'workbox-strategies';

declare const self: ServiceWorkerGlobalScope;

self.addEventListener('install', () => void self.skipWaiting());
clientsClaim();
registerRoute(({ url }) => url.pathname.startsWith('/api/tiles/'), new CacheFirst({ cacheName: 'wb-tiles' }));
