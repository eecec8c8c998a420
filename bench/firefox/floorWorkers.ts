// Two bench-only workers that bracket what any tile worker can cost in an
// engine that sends every tile of a controlled page through the worker:
//  - `map`: answers each tile from a Map in memory after its first fetch: no
//    Cache Storage, no IndexedDB, no batching. The engine's floor for a tile
//    answered by a worker.
//  - `pass`: a fetch listener that never calls respondWith, so each tile goes
//    on to the network stack (and its HTTP cache) after the event: what the
//    interception alone costs when the worker answers nothing.
// Plain scripts (no bundling): nothing here may be slower than the engine.

const head = `self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
const isTile = (u) => new URL(u).pathname.startsWith('/api/tiles/');
// Tiles that reached this worker, for the bench's count (a message answers it).
let seen = 0;
self.addEventListener('message', (e) => e.source.postMessage({ seen }));
`;

export const MAP_SW = `${head}const tiles = new Map();
self.addEventListener('fetch', (e) => {
  if (!isTile(e.request.url)) return;
  seen++;
  e.respondWith((async () => {
    let hit = tiles.get(e.request.url);
    if (!hit) {
      const res = await fetch(e.request);
      if (!res.ok) return res;
      hit = { body: await res.arrayBuffer(), type: res.headers.get('Content-Type') ?? 'image/jpeg' };
      tiles.set(e.request.url, hit);
    }
    return new Response(hit.body, { headers: { 'Content-Type': hit.type } });
  })());
});
`;

export const PASS_SW = `${head}self.addEventListener('fetch', (e) => {
  if (!isTile(e.request.url)) return;
  seen++;
  // Deliberately no respondWith: the engine fetches the tile itself.
});
`;
