/// <reference lib="webworker" />
// The standalone service worker (/tile-sw.js). Options come from the script
// URL (`/tile-sw.js?config=<json>`, written by registerTileAccelerator), so a
// worker the browser restarts from scratch gets the same options back.
import { installTileAccelerator } from './installTileAccelerator.js';
import type { TileAcceleratorOptions } from './options.js';

declare const self: ServiceWorkerGlobalScope;

function optionsFromUrl(): TileAcceleratorOptions {
  const raw = new URL(self.location.href).searchParams.get('config');
  if (!raw) return {};
  try {
    return JSON.parse(raw) as TileAcceleratorOptions;
  } catch {
    return {};
  }
}

let options = optionsFromUrl();
try {
  installTileAccelerator(self, options);
} catch (e) {
  // A bad option must not leave the site without a worker: run with defaults.
  console.error('[tile-sw] bad options, using defaults', e);
  options = {};
  installTileAccelerator(self, options);
}

self.addEventListener('install', (event) => {
  // First install: take over at once. An update waits until the page asks
  // (registerTileAccelerator's update callback, or its autoActivate option).
  if (!self.registration.active) event.waitUntil(self.skipWaiting());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('message', (event) => {
  // workbox-window's messageSkipWaiting() sends exactly this.
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});
