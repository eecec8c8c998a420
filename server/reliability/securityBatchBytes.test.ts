import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Stack } from '../../e2e/harness/startStack.js';
import { BATCH_MEDIA_TYPE, type BatchFrame, BatchFrameDecoder } from '../../src/protocol/batchFraming.js';
import { Batcher } from '../../src/sw/Batcher.js';
import { get, startFaultStack } from '../../test/support/server/faultKit.js';
import { ByteBudget } from '../routes/batchRoute.js';

const TILE = 4096;
const LIMIT = 10_000; // two 4 KiB tiles fit, the third does not
const keys = ['3/0/0.jpg', '3/1/0.jpg', '3/2/0.jpg', '3/3/0.jpg', '3/4/0.jpg'];
const files: Record<string, Buffer> = {};
for (const k of keys) files[`ds/${k}`] = randomBytes(TILE);
files['ds/3/7/7.jpg'] = randomBytes(64 * 1024); // alone over the limit

interface JsonBatch {
  count: number;
  tiles: Record<string, string | null>;
  errors?: Record<string, { code: string; message: string; limit?: number }>;
}

function frames(bytes: Buffer): BatchFrame[] {
  const dec = new BatchFrameDecoder();
  const out = dec.push(bytes);
  dec.finish();
  return out;
}

/** Every key is answered exactly once: with its true bytes, or with a coded BATCH_TOO_LARGE error. */
function checkJson(b: JsonBatch, asked: string[]): { sent: string[]; refused: string[] } {
  expect(Object.keys(b.tiles).sort()).toEqual([...asked].sort());
  const sent: string[] = [];
  const refused: string[] = [];
  for (const k of asked) {
    const t = b.tiles[k];
    if (t !== null && t !== undefined) {
      expect(Buffer.from(t, 'base64').equals(files[`ds/${k}`]!), k).toBe(true);
      sent.push(k);
    } else {
      expect(b.errors?.[k], k).toMatchObject({ code: 'BATCH_TOO_LARGE', limit: LIMIT });
      refused.push(k);
    }
  }
  expect(b.count).toBe(sent.length);
  return { sent, refused };
}

