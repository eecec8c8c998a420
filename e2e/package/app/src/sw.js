// The app's own Workbox worker (injectManifest style): it precaches the app
// shell and also runs the tile accelerator from the package.
import { installTileAccelerator } from 'tile-accelerator/sw';
import { precacheAndRoute } from 'workbox-precaching';

// First, so our tile routes win over any catch-all route of the app.
installTileAccelerator(self, { batch: { windowMs: 4 } });
precacheAndRoute(self.__WB_MANIFEST);

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
