import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../e2e/harness/startStack.js';
import { startFaultStack } from '../../test/support/server/faultKit.js';
import { rawRequest } from '../../test/support/server/rawHttp.js';

// The whole router, fuzzed over a real socket: random request targets built
// from route prefixes and hostile pieces. Never a 5xx with a healthy origin,
// always a coded JSON error for 4xx, nosniff on everything, and the origin is
// never asked for a key outside the tile and video templates.
const params = {
  numRuns: Number(process.env.FUZZ_RUNS ?? 150),
  seed: Number(process.env.FUZZ_SEED ?? 0x70e7),
};
const LEGIT = /^(ds)\/\d+\/\d+\/\d+\.(jpg|png|webp)$|^videos\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

const piece = fc.oneof(
  fc.constantFrom(
    '/api/tiles/',
    '/api/video/',
    'ds',
    '/',
    '..',
    '.',
    '%2e',
    '%2f',
    '%252e',
    '%00',
    '%5c',
    '\\',
    '0',
    '1',
    '7',
    '-1',
    '1e3',
    '.jpg',
    '.png',
    '.dds',
    '.exe',
    'batch',
    'cache-stats',
    'cache-clear',
    '?',
    '&',
    '=',
    'tiles=',
    'tiles=0/0/0.jpg',
    '%E2%80%A4',
    '#',
    ';',
    '//',
    'clip.mp4',
  ),
  fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.~%/?&=+'), maxLength: 6 }),
);
const target = fc
  .tuple(fc.constantFrom('/api/tiles/', '/api/video/', '/', '/api/'), fc.array(piece, { maxLength: 10 }))
  .map(([p, xs]) => p + xs.join(''));
const method = fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'OPTIONS', 'DELETE', 'PUT');

describe('router under fuzzing', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startFaultStack({
      origin: {
        files: { 'ds/0/0/0.jpg': 'tile', 'ds/1/1/1.jpg': 'tile2', 'videos/clip.mp4': 'video-bytes' },
      },
      config: { ownerToken: 'owner' },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('answers any request target with a defined status, never a 5xx, always nosniff', async () => {
    await fc.assert(
      fc.asyncProperty(target, method, async (t, m) => {
        const r = await rawRequest(stack.serverUrl, t, {
          method: m,
          body: m === 'POST' ? '{"tiles":["0/0/0.jpg"]}' : undefined,
        });
        expect(r.status, `${m} ${t}`).toBeGreaterThanOrEqual(200);
        expect(r.status, `${m} ${t}`).toBeLessThan(500);
        if (r.status === 400 && r.body.length === 0) return; // Node's parser refused the request line
        expect(r.headers['x-content-type-options'], `${m} ${t}`).toBe('nosniff');
        if (r.status >= 400 && m !== 'HEAD') {
          const body = JSON.parse(r.body.toString()) as { error: { code: string } };
          expect(typeof body.error.code).toBe('string');
        }
      }),
      params,
    );
    for (const q of stack.origin.requests) expect(q.key).toMatch(LEGIT);
    // the server is still healthy afterwards
    const ok = await rawRequest(stack.serverUrl, '/api/tiles/ds/0/0/0.jpg');
    expect([ok.status, ok.body.toString()]).toEqual([200, 'tile']);
  });
});
