import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveOptions, type TileAcceleratorOptions } from '../sw/options.js';
import { SW_OPTION_KEYS, scriptUrlWithOptions } from './registerTileAccelerator.js';

const PAGE = 'https://app.test/viewer/index.html';

/** Every worker option set to a non-default value (a key missing here is a type error). */
const every: Required<TileAcceleratorOptions> = {
  server: 'https://tiles.test',
  tileRoutes: ['/t/{dataset}/{z}/{x}/{y}.{ext}'],
  cacheControl: 'private, max-age=60',
  videoRoutes: ['/v/'],
  batch: { enabled: true, windowMs: 7, maxWaitMs: 30, maxTiles: 50, method: 'GET', timeoutMs: 9000 },
  network: { retries: 1, backoffBaseMs: 50, timeoutMs: 4000, fallbackConcurrency: 3 },
  cache: { budgetBytes: 1e6, budgetFraction: 0.1, memoryBytes: 1e5, name: 'mine' },
  prefetch: { enabled: false, ring: 2, parent: false, maxInFlight: 9, perSecond: 90, maxQueue: 99 },
  video: { chunkBytes: 65536, prefetchAhead: 2, timeoutMs: 7000 },
};

/** What the standalone worker reads back from its script URL (tile-sw.ts). */
function configOf(scriptUrl: string): TileAcceleratorOptions {
  const raw = new URL(scriptUrl, PAGE).searchParams.get('config');
  return raw ? (JSON.parse(raw) as TileAcceleratorOptions) : {};
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('scriptUrlWithOptions', () => {
  it('forwards exactly the option keys the worker resolves', () => {
    const resolved = Object.keys(resolveOptions({}, 'https://app.test'));
    expect([...SW_OPTION_KEYS].sort()).toEqual(resolved.sort());
  });

  it('gives the worker every option the page was given, so it resolves them the same', () => {
    vi.stubGlobal('location', new URL(PAGE));
    const url = scriptUrlWithOptions('/tile-sw.js', {
      ...every,
      swUrl: '/x.js',
      autoActivate: true,
    } as never);
    const got = configOf(url);
    expect(Object.keys(got).sort()).toEqual(Object.keys(every).sort());
    expect(resolveOptions(got, 'https://app.test')).toEqual(resolveOptions(every, 'https://app.test'));
    expect(got.cacheControl).toBe('private, max-age=60');
  });

  it('leaves the script URL alone without worker options, and keeps page-only ones out', () => {
    vi.stubGlobal('location', new URL(PAGE));
    expect(scriptUrlWithOptions('/tile-sw.js', {})).toBe('/tile-sw.js');
    const url = scriptUrlWithOptions('/tile-sw.js', { cacheControl: 'no-cache', swUrl: '/a.js' } as never);
    expect(configOf(url)).toEqual({ cacheControl: 'no-cache' });
  });
});
