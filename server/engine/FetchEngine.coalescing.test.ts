import { afterEach, describe, expect, it } from 'vitest';
import { isTileError, type TileError } from '../../src/protocol/errors.js';
import {
  type EngineFixture,
  rejection,
  same,
  startEngineFixture,
  until,
} from '../../test/support/server/testOrigin.js';

const tile = (n: number) => new Uint8Array(20_000).map((_, i) => (i * n + n) & 0xff);
let fx: EngineFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});
const live = () => new AbortController().signal;

describe('FetchEngine coalescing (real mocked origin)', () => {
  it('makes one origin GET for 50 concurrent callers of one key, all with identical bytes', async () => {
    fx = await startEngineFixture({ files: { 'a/0/0/0.jpg': tile(1) }, latencyMs: 50 });
    const results = await Promise.all(
      Array.from({ length: 50 }, () => fx!.engine.getBytes('a/0/0/0.jpg', live())),
    );
    expect(fx.mock.count('a/0/0/0.jpg')).toBe(1);
    for (const r of results) expect(same(r?.bytes, tile(1))).toBe(true);
    expect(results[0]?.contentType).toBe('image/jpeg');
    expect(fx.engine.stats()).toMatchObject({ originRequests: 1, coalesced: 49, inFlight: 0, queued: 0 });
  });

  it('never merges different keys or formats', async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 5; i++) {
      files[`a/1/0/${i}.jpg`] = tile(i + 1);
      files[`a/1/0/${i}.png`] = tile(i + 11);
    }
    fx = await startEngineFixture({ files, latencyMs: 30 });
    const keys = Object.keys(files);
    const calls = keys.flatMap((k) =>
      [0, 1, 2].map(() => fx!.engine.getBytes(k, live()).then((r) => [k, r] as const)),
    );
    for (const [k, r] of await Promise.all(calls)) expect(same(r?.bytes, files[k])).toBe(true);
    for (const k of keys) expect(fx.mock.count(k)).toBe(1);
    expect(fx.mock.count()).toBe(10);
  });

  it('answers every waiter when the leader fails, and the next call fetches again', async () => {
    fx = await startEngineFixture(
      { files: { k: tile(2) }, latencyMs: 30, status: () => 500 },
      { retries: 0 },
    );
    const errors = await Promise.all(
      Array.from({ length: 20 }, () => rejection(fx!.engine.getBytes('k', live()))),
    );
    for (const e of errors) {
      expect(isTileError(e, 'ORIGIN_ERROR')).toBe(true);
      expect((e as TileError).details.status).toBe(500);
    }
    expect(fx.mock.count('k')).toBe(1);
    fx.mock.set({ status: undefined });
    expect(same((await fx.engine.getBytes('k', live()))?.bytes, tile(2))).toBe(true);
    expect(fx.mock.count('k')).toBe(2);
  });

  it('retries in the leader only: 10 waiters, two 503s, three origin requests', async () => {
    let n = 0;
    fx = await startEngineFixture({
      files: { k: tile(3) },
      latencyMs: 20,
      status: () => (n++ < 2 ? 503 : undefined),
    });
    const results = await Promise.all(Array.from({ length: 10 }, () => fx!.engine.getBytes('k', live())));
    for (const r of results) expect(same(r?.bytes, tile(3))).toBe(true);
    expect(fx.mock.count('k')).toBe(3);
    expect(fx.engine.stats()).toMatchObject({ retries: 2, failures: 2, originRequests: 3 });
  });

  it("lets one waiter leave without cancelling the others' shared fetch", async () => {
    fx = await startEngineFixture({ files: { k: tile(4) }, latencyMs: 300 });
    const leaving = new AbortController();
    const a = fx.engine.getBytes('k', live());
    const b = fx.engine.getBytes('k', leaving.signal);
    const c = fx.engine.getBytes('k', live());
    setTimeout(() => leaving.abort(), 30);
    expect(isTileError(await rejection(b), 'ABORTED')).toBe(true);
    expect(same((await a)?.bytes, tile(4))).toBe(true);
    expect(same((await c)?.bytes, tile(4))).toBe(true);
    expect(fx.mock.count('k')).toBe(1);
    expect(fx.mock.aborted()).toBe(0);
  });

  it('aborts the origin request when the last waiter leaves', async () => {
    fx = await startEngineFixture({ files: { k: tile(5) }, hang: true });
    const ctls = [new AbortController(), new AbortController(), new AbortController()];
    const calls = ctls.map((c) => rejection(fx!.engine.getBytes('k', c.signal)));
    await until(() => fx!.mock.count('k') === 1);
    ctls[0]!.abort();
    ctls[1]!.abort();
    await new Promise((r) => setTimeout(r, 50));
    expect(fx.mock.aborted()).toBe(0); // one waiter still there
    ctls[2]!.abort();
    for (const e of await Promise.all(calls)) expect(isTileError(e, 'ABORTED')).toBe(true);
    await until(() => fx!.mock.aborted() === 1);
    expect(fx.engine.stats()).toMatchObject({ inFlight: 0, queued: 0 });
    // The key is free again: a new caller starts a new fetch.
    fx.mock.set({ hang: false });
    expect(same((await fx.engine.getBytes('k', live()))?.bytes, tile(5))).toBe(true);
    expect(fx.mock.count('k')).toBe(2);
  });
});
