import { afterEach, describe, expect, it } from 'vitest';
import { isTileError } from '../../src/protocol/errors.js';
import {
  type EngineFixture,
  rejection,
  same,
  startEngineFixture,
  until,
} from '../../test/support/server/testOrigin.js';
import { readBody } from './readBody.js';

const video = new Uint8Array(300_000).map((_, i) => (i * 17) & 0xff);
let fx: EngineFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});
const live = () => new AbortController().signal;

describe('FetchEngine.getStream', () => {
  it('streams a ranged object: the concurrency slot goes back at the headers, the stream slot at the end', async () => {
    fx = await startEngineFixture({ files: { 'videos/v.mp4': video, t: 'tile' } }, { concurrency: 1 });
    const obj = await fx.engine.getStream('videos/v.mp4', {
      signal: live(),
      range: { start: 1000, end: 200_999 },
    });
    expect(obj).toMatchObject({ status: 206, totalSize: video.length, contentLength: 200_000 });
    expect(fx.engine.stats()).toMatchObject({ inFlight: 0, streams: 1 });
    // The unread body holds no concurrency slot: a tile fetch goes through at once.
    expect(new TextDecoder().decode((await fx.engine.getBytes('t', live()))!.bytes)).toBe('tile');
    expect(same(await readBody(obj!.body, obj!.contentLength, 1e6), video.subarray(1000, 201_000))).toBe(
      true,
    );
    await until(() => fx!.engine.stats().streams === 0);
    expect(fx.mock.requests[0]!.headers.range).toBe('bytes=1000-200999');
  });

  it('bounds open streams by streamLimit: the next one waits for a slot, under its deadline', async () => {
    fx = await startEngineFixture(
      { files: { v: video } },
      { concurrency: 4, streamLimit: 1, requestTimeoutMs: 1000, attemptTimeoutMs: 1000 },
    );
    const first = await fx.engine.getStream('v', { signal: live() });
    // No slot within the request deadline: DEADLINE_EXCEEDED, and the origin was never asked.
    expect(
      isTileError(await rejection(fx.engine.getStream('v', { signal: live() })), 'DEADLINE_EXCEEDED'),
    ).toBe(true);
    expect(fx.mock.count('v')).toBe(1);
    const second = fx.engine.getStream('v', { signal: live() });
    await until(() => fx!.engine.stats().streamsQueued === 1);
    // The first body ends: its slot passes to the waiter.
    expect((await readBody(first!.body, first!.contentLength, 1e6)).length).toBe(video.length);
    const obj = await second;
    expect(same(await readBody(obj!.body, obj!.contentLength, 1e6), video)).toBe(true);
    await until(() => fx!.engine.stats().streams === 0);
    expect(fx.engine.stats()).toMatchObject({ inFlight: 0, queued: 0, streamsQueued: 0 });
  });

  it('is not coalesced, resolves null on 404, and is not cut by the request deadline once streaming', async () => {
    fx = await startEngineFixture(
      // The headers must beat the deadline on a loaded machine (1.5 s); the
      // body, capped at 150 kB/s for both, takes ~4 s: well past it.
      { files: { v: video }, bandwidthBytesPerSec: 150_000 },
      { requestTimeoutMs: 1_500, attemptTimeoutMs: 1_500 },
    );
    expect(await fx.engine.getStream('nope', { signal: live() })).toBeNull();
    const [a, b] = await Promise.all([
      fx.engine.getStream('v', { signal: live() }),
      fx.engine.getStream('v', { signal: live() }),
    ]);
    expect(fx.mock.count('v')).toBe(2);
    expect(same(await readBody(a!.body, a!.contentLength, 1e6), video)).toBe(true);
    expect(same(await readBody(b!.body, b!.contentLength, 1e6), video)).toBe(true);
  });

  it('releases the origin request when the client aborts mid-body', async () => {
    fx = await startEngineFixture({ files: { v: video }, slowBodyMs: 20 }, { concurrency: 1 });
    const ctl = new AbortController();
    const obj = await fx.engine.getStream('v', { signal: ctl.signal });
    const reading = rejection(readBody(obj!.body, obj!.contentLength, 1e6));
    setTimeout(() => ctl.abort(), 50);
    expect(isTileError(await reading)).toBe(true);
    await until(() => fx!.engine.stats().streams === 0 && fx!.mock.aborted() === 1);
    // The slot is free: the next stream is served.
    fx.mock.set({ slowBodyMs: undefined });
    const next = await fx.engine.getStream('v', { signal: live() });
    expect((await readBody(next!.body, next!.contentLength, 1e6)).length).toBe(video.length);
  });
});
