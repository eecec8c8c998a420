import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_ZOOM, parseTileKey, tilePath } from '../protocol/tileKey.js';
import { DEFAULT_TILE_ROUTE, DEFAULT_VIDEO_ROUTE } from './options.js';
import { chunkRange, chunkSpan, parseRange, resolveRange, sliceChunk } from './rangeSlicer.js';
import { TileRouter } from './TileRouter.js';

// The worker's request parsers: which URLs it claims, and the byte arithmetic
// of the video chunk cache. Seeded and bounded; FUZZ_RUNS raises it.
const params = {
  numRuns: Number(process.env.FUZZ_RUNS ?? 500),
  seed: Number(process.env.FUZZ_SEED ?? 0x5e17),
};
const ORIGIN = 'https://viewer.example';

const piece = fc.oneof(
  fc.constantFrom(
    '/api/tiles/',
    '/api/video/',
    'ds',
    '/',
    '..',
    '%2e%2e',
    '%2e',
    '%2F',
    '%00',
    '\\',
    '0',
    '3',
    '7',
    '-1',
    '01',
    '.jpg',
    '.png',
    '.dds',
    '.exe',
    'batch',
    '?a=1',
    '#f',
    ';x',
    '//',
    '@evil.example',
    '%E2%80%A4',
  ),
  fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.~%'), maxLength: 5 }),
);
const origin = fc.constantFrom(
  ORIGIN,
  ORIGIN,
  ORIGIN,
  'https://other.example',
  'http://viewer.example',
  'https://viewer.example:444',
);
const validPath = fc
  .tuple(
    fc.constantFrom('ds', 'sample', 'a-b_c'),
    fc.integer({ min: 0, max: 6 }),
    fc.nat(70),
    fc.nat(70),
    fc.constantFrom('jpg', 'png', 'webp', 'dds'),
  )
  .map(([d, z, x, y, e]) => `/api/tiles/${d}/${z}/${x}/${y}.${e}`);
const url = fc.oneof(
  fc.tuple(origin, fc.array(piece, { maxLength: 9 })).map(([o, xs]) => `${o}/api/tiles/${xs.join('')}`),
  fc.tuple(origin, validPath).map(([o, p]) => o + p),
  fc.tuple(origin, validPath, fc.nat(40), piece).map(([o, p, at, h]) => {
    const i = at % (p.length + 1);
    return o + p.slice(0, i) + h + p.slice(i);
  }),
);

describe('service worker routing under fuzzing', () => {
  const router = new TileRouter({
    workerOrigin: ORIGIN,
    server: ORIGIN,
    tileRoutes: [DEFAULT_TILE_ROUTE],
    videoRoutes: [DEFAULT_VIDEO_ROUTE],
    batchEnabled: true,
  });

  it('claims only same-origin canonical tile URLs; a batchable one maps 1:1 to its batch key', () => {
    let claimed = 0;
    fc.assert(
      fc.property(url, fc.constantFrom('GET', 'POST', 'HEAD'), (u, method) => {
        const r = router.route({ url: u, method });
        if (r === undefined || r.kind === 'video') return;
        expect(method).toBe('GET');
        const parsed = new URL(u);
        expect(parsed.origin).toBe(ORIGIN);
        expect(parseTileKey(r.key)).toEqual(r.coord);
        expect(r.coord.z).toBeLessThanOrEqual(MAX_ZOOM);
        expect(r.url).toBe(parsed.href);
        claimed++;
        if (r.batchUrl !== undefined) {
          // A batch answer for (dataset, key) is stored under r.url: they must name the same tile.
          expect(parsed.pathname).toBe(tilePath(r.dataset, r.coord));
          expect(parsed.search).toBe('');
        }
      }),
      params,
    );
    // the generator does reach the accepting path, so the checks above ran
    expect(claimed).toBeGreaterThan(0);
  });

  it('video chunk arithmetic: any Range on any size reassembles exactly the asked bytes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 700 }),
        fc.oneof(
          fc
            .tuple(fc.nat(6000), fc.option(fc.nat(6000), { nil: undefined }))
            .map(([a, b]) => `bytes=${a}-${b ?? ''}`),
          fc.nat(6000).map((n) => `bytes=-${n}`),
          fc.string({ maxLength: 20 }),
        ),
        (total, chunkBytes, header) => {
          const body = Uint8Array.from({ length: total }, (_, i) => (i * 7) & 255);
          const spec = parseRange(header);
          if (spec === undefined) return;
          const span = resolveRange(spec, total);
          if (span === undefined) return; // 416
          expect(0 <= span.start && span.start <= span.end && span.end < total).toBe(true);
          const { first, last } = chunkSpan(span.start, span.end, chunkBytes);
          const parts: number[] = [];
          for (let i = first; i <= last; i++) {
            const cr = chunkRange(i, chunkBytes, total);
            const chunk = body.subarray(cr.start, cr.end + 1);
            parts.push(...sliceChunk(chunk, i, chunkBytes, span.start, span.end));
          }
          expect(parts).toEqual([...body.subarray(span.start, span.end + 1)]);
        },
      ),
      params,
    );
  });
});
