import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { isTileError } from '../../src/protocol/errors.js';
import {
  type EngineFixture,
  rejection,
  same,
  startEngineFixture,
} from '../../test/support/server/testOrigin.js';
import type { Origin } from '../origin/Origin.js';
import { FetchEngine } from './FetchEngine.js';

const archive = new Uint8Array(100_000).map((_, i) => (i * 31) & 0xff);
let fx: EngineFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});
const live = () => new AbortController().signal;

describe('FetchEngine.getRange', () => {
  it('reads a byte range with one ranged request; concurrent reads of one range share it', async () => {
    fx = await startEngineFixture({ files: { 'a.pmtiles': archive }, latencyMs: 30 });
    const reads = await Promise.all(
      Array.from({ length: 10 }, () =>
        fx!.engine.getRange('a.pmtiles', { offset: 500, length: 1000 }, live()),
      ),
    );
    for (const r of reads) expect(same(r!.bytes, archive.subarray(500, 1500))).toBe(true);
    expect(reads[0]!.totalSize).toBe(archive.length);
    expect(fx.mock.requests.map((q) => q.headers.range)).toEqual(['bytes=500-1499']);
    expect(fx.engine.stats()).toMatchObject({ originRequests: 1, coalesced: 9 });
    // Another range is another request; a range past the end comes back short.
    const tail = await fx.engine.getRange('a.pmtiles', { offset: 99_000, length: 5000 }, live());
    expect(tail!.bytes.length).toBe(1000);
    expect(await fx.engine.getRange('missing', { offset: 0, length: 10 }, live())).toBeNull();
  });

  it('retries a 5xx like a tile, and refuses a bad range before any request', async () => {
    let n = 0;
    fx = await startEngineFixture({ files: { a: archive }, status: () => (n++ < 1 ? 503 : undefined) });
    const r = await fx.engine.getRange('a', { offset: 0, length: 10 }, live());
    expect(same(r!.bytes, archive.subarray(0, 10))).toBe(true);
    expect(fx.engine.stats()).toMatchObject({ originRequests: 2, retries: 1 });
    expect(
      isTileError(await rejection(fx.engine.getRange('a', { offset: -1, length: 10 }, live())), 'BAD_RANGE'),
    ).toBe(true);
    expect(
      isTileError(await rejection(fx.engine.getRange('a', { offset: 0, length: 0 }, live())), 'BAD_RANGE'),
    ).toBe(true);
    expect(fx.engine.stats().originRequests).toBe(2);
  });

  it('cuts the asked range out of a 200 from an origin that ignores Range', async () => {
    const origin: Origin = {
      name: 'norange',
      get: async () => ({
        status: 200,
        body: Readable.from([Buffer.from(archive)]),
        contentType: undefined,
        etag: '"x"',
        contentLength: archive.length,
        totalSize: archive.length,
        lastModified: undefined,
      }),
      close: async () => {},
    };
    const engine = new FetchEngine(origin, {
      concurrency: 2,
      queueLimit: 10,
      attemptTimeoutMs: 1000,
      requestTimeoutMs: 2000,
      retries: 0,
    });
    const r = await engine.getRange('k', { offset: 10, length: 20 }, live());
    expect(same(r!.bytes, archive.subarray(10, 30))).toBe(true);
    await engine.close();
  });
});
