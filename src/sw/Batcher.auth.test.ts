import { describe, expect, it } from 'vitest';
import { testBatcher } from '../../test/support/sw/testBatcher.js';
import { BATCH_MEDIA_TYPE, encodeBatchHeader, encodeFrame } from '../protocol/batchFraming.js';
import { isTileError } from '../protocol/errors.js';
import type { BatcherOptions, BatchItemRequest } from './Batcher.js';

const BATCH = 'http://srv.test/api/tiles/ds/batch';
const enc = new TextEncoder();
const dec = new TextDecoder();
const live = () => new AbortController().signal;

function req(key: string, authorization?: string, batched = true): BatchItemRequest {
  return {
    dataset: 'ds',
    key,
    batchUrl: batched ? BATCH : undefined,
    url: `http://srv.test/api/tiles/ds/${key}`,
    priority: 'visible',
    authorization,
  };
}

interface Seen {
  url: string;
  keys: string[];
  authorization: string | null;
}

/**
 * A companion behind API_TOKEN "Bearer good": answers 401 without it, 403
 * with another value; `batchStatus` makes every batch fail with that status.
 * Single fetches can be held (`gate`) to count how many run at once.
 */
function companion(opts: { batchStatus?: number; gate?: Promise<void> } = {}) {
  const batches: Seen[] = [];
  const singles: Seen[] = [];
  let running = 0;
  let maxRunning = 0;
  const authStatus = (a: string | null) => (a === null ? 401 : a === 'Bearer good' ? 0 : 403);
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const authorization = new Headers(init?.headers).get('Authorization');
    if (url === BATCH) {
      const keys = (JSON.parse(String(init?.body)) as { tiles: string[] }).tiles;
      batches.push({ url, keys, authorization });
      const status = authStatus(authorization) || opts.batchStatus;
      if (status) return new Response('{"error":{}}', { status });
      const chunks: Uint8Array[] = [encodeBatchHeader()];
      for (const k of keys) {
        chunks.push(
          ...encodeFrame({ kind: 'tile', key: k, meta: { contentType: 'image/png' }, body: enc.encode(k) }),
        );
      }
      chunks.push(...encodeFrame({ kind: 'end', trailer: { count: keys.length } }));
      return new Response(new Blob(chunks as Uint8Array<ArrayBuffer>[]).stream(), {
        headers: { 'Content-Type': BATCH_MEDIA_TYPE },
      });
    }
    singles.push({ url, keys: [], authorization });
    running++;
    maxRunning = Math.max(maxRunning, running);
    try {
      if (opts.gate) await opts.gate;
      await new Promise((r) => setTimeout(r, 1));
      const status = authStatus(authorization);
      if (status) return new Response('{"error":{}}', { status });
      return new Response(url.split('/ds/')[1]!, { headers: { 'Content-Type': 'image/png' } });
    } finally {
      running--;
    }
  }) as typeof globalThis.fetch;
  return { fetch, batches, singles, maxRunning: () => maxRunning };
}

const batcher = (fetch: typeof globalThis.fetch, extra: Partial<BatcherOptions> = {}) =>
  testBatcher(fetch, { sleep: async () => {}, ...extra });

const keys = (n: number) => Array.from({ length: n }, (_, i) => `7/${i}/0.png`);

describe('Batcher fallback concurrency', () => {
  it('runs at most 6 single fetches at once (default) after a failed batch, and answers every tile', async () => {
    const c = companion({ batchStatus: 503 });
    const b = batcher(c.fetch);
    const rs = await Promise.all(keys(100).map((k) => b.request(req(k, 'Bearer good'), live())));
    expect(rs.map((r) => dec.decode(r.body))).toEqual(keys(100));
    expect(c.batches).toHaveLength(1);
    expect(c.singles).toHaveLength(100);
    expect(c.maxRunning()).toBe(6);
  });

  it('honours fallbackConcurrency', async () => {
    const c = companion({ batchStatus: 503 });
    const b = batcher(c.fetch, { fallbackConcurrency: 2 });
    await Promise.all(keys(20).map((k) => b.request(req(k, 'Bearer good'), live())));
    expect(c.maxRunning()).toBe(2);
  });

  it('a tile aborted while waiting for a slot is never fetched', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const c = companion({ batchStatus: 503, gate });
    const b = batcher(c.fetch, { fallbackConcurrency: 1 });
    const ac = new AbortController();
    const first = b.request(req('7/0/0.png', 'Bearer good'), live());
    const queued = b.request(req('7/1/0.png', 'Bearer good'), ac.signal);
    while (c.singles.length === 0) await new Promise((r) => setTimeout(r, 1));
    ac.abort();
    await expect(queued).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    open();
    expect(dec.decode((await first).body)).toBe('7/0/0.png');
    expect(c.singles.map((s) => s.url)).toEqual(['http://srv.test/api/tiles/ds/7/0/0.png']);
  });
});

describe('Batcher auth contexts', () => {
  it('forwards Authorization on the batch and batches only tiles with the same value', async () => {
    const c = companion();
    const b = batcher(c.fetch);
    const rs = await Promise.allSettled([
      b.request(req('1/0/0.png', 'Bearer good'), live()),
      b.request(req('1/1/0.png', 'Bearer good'), live()),
      b.request(req('1/0/1.png', 'Bearer other'), live()),
      b.request(req('1/1/1.png'), live()),
    ]);
    const byAuth = Object.fromEntries(c.batches.map((x) => [String(x.authorization), x.keys.sort()]));
    expect(byAuth).toEqual({
      'Bearer good': ['1/0/0.png', '1/1/0.png'],
      'Bearer other': ['1/0/1.png'],
      null: ['1/1/1.png'],
    });
    expect(rs[0]!.status === 'fulfilled' && dec.decode(rs[0].value.body)).toBe('1/0/0.png');
    expect(rs[1]!.status).toBe('fulfilled');
    expect(rs[2]!.status === 'rejected' && isTileError(rs[2].reason, 'FORBIDDEN')).toBe(true);
    expect(rs[3]!.status === 'rejected' && isTileError(rs[3].reason, 'UNAUTHORIZED')).toBe(true);
    // A 401/403 batch is not retried tile by tile: the same request alone is refused too.
    expect(c.singles).toHaveLength(0);
  });

  it('forwards Authorization on single fetches and rejects a 401 instead of answering it', async () => {
    const c = companion({ batchStatus: 502 });
    const b = batcher(c.fetch);
    const ok = await b.request(req('2/0/0.png', 'Bearer good'), live());
    expect(dec.decode(ok.body)).toBe('2/0/0.png');
    expect(c.singles.map((s) => s.authorization)).toEqual(['Bearer good']);
    await expect(b.request(req('2/1/0.png', undefined, false), live())).rejects.toSatisfy((e) =>
      isTileError(e, 'UNAUTHORIZED'),
    );
    // No retries of a 401: one attempt.
    expect(c.singles.map((s) => s.authorization)).toEqual(['Bearer good', null]);
  });
});
