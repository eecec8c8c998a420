import { describe, expect, it, vi } from 'vitest';
import { testBatcher } from '../../test/support/sw/testBatcher.js';
import {
  BATCH_MEDIA_TYPE,
  type BatchFrame,
  encodeBatchHeader,
  encodeFrame,
} from '../protocol/batchFraming.js';
import { isTileError } from '../protocol/errors.js';
import type { BatchItemRequest } from './Batcher.js';

const BATCH = 'http://srv.test/api/tiles/ds/batch';
const enc = new TextEncoder();
const dec = new TextDecoder();

function req(key: string, priority: 'visible' | 'prefetch' = 'visible'): BatchItemRequest {
  return { dataset: 'ds', key, batchUrl: BATCH, url: `http://srv.test/api/tiles/ds/${key}`, priority };
}

interface Call {
  url: string;
  keys: string[];
  signal: AbortSignal | undefined;
}

/** A fake companion: batch answers from `tiles` (missing keys get MISSING), singles too. */
function fakeServer(opts: {
  tiles: Record<string, string>;
  batchStatus?: number;
  truncateAfter?: number;
  errorFrames?: Record<string, number>;
  singleStatuses?: number[];
  hold?: Promise<void>;
}) {
  const calls: Call[] = [];
  const singles: string[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    if (url === BATCH) {
      const keys = (JSON.parse(String(init?.body)) as { tiles: string[] }).tiles;
      calls.push({ url, keys, signal: init?.signal ?? undefined });
      if (opts.batchStatus) return new Response('no', { status: opts.batchStatus });
      const frames: BatchFrame[] = keys.map((k) => {
        if (opts.errorFrames?.[k]) {
          return { kind: 'error', key: k, error: { code: 'X', message: 'x', status: opts.errorFrames[k]! } };
        }
        const t = opts.tiles[k];
        return t === undefined
          ? { kind: 'missing', key: k }
          : { kind: 'tile', key: k, meta: { contentType: 'image/png', etag: `"${k}"` }, body: enc.encode(t) };
      });
      const limit = opts.truncateAfter ?? frames.length;
      const body = new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(encodeBatchHeader());
          for (const [i, f] of frames.entries()) {
            if (i >= limit) {
              c.close();
              return;
            }
            for (const ch of encodeFrame(f)) c.enqueue(ch);
            if (i === 0 && opts.hold) await opts.hold;
          }
          for (const ch of encodeFrame({ kind: 'end', trailer: { count: frames.length, generation: 7 } }))
            c.enqueue(ch);
          c.close();
        },
      });
      return new Response(body, { headers: { 'Content-Type': BATCH_MEDIA_TYPE } });
    }
    singles.push(url);
    const status = opts.singleStatuses?.shift() ?? 200;
    const key = url.split('/api/tiles/ds/')[1]!;
    if (status !== 200) return new Response('err', { status });
    const t = opts.tiles[key];
    return t === undefined
      ? new Response('nf', { status: 404 })
      : new Response(t, { headers: { 'Content-Type': 'image/png' } });
  }) as typeof globalThis.fetch;
  return { fetch, calls, singles };
}

const batcher = testBatcher;

const live = () => new AbortController().signal;

