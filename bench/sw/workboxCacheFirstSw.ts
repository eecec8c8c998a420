// The usual approach, for comparison: a plain Workbox CacheFirst route for tiles.
// (No webworker lib reference here: this file is type-checked with the Node
// config, and a lib reference would leak worker globals into the server.)
import { clientsClaim } from 'workbox-core';
import { registerRoute } from 'workbox-routing';
import { CacheFirst } from 'workbox-strategies';

declare const self: { addEventListener(type: 'install', fn: () => void): void; skipWaiting(): Promise<void> };

self.addEventListener('install', () => void self.skipWaiting());
clientsClaim();
registerRoute(({ url }) => url.pathname.startsWith('/api/tiles/'), new CacheFirst({ cacheName: 'wb-tiles' }));
