import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBodyCache } from '../../test/support/sw/MemoryBodyCache.js';
import { installTileAccelerator } from './installTileAccelerator.js';

const ORIGIN = 'https://app.test';
let n = 0;

/**
 * A stand-in for the service-worker global: captures the fetch listener,
 * and its `fetch` is a companion behind API_TOKEN ("Bearer good") that logs
 * what it was asked. `browserFetch` is how the fail-safe's `fetch(request)`
 * shows: the Request object the page made, passed through unchanged.
 */
function fakeScope() {
  const listeners = new Map<string, (e: unknown) => void>();
  const asked: Array<{ url: string; authorization: string | null; pageRequest: boolean }> = [];
  const cache = new MemoryBodyCache();
  const scope = {
    location: new URL(`${ORIGIN}/tile-sw.js`),
    navigator: { storage: { estimate: async () => ({ quota: 1e9 }) } },
    caches: { open: async () => cache },
    addEventListener: (type: string, fn: (e: unknown) => void) => listeners.set(type, fn),
    removeEventListener: (type: string) => listeners.delete(type),
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const pageRequest = input instanceof Request;
      const url = pageRequest ? input.url : String(input);
      const authorization = pageRequest
        ? input.headers.get('Authorization')
        : new Headers(init?.headers).get('Authorization');
      asked.push({ url, authorization, pageRequest });
      if (authorization !== 'Bearer good') {
        return new Response('{"error":{"code":"UNAUTHORIZED","message":"token"}}', {
          status: 401,
          headers: { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer' },
        });
      }
      // Batches fail here (not the binary type), so tiles come from single fetches.
      return new Response(`bytes of ${url}`, { headers: { 'Content-Type': 'image/jpeg' } });
    },
  };
  /** Dispatches a fetch event; resolves with what the worker answered (undefined: no respondWith). */
  const dispatch = async (request: Request): Promise<Response | undefined> => {
    let answer: Promise<Response> | undefined;
    const kept: Promise<unknown>[] = [];
    listeners.get('fetch')!({
      request,
      respondWith: (p: Promise<Response>) => {
        answer = p;
      },
      waitUntil: (p: Promise<unknown>) => kept.push(p),
    });
    return answer;
  };
  return { scope, asked, cache, dispatch };
}

const installed: Array<{ uninstall(): void; close(): Promise<void> }> = [];
afterEach(async () => {
  await new Promise((r) => setTimeout(r, 60));
  for (const i of installed.splice(0)) await i.close();
});

function install(s: ReturnType<typeof fakeScope>) {
  const a = installTileAccelerator(s.scope as unknown as ServiceWorkerGlobalScope, {
    cache: { name: `install-${n++}`, budgetBytes: 1e6 },
    prefetch: { enabled: false },
    network: { retries: 0 },
  });
  installed.push({
    uninstall: a.uninstall,
    close: () => a.accelerator.store.indexReady().then((i) => i.close()),
  });
  return a;
}

const tile = (path: string, headers: Record<string, string> = {}) =>
  new Request(`${ORIGIN}${path}`, { headers });

describe('installTileAccelerator behind API_TOKEN', () => {
  it('a request without credentials that our fetch gets 401 for goes to fetch(event.request), uncached', async () => {
    const s = fakeScope();
    const a = install(s);
    const res = await s.dispatch(tile('/api/tiles/ds/2/1/1.jpg'));
    // What the browser would have got without the worker: the server's own 401.
    expect(res!.status).toBe(401);
    expect(res!.headers.get('WWW-Authenticate')).toBe('Bearer');
    expect(s.asked.at(-1)!.pageRequest).toBe(true);
    expect((await a.accelerator.stats()).fallbacks).toBe(1);
    // Nothing remembered: asked again, our batch goes out again.
    const before = s.asked.filter((x) => !x.pageRequest).length;
    await s.dispatch(tile('/api/tiles/ds/2/1/1.jpg'));
    expect(s.asked.filter((x) => !x.pageRequest).length).toBeGreaterThan(before);
    await new Promise((r) => setTimeout(r, 60));
    expect(s.cache.bodies.size).toBe(0);
  });

  it("forwards a fetch-based viewer's Authorization and answers it itself", async () => {
    const s = fakeScope();
    const a = install(s);
    const res = await s.dispatch(tile('/api/tiles/ds/2/1/1.jpg', { Authorization: 'Bearer good' }));
    expect(res!.status).toBe(200);
    expect(res!.headers.get('X-Tile-Source')).toBe('network');
    expect(await res!.text()).toBe(`bytes of ${ORIGIN}/api/tiles/ds/2/1/1.jpg`);
    const ours = s.asked.filter((x) => !x.pageRequest);
    expect(ours.map((x) => x.authorization)).toEqual(['Bearer good', 'Bearer good']); // batch, then single
    expect(s.asked.some((x) => x.pageRequest)).toBe(false);
    expect((await a.accelerator.stats()).fallbacks).toBe(0);
  });

  it('leaves a credentialed video request to the browser', async () => {
    const s = fakeScope();
    install(s);
    expect(await s.dispatch(tile('/api/video/a.mp4', { Authorization: 'Bearer good' }))).toBeUndefined();
  });
});
