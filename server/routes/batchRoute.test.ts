import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { asJson } from '../../e2e/harness/asJson.js';
import { useStack } from '../../e2e/harness/useStack.js';
import { BATCH_MEDIA_TYPE, type BatchFrame, BatchFrameDecoder } from '../../src/protocol/batchFraming.js';

const start = useStack();

const tiles: Record<string, Buffer> = {};
for (let x = 0; x < 4; x++) tiles[`sample/2/${x}/0.png`] = randomBytes(1500 + x);

function query(keys: string[]): string {
  return keys.map((k) => `tiles=${encodeURIComponent(k)}`).join('&');
}

/** Reads a binary batch, noting when each frame arrived; `onFrame` sees each frame as it is decoded. */
async function readFrames(
  res: Response,
  onFrame?: (frame: BatchFrame, n: number) => void,
): Promise<Array<{ frame: BatchFrame; at: number }>> {
  const t0 = performance.now();
  const dec = new BatchFrameDecoder();
  const out: Array<{ frame: BatchFrame; at: number }> = [];
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (const frame of dec.push(chunk)) {
      out.push({ frame, at: performance.now() - t0 });
      onFrame?.(frame, out.length);
    }
  }
  dec.finish();
  return out;
}

describe('batch route (JSON)', () => {
  it('answers the seeds shape with base64 and null for missing tiles, one origin GET per present tile', async () => {
    const s = await start({ origin: { files: tiles } });
    const keys = ['2/0/0.png', '2/1/0.png', '2/3/3.png'];
    const r = await fetch(`${s.serverUrl}/api/tiles/sample/batch?${query(keys)}`);
    expect(r.status).toBe(200);
    const body = await r.json().then(asJson);
    expect(body.dataset_id).toBe('sample');
    expect(body.count).toBe(2);
    expect(Buffer.from(body.tiles['2/0/0.png'], 'base64').equals(tiles['sample/2/0/0.png']!)).toBe(true);
    expect(Buffer.from(body.tiles['2/1/0.png'], 'base64').equals(tiles['sample/2/1/0.png']!)).toBe(true);
    expect(body.tiles['2/3/3.png']).toBeNull();
    expect(body.cache_stats.cache_hits + body.cache_stats.cache_misses).toBe(body.cache_stats.total_requests);
    expect(s.origin.count('sample/2/0/0.png')).toBe(1);
    // Second batch: all from memory.
    await (await fetch(`${s.serverUrl}/api/tiles/sample/batch?${query(keys)}`)).json().then(asJson);
    expect(s.origin.count('sample/2/0/0.png')).toBe(1);
  });

  it('takes POST {"tiles": [...]} too', async () => {
    const s = await start({ origin: { files: tiles } });
    const r = await fetch(`${s.serverUrl}/api/tiles/sample/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tiles: ['2/2/0.png'] }),
    });
    const body = await r.json().then(asJson);
    expect(Buffer.from(body.tiles['2/2/0.png'], 'base64').equals(tiles['sample/2/2/0.png']!)).toBe(true);
  });

  it('refuses more than 100 tiles with a 400 naming the limit, and asks the origin nothing', async () => {
    const s = await start({ origin: { files: tiles } });
    const keys = Array.from({ length: 101 }, (_, i) => `7/${i}/0.png`);
    const r = await fetch(`${s.serverUrl}/api/tiles/sample/batch?${query(keys)}`);
    expect(r.status).toBe(400);
    const body = await r.json().then(asJson);
    expect(body.error.code).toBe('TOO_MANY_TILES');
    expect(body.error.message).toContain('100');
    expect(body.error.limit).toBe(100);
    const post = await fetch(`${s.serverUrl}/api/tiles/sample/batch`, {
      method: 'POST',
      body: JSON.stringify({ tiles: keys }),
    });
    expect(post.status).toBe(400);
    expect(s.origin.count()).toBe(0);
  });

  it.each([
    ['GET', '?tiles=1/2/0.png', undefined, 400, 'BAD_TILE_KEY'],
    ['GET', '?tiles=..%2F..%2Fetc%2Fpasswd', undefined, 400, 'BAD_TILE_KEY'],
    ['GET', '?tiles=0/0/0.exe', undefined, 400, 'BAD_EXTENSION'],
    ['GET', '', undefined, 400, 'BAD_REQUEST'],
    ['POST', '', '{"tiles": [', 400, 'BAD_REQUEST'],
    ['POST', '', '{"tiles": "0/0/0.png"}', 400, 'BAD_REQUEST'],
    ['POST', '', '{"tiles": [1]}', 400, 'BAD_TILE_KEY'],
    ['POST', '', JSON.stringify({ tiles: ['0/0/0.png'], pad: 'x'.repeat(100_000) }), 413, 'BODY_TOO_LARGE'],
    ['PUT', '', '{}', 405, 'METHOD_NOT_ALLOWED'],
  ])('%s %s %s -> %i %s, server stays up', async (method, q, body, status, code) => {
    const s = await start({ origin: { files: tiles } });
    const r = await fetch(`${s.serverUrl}/api/tiles/sample/batch${q}`, { method, body });
    expect(r.status).toBe(status);
    expect((await r.json().then(asJson)).error.code).toBe(code);
    expect(s.origin.count()).toBe(0);
    expect((await fetch(`${s.serverUrl}/api/tiles/sample/batch?tiles=2/0/0.png`)).status).toBe(200);
  });

  it('refuses a bad dataset id on the batch route', async () => {
    const s = await start({ origin: { files: tiles } });
    const r = await fetch(`${s.serverUrl}/api/tiles/bad.id/batch?tiles=0/0/0.png`);
    expect(r.status).toBe(400);
    expect((await r.json().then(asJson)).error.code).toBe('BAD_DATASET');
  });
});

describe('batch route (binary streamed framing)', () => {
  it('writes each tile as it completes: a slow tile comes after the fast ones', async () => {
    // The slow tile is held by a barrier, not a sleep: it is released only once the
    // client has decoded the other four frames, so "the fast ones came first" is
    // proven by the stream itself, whatever the machine's load. If the route
    // buffered its answer, the frames would never arrive and the hold would end
    // by its deadline, which the test reports.
    const slowKey = 'sample/2/3/0.png';
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let heldTooLong = false;
    const s = await start({
      origin: { files: tiles },
      wrapEngine: (engine) => ({
        ...engine,
        stats: () => engine.stats(),
        close: () => engine.close(),
        getStream: (k, o) => engine.getStream(k, o),
        getRange: (k, r, s) => engine.getRange(k, r, s),
        getBytes: async (key, signal) => {
          if (key === slowKey) {
            const stop = new AbortController();
            const deadline = sleep(10_000, 'deadline' as const, {
              signal: AbortSignal.any([signal, stop.signal]),
            }).catch(() => 'aborted' as const);
            heldTooLong =
              (await Promise.race([released.then(() => 'released' as const), deadline])) === 'deadline';
            stop.abort();
          }
          return engine.getBytes(key, signal);
        },
      }),
    });
    const keys = ['2/3/0.png', '2/0/0.png', '2/1/0.png', '2/2/1.png', '2/2/0.png'];
    const r = await fetch(`${s.serverUrl}/api/tiles/sample/batch?${query(keys)}`, {
      headers: { accept: BATCH_MEDIA_TYPE },
    });
    expect(r.headers.get('content-type')).toBe(BATCH_MEDIA_TYPE);
    const frames = await readFrames(r, (_f, n) => {
      if (n === 4) release();
    });
    expect(heldTooLong, 'the four other frames never reached the client while the slow tile was held').toBe(
      false,
    );
    const kinds = frames.map((f) => f.frame.kind);
    expect(kinds[kinds.length - 1]).toBe('end');
    const slow = frames.find((f) => f.frame.kind === 'tile' && f.frame.key === '2/3/0.png')!;
    const fast = frames.filter((f) => f.frame.kind === 'tile' && f.frame.key !== '2/3/0.png');
    expect(fast).toHaveLength(3);
    expect(frames.indexOf(slow)).toBe(4); // after the three fast tiles and the missing one
    const missing = frames.find((f) => f.frame.kind === 'missing');
    expect(missing && missing.frame.kind === 'missing' && missing.frame.key).toBe('2/2/1.png');
    for (const f of frames) {
      if (f.frame.kind === 'tile') {
        expect(Buffer.from(f.frame.body).equals(tiles[`sample/${f.frame.key}`]!)).toBe(true);
        expect(f.frame.meta.contentType).toBe('image/png');
        expect(f.frame.meta.source).toBe('origin');
      }
    }
    const end = frames[frames.length - 1]!.frame;
    expect(end.kind === 'end' && end.trailer['count']).toBe(5);
    // Four present tiles (png asked first: one GET each) + the missing one probed as png, jpg, webp.
    expect(s.origin.count()).toBe(4 + 3);
  });

  it('turns a hanging origin into an ERROR frame by its deadline, after the fast tiles', async () => {
    const s = await start({
      origin: { files: tiles, hang: (k) => k === 'sample/2/1/0.png' },
      config: { originRetries: 0, originAttemptTimeoutMs: 300, originTimeoutMs: 500 },
    });
    const r = await fetch(`${s.serverUrl}/api/tiles/sample/batch?${query(['2/1/0.png', '2/0/0.png'])}`, {
      headers: { accept: BATCH_MEDIA_TYPE },
    });
    const frames = (await readFrames(r)).map((f) => f.frame);
    expect(frames.map((f) => f.kind)).toEqual(['tile', 'error', 'end']);
    const err = frames[1]!;
    expect(err.kind === 'error' && err.error.status).toBe(504);
  });

  it('stops waiting when the client leaves: the origin sees the request aborted', async () => {
    const s = await start({ origin: { files: tiles, hang: (k) => k === 'sample/2/1/0.png' } });
    const ac = new AbortController();
    const r = await fetch(`${s.serverUrl}/api/tiles/sample/batch?${query(['2/1/0.png', '2/0/0.png'])}`, {
      headers: { accept: BATCH_MEDIA_TYPE },
      signal: ac.signal,
    });
    const reader = r.body!.getReader();
    const dec = new BatchFrameDecoder();
    const got: BatchFrame[] = [];
    while (got.length === 0) got.push(...dec.push((await reader.read()).value!));
    expect(got[0]!.kind).toBe('tile');
    ac.abort();
    const t0 = Date.now();
    while (s.origin.aborted() === 0 && Date.now() - t0 < 3_000) await sleep(20);
    expect(s.origin.aborted()).toBeGreaterThanOrEqual(1);
    expect(s.server.context.engine.stats().inFlight).toBe(0);
    expect((await fetch(`${s.serverUrl}/healthz`)).status).toBe(200);
  });
});