describe('security: the bytes of one batch answer are bounded (BATCH_MAX_BYTES)', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('ByteBudget admits while tiles fit; the first that does not closes it for good', () => {
    const b = new ByteBudget(10);
    expect([b.take(4), b.take(6), b.take(0), b.take(1), b.take(0)]).toEqual([true, true, true, false, false]);
    expect(b.used).toBe(10);
    const one = new ByteBudget(10);
    expect(one.take(11)).toBe(false);
    expect(one.closed).toBe(true);
  });

  it('JSON (GET and POST): tiles past the limit are null with a coded per-tile error naming it, never dropped silently', async () => {
    stack = await startFaultStack({ origin: { files }, config: { batchMaxBytes: LIMIT } });
    const url = `${stack.serverUrl}/api/tiles/ds/batch`;
    const g = await get(`${url}?${keys.map((k) => `tiles=${k}`).join('&')}`);
    expect(g.status).toBe(200);
    expect(g.headers.get('content-type')).toMatch(/^application\/json/);
    const first = checkJson(JSON.parse(g.bytes.toString()) as JsonBatch, keys);
    expect([first.sent.length, first.refused.length]).toEqual([2, 3]);
    // Each key asked of the origin at most once (the refused ones were dropped, not retried).
    for (const k of keys) expect(stack.origin.count(`ds/${k}`), k).toBeLessThanOrEqual(1);

    const p = await get(url, { method: 'POST', body: JSON.stringify({ tiles: keys }) });
    expect(p.status).toBe(200);
    const second = checkJson(JSON.parse(p.bytes.toString()) as JsonBatch, keys);
    expect([second.sent.length, second.refused.length]).toEqual([2, 3]);

    // A tile alone over the limit is refused too (the single route still serves it).
    const big = await get(`${url}?tiles=3/7/7.jpg`);
    const bb = JSON.parse(big.bytes.toString()) as JsonBatch;
    expect([bb.count, bb.tiles]).toEqual([0, { '3/7/7.jpg': null }]);
    expect(bb.errors).toEqual({
      '3/7/7.jpg': {
        code: 'BATCH_TOO_LARGE',
        limit: LIMIT,
        message: 'this batch reached its byte limit (BATCH_MAX_BYTES); fetch this tile alone',
      },
    });
    const alone = await get(`${stack.serverUrl}/api/tiles/ds/3/7/7.jpg`);
    expect(alone.status).toBe(200);
    expect(alone.bytes.equals(files['ds/3/7/7.jpg']!)).toBe(true);
    // Every refused tile is served alone, with its true bytes.
    for (const k of first.refused) {
      const r = await get(`${stack.serverUrl}/api/tiles/ds/${k}`);
      expect(r.bytes.equals(files[`ds/${k}`]!), k).toBe(true);
    }
    const m = await get(`${stack.serverUrl}/metrics`);
    expect(m.bytes.toString()).toMatch(/^tile_batch_over_limit_total 7$/m);
  });

  it('binary stream: frames that fit are sent, the rest get a 503 BATCH_TOO_LARGE error frame, then END', async () => {
    stack = await startFaultStack({ origin: { files }, config: { batchMaxBytes: LIMIT } });
    const r = await get(`${stack.serverUrl}/api/tiles/ds/batch?${keys.map((k) => `tiles=${k}`).join('&')}`, {
      headers: { Accept: BATCH_MEDIA_TYPE },
    });
    expect(r.status).toBe(200);
    const fs = frames(r.bytes);
    const end = fs.at(-1);
    expect(end).toMatchObject({ kind: 'end', trailer: { count: keys.length } });
    const byKey = new Map(fs.flatMap((f) => (f.kind === 'end' ? [] : [[f.key, f] as const])));
    expect([...byKey.keys()].sort()).toEqual([...keys].sort());
    let sent = 0;
    for (const f of byKey.values()) {
      if (f.kind === 'tile') {
        expect(Buffer.from(f.body).equals(files[`ds/${f.key}`]!)).toBe(true);
        sent++;
      } else {
        expect(f).toMatchObject({ kind: 'error', error: { code: 'BATCH_TOO_LARGE', status: 503 } });
      }
    }
    expect(sent).toBe(2);
    for (const k of keys) expect(stack.origin.count(`ds/${k}`), k).toBeLessThanOrEqual(1);
    // Still answering afterwards.
    expect((await get(`${stack.serverUrl}/healthz`)).status).toBe(200);
  });

  it("the service worker's Batcher gets every tile: what the batch refused it fetches alone", async () => {
    stack = await startFaultStack({ origin: { files }, config: { batchMaxBytes: LIMIT } });
    let singles = 0;
    const b = new Batcher({
      fetch: globalThis.fetch,
      windowMs: 5,
      maxTiles: 100,
      method: 'POST',
      timeoutMs: 5000,
      retries: 0,
      backoffBaseMs: 1,
      singleTimeoutMs: 5000,
      onSingleFetch: () => singles++,
    });
    const signal = AbortSignal.timeout(10_000);
    const results = await Promise.all(
      keys.map((key) =>
        b.request(
          {
            dataset: 'ds',
            key,
            batchUrl: `${stack!.serverUrl}/api/tiles/ds/batch`,
            url: `${stack!.serverUrl}/api/tiles/ds/${key}`,
            priority: 'visible',
          },
          signal,
        ),
      ),
    );
    for (const [i, r] of results.entries()) {
      expect(r.status, keys[i]).toBe(200);
      expect(Buffer.from(r.body).equals(files[`ds/${keys[i]}`]!), keys[i]).toBe(true);
    }
    expect(singles).toBe(3);
  });
});