describe('Batcher', () => {
  it('gathers misses of one window into one batch and resolves each tile, 404 for MISSING', async () => {
    const s = fakeServer({ tiles: { '1/0/0.png': 'a', '1/1/0.png': 'b' } });
    const gens: string[] = [];
    const b = batcher(s.fetch, { onGeneration: (_d, g) => gens.push(g) });
    const rs = await Promise.all(
      ['1/0/0.png', '1/1/0.png', '1/0/1.png'].map((k) => b.request(req(k), live())),
    );
    expect(s.calls).toHaveLength(1);
    expect(s.calls[0]!.keys.sort()).toEqual(['1/0/0.png', '1/0/1.png', '1/1/0.png']);
    expect(dec.decode(rs[0]!.body)).toBe('a');
    expect(rs[0]!.source).toBe('batch');
    expect(rs[0]!.etag).toBe('"1/0/0.png"');
    expect(dec.decode(rs[1]!.body)).toBe('b');
    expect(rs[2]!.status).toBe(404);
    await vi.waitFor(() => expect(gens).toEqual(['7']), { timeout: 10_000 });
    expect(s.singles).toHaveLength(0);
  });

  it('flushes early at maxTiles', async () => {
    const tiles: Record<string, string> = {};
    const keys = Array.from({ length: 150 }, (_, i) => `8/${i}/0.png`);
    for (const k of keys) tiles[k] = k;
    const s = fakeServer({ tiles });
    const b = batcher(s.fetch, { windowMs: 1000 });
    const t0 = Date.now();
    const first = Promise.all(keys.slice(0, 100).map((k) => b.request(req(k), live())));
    await first;
    expect(Date.now() - t0).toBeLessThan(900);
    const rest = Promise.all(keys.slice(100).map((k) => b.request(req(k), live())));
    const rs = await rest;
    expect(s.calls.map((c) => c.keys.length)).toEqual([100, 50]);
    expect(dec.decode(rs[49]!.body)).toBe('8/149/0.png');
  });

  it('resolves a tile when its frame arrives, before the stream ends', async () => {
    let release!: () => void;
    const hold = new Promise<void>((r) => {
      release = r;
    });
    const s = fakeServer({ tiles: { '2/0/0.png': 'a', '2/1/0.png': 'b' }, hold });
    const b = batcher(s.fetch);
    const a = b.request(req('2/0/0.png'), live());
    const other = b.request(req('2/1/0.png'), live());
    expect(dec.decode((await a).body)).toBe('a');
    release();
    expect(dec.decode((await other).body)).toBe('b');
  });

  it('drops a tile whose waiter left before the window closed', async () => {
    const s = fakeServer({ tiles: { '1/0/0.png': 'a', '1/1/0.png': 'b' } });
    const b = batcher(s.fetch);
    const ac = new AbortController();
    const gone = b.request(req('1/0/0.png'), ac.signal);
    const kept = b.request(req('1/1/0.png'), live());
    ac.abort();
    await expect(gone).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    await kept;
    expect(s.calls[0]!.keys).toEqual(['1/1/0.png']);
  });

  it('aborts the batch request when every waiter left', async () => {
    const hold = new Promise<void>(() => {});
    const s = fakeServer({ tiles: { '1/0/0.png': 'a', '1/1/0.png': 'b' }, hold });
    const b = batcher(s.fetch);
    const ac1 = new AbortController();
    const ac2 = new AbortController();
    const p1 = b.request(req('1/0/0.png'), ac1.signal);
    const p2 = b.request(req('1/1/0.png'), ac2.signal);
    await p1; // first frame arrives, then the stream holds
    ac2.abort();
    await expect(p2).rejects.toSatisfy((e) => isTileError(e, 'ABORTED'));
    expect(s.calls[0]!.signal?.aborted).toBe(true);
    expect(b.busy).toBe(0);
    void ac1;
  });

  it('falls back to single fetches when the batch fails', async () => {
    const s = fakeServer({ tiles: { '1/0/0.png': 'a' }, batchStatus: 502 });
    let failures = 0;
    const b = batcher(s.fetch, { onBatchFailure: () => failures++ });
    const [a, m] = await Promise.all([
      b.request(req('1/0/0.png'), live()),
      b.request(req('1/1/1.png'), live()),
    ]);
    expect(dec.decode(a.body)).toBe('a');
    expect(a.source).toBe('network');
    expect(m.status).toBe(404);
    expect(s.singles).toHaveLength(2);
    expect(failures).toBe(1);
  });

  it('fetches alone only the keys a truncated stream left unanswered', async () => {
    const s = fakeServer({
      tiles: { '1/0/0.png': 'a', '1/1/0.png': 'b', '1/0/1.png': 'c' },
      truncateAfter: 1,
    });
    const b = batcher(s.fetch);
    const rs = await Promise.all(
      ['1/0/0.png', '1/1/0.png', '1/0/1.png'].map((k) => b.request(req(k), live())),
    );
    expect(rs.map((r) => dec.decode(r.body))).toEqual(['a', 'b', 'c']);
    expect(rs[0]!.source).toBe('batch');
    expect(s.singles.sort()).toEqual([
      'http://srv.test/api/tiles/ds/1/0/1.png',
      'http://srv.test/api/tiles/ds/1/1/0.png',
    ]);
  });

  it('retries a 5xx ERROR frame alone and passes a 4xx ERROR frame through', async () => {
    const s = fakeServer({
      tiles: { '1/0/0.png': 'a', '1/1/0.png': 'b' },
      errorFrames: { '1/0/0.png': 502, '1/1/0.png': 413 },
    });
    const b = batcher(s.fetch);
    const [a, f] = await Promise.all([
      b.request(req('1/0/0.png'), live()),
      b.request(req('1/1/0.png'), live()),
    ]);
    expect(dec.decode(a.body)).toBe('a');
    expect(f.status).toBe(413);
    expect(s.singles).toEqual(['http://srv.test/api/tiles/ds/1/0/0.png']);
  });

  it('rejects a 401/403 ERROR frame FORBIDDEN/UNAUTHORIZED instead of answering it, and does not fetch it alone', async () => {
    const s = fakeServer({
      tiles: { '1/0/0.png': 'a', '1/1/0.png': 'b', '1/0/1.png': 'c' },
      errorFrames: { '1/1/0.png': 403, '1/0/1.png': 401 },
    });
    const b = batcher(s.fetch);
    const [a, f, u] = await Promise.allSettled(
      ['1/0/0.png', '1/1/0.png', '1/0/1.png'].map((k) => b.request(req(k), live())),
    );
    expect(a.status === 'fulfilled' && dec.decode(a.value.body)).toBe('a');
    expect(f.status === 'rejected' && isTileError(f.reason, 'FORBIDDEN')).toBe(true);
    expect(u.status === 'rejected' && isTileError(u.reason, 'UNAUTHORIZED')).toBe(true);
    expect(s.singles).toEqual([]);
  });

  it('retries single fetches on 503 with backoff and gives the last answer when retries run out', async () => {
    const waits: number[] = [];
    const s = fakeServer({ tiles: { '1/0/0.png': 'a' }, batchStatus: 500, singleStatuses: [503, 503, 503] });
    const b = batcher(s.fetch, {
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const r = await b.request(req('1/0/0.png'), live());
    expect(r.status).toBe(503);
    expect(s.singles).toHaveLength(3);
    expect(waits).toHaveLength(2);
    expect(waits[1]!).toBeGreaterThanOrEqual(1);
  });

  it('puts visible tiles before prefetch ones when a window overflows', async () => {
    const tiles: Record<string, string> = {};
    for (let i = 0; i < 6; i++) tiles[`4/${i}/0.png`] = String(i);
    const s = fakeServer({ tiles });
    const b = batcher(s.fetch, { maxTiles: 3, windowMs: 20 });
    const ps = [
      b.request(req('4/0/0.png', 'prefetch'), live()),
      b.request(req('4/1/0.png', 'prefetch'), live()),
      b.request(req('4/2/0.png', 'visible'), live()),
    ];
    await Promise.all(ps);
    expect(s.calls[0]!.keys[0]).toBe('4/2/0.png');
  });
});

describe('Batcher window', () => {
  it('extends the window while misses keep coming, up to maxWaitMs', async () => {
    const tiles: Record<string, string> = {};
    for (let i = 0; i < 10; i++) tiles[`4/${i}/0.png`] = String(i);
    const s = fakeServer({ tiles });
    const b = batcher(s.fetch, { windowMs: 15, maxWaitMs: 1000 });
    const ps: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      ps.push(b.request(req(`4/${i}/0.png`), live()));
      await new Promise((r) => setTimeout(r, 3));
    }
    await Promise.all(ps);
    expect(s.calls).toHaveLength(1);
  });

  it('sends at maxWaitMs even when misses never pause', async () => {
    const tiles: Record<string, string> = {};
    for (let i = 0; i < 16; i++) tiles[`4/${i}/0.png`] = String(i);
    const s = fakeServer({ tiles });
    const b = batcher(s.fetch, { windowMs: 10, maxWaitMs: 20 });
    const ps: Promise<unknown>[] = [];
    for (let i = 0; i < 16; i++) {
      ps.push(b.request(req(`4/${i}/0.png`), live()));
      await new Promise((r) => setTimeout(r, 4));
    }
    await Promise.all(ps);
    expect(s.calls.length).toBeGreaterThan(1);
  });
});
