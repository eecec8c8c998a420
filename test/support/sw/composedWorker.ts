/// <reference lib="webworker" />
// An app's own service worker with the accelerator composed in (for the e2e
// test of installTileAccelerator): a Workbox route of its own, its own lifecycle.
import { clientsClaim } from 'workbox-core';
import { registerRoute } from 'workbox-routing';
import { installTileAccelerator } from '../../../src/sw/installTileAccelerator.js';

declare const self: ServiceWorkerGlobalScope;

installTileAccelerator(self, { prefetch: { enabled: false } });
registerRoute(
  ({ url }) => url.pathname === '/app/hello',
  async () => new Response('from the app worker', { headers: { 'Content-Type': 'text/plain' } }),
);
self.addEventListener('install', () => void self.skipWaiting());
clientsClaim();
