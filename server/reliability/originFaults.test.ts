import { afterEach, describe, expect, it } from 'vitest';
import type { Stack } from '../../e2e/harness/startStack.js';
import { BATCH_MEDIA_TYPE, type BatchFrame, readBatchFrames } from '../../src/protocol/batchFraming.js';
import {
  counters,
  engineIdle,
  FAULT_CONFIG,
  get,
  startFaultStack,
  tileFiles,
  tilePathOf,
} from '../../test/support/server/faultKit.js';
import { closedPort } from '../../test/support/server/rawHttp.js';

/**
 * The fault matrix against a real companion server and the mocked origin on
 * loopback. Every case checks: what the client sees, that it is answered by
 * its deadline, that the counters add up, and that after the origin is fixed
 * the next fetch returns the true bytes from the origin (so nothing truncated
 * or erroneous was cached).
 */
describe('fault matrix: origin faults', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  const files = tileFiles('ds', 4);
  const [k0] = Object.keys(files) as [string];
  // The configured deadline plus scheduling slack on a busy shared 2-core machine.
  const deadlineMs = FAULT_CONFIG.originTimeoutMs! + 1_000;

  /** Fix the origin, fetch again: the true bytes, from the origin, one more origin GET. */
  async function recoversWithTrueBytes(s: Stack, key: string, truth = files[key]!): Promise<void> {
    s.origin.set({
      hang: false,
      resetMidBody: false,
      shortBody: false,
      slowBodyMs: 0,
      status: () => undefined,
    });
    await engineIdle(s);
    const before = s.origin.count(key);
    const r = await get(s.serverUrl + tilePathOf(key));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-tile-source')).toBe('origin');
    expect(r.bytes.equals(Buffer.from(truth))).toBe(true);
    expect(s.origin.count(key)).toBe(before + 1);
    // and now it is cached: no further origin request
    const again = await get(s.serverUrl + tilePathOf(key));
    expect(again.headers.get('x-tile-source')).toBe('memory-cache');
    expect(again.bytes.equals(Buffer.from(truth))).toBe(true);
    expect(s.origin.count(key)).toBe(before + 1);
  }

  function countersAddUp(s: Stack, tileRequests: number): void {
    const c = counters(s);
    expect(c.lookups).toBe(tileRequests);
    expect(c.engine.inFlight).toBe(0);
    expect(c.engine.queued).toBe(0);
    // every attempt the engine counted reached the origin, and no more
    expect(c.engine.originRequests).toBe(c.origin);
  }

  it('a 5xx burst shorter than the retries is invisible: 200 with the true bytes', async () => {
    let n = 0;
    stack = await startFaultStack({ origin: { files, status: () => (n++ < 2 ? 503 : undefined) } });
    const r = await get(stack.serverUrl + tilePathOf(k0));
    expect(r.status).toBe(200);
    expect(r.bytes.equals(Buffer.from(files[k0]!))).toBe(true);
    expect(stack.origin.count(k0)).toBe(3);
    expect(counters(stack).engine.retries).toBe(2);
    countersAddUp(stack, 1);
  });

  it('a 5xx burst longer than the retries is a 502 ORIGIN_ERROR by the deadline, never cached', async () => {
    stack = await startFaultStack({ origin: { files, status: () => 503 } });
    const r = await get(stack.serverUrl + tilePathOf(k0));
    expect([r.status, r.code]).toEqual([502, 'ORIGIN_ERROR']);
    expect(r.ms).toBeLessThan(deadlineMs);
    expect(stack.origin.count(k0)).toBe(1 + FAULT_CONFIG.originRetries!);
    countersAddUp(stack, 1);
    await recoversWithTrueBytes(stack, k0);
    countersAddUp(stack, 3);
  });

  it('429 with Retry-After is honoured (waits, then one retry) and the tile arrives', async () => {
    let n = 0;
    stack = await startFaultStack({
      origin: { files, retryAfterSec: 1, status: () => (n++ === 0 ? 429 : undefined) },
      config: { originTimeoutMs: 3_000 },
    });
    const r = await get(stack.serverUrl + tilePathOf(k0));
    expect(r.status).toBe(200);
    expect(r.bytes.equals(Buffer.from(files[k0]!))).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(900);
    expect(stack.origin.count(k0)).toBe(2);
    countersAddUp(stack, 1);
  });

  it('an origin that never answers gives 504 by the request deadline; the next requests still succeed', async () => {
    stack = await startFaultStack({ origin: { files, hang: true } });
    const all = await Promise.all(Object.keys(files).map((k) => get(stack!.serverUrl + tilePathOf(k))));
    for (const r of all) {
      expect(r.status).toBe(504);
      expect(['ORIGIN_TIMEOUT', 'DEADLINE_EXCEEDED']).toContain(r.code);
      expect(r.ms).toBeLessThan(deadlineMs);
    }
    await engineIdle(stack);
    countersAddUp(stack, 4);
    await recoversWithTrueBytes(stack, k0);
  });

  it('a reset in the middle of the body is retried; when it persists: 502, nothing cached', async () => {
    stack = await startFaultStack({ origin: { files, resetMidBody: true } });
    const r = await get(stack.serverUrl + tilePathOf(k0));
    expect(r.status).toBe(502);
    expect(r.code).toBe('ORIGIN_UNAVAILABLE');
    expect(r.ms).toBeLessThan(deadlineMs);
    expect(stack.origin.count(k0)).toBe(1 + FAULT_CONFIG.originRetries!);
    await engineIdle(stack);
    countersAddUp(stack, 1);
    await recoversWithTrueBytes(stack, k0);
  });

  it('a body shorter than its Content-Length is an error, never a short tile in the cache', async () => {
    stack = await startFaultStack({ origin: { files, shortBody: true } });
    const r = await get(stack.serverUrl + tilePathOf(k0));
    expect(r.status).toBeGreaterThanOrEqual(502);
    expect(r.status).toBeLessThanOrEqual(504);
    expect(r.ms).toBeLessThan(deadlineMs);
    await engineIdle(stack);
    countersAddUp(stack, 1);
    await recoversWithTrueBytes(stack, k0);
  });

  it('a slow-drip body within the attempt deadline arrives whole', async () => {
    stack = await startFaultStack({
      origin: { files, slowBodyMs: 30 },
      config: { originAttemptTimeoutMs: 1_000 },
    });
    const r = await get(stack.serverUrl + tilePathOf(k0)); // 4 KiB = 4 drips
    expect(r.status).toBe(200);
    expect(r.bytes.equals(Buffer.from(files[k0]!))).toBe(true);
    countersAddUp(stack, 1);
  });

  it('a slow-drip body past the attempt deadline is a 504 by the request deadline, nothing cached', async () => {
    stack = await startFaultStack({ origin: { files, slowBodyMs: 300 } });
    const r = await get(stack.serverUrl + tilePathOf(k0));
    expect(r.status).toBe(504);
    expect(r.ms).toBeLessThan(deadlineMs);
    await engineIdle(stack);
    countersAddUp(stack, 1);
    await recoversWithTrueBytes(stack, k0);
  });

  it('connection refused (origin port closed) is a fast 502 ORIGIN_UNAVAILABLE', async () => {
    const port = await closedPort();
    stack = await startFaultStack({ origin: { files }, config: { r2PublicUrl: `http://127.0.0.1:${port}` } });
    const r = await get(stack.serverUrl + tilePathOf(k0));
    expect([r.status, r.code]).toEqual([502, 'ORIGIN_UNAVAILABLE']);
    expect(r.ms).toBeLessThan(deadlineMs);
    const e = stack.server.context.engine.stats();
    expect(e.inFlight).toBe(0);
    expect(e.originRequests).toBe(1 + FAULT_CONFIG.originRetries!);
    expect(stack.origin.count()).toBe(0);
  });

  it('a batch under mixed faults answers every tile by the deadline with frames or errors, never wrong bytes', async () => {
    const many = tileFiles('mx', 24);
    const keys = Object.keys(many);
    stack = await startFaultStack({
      origin: {
        files: many,
        hang: (k) => k === keys[0],
        resetMidBody: (k) => k === keys[1],
        shortBody: (k) => k === keys[2],
        status: (k) => (k === keys[3] ? 503 : undefined),
      },
    });
    const q = keys.map((k) => `tiles=${k.slice(3)}`).join('&');
    const r = await get(`${stack.serverUrl}/api/tiles/mx/batch?${q}`);
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(deadlineMs);
    const body = JSON.parse(r.bytes.toString()) as {
      tiles: Record<string, string | null>;
      errors?: Record<string, { code: string }>;
    };
    for (const [i, k] of keys.entries()) {
      const got = body.tiles[k.slice(3)];
      if (i < 4) {
        expect(got).toBeNull();
        expect(body.errors?.[k.slice(3)]?.code).toMatch(/^ORIGIN_|DEADLINE_EXCEEDED/);
      } else expect(Buffer.from(got!, 'base64').equals(Buffer.from(many[k]!))).toBe(true);
    }
    await engineIdle(stack);
    countersAddUp(stack, keys.length);
    for (const k of keys.slice(0, 4)) await recoversWithTrueBytes(stack, k, many[k]!);
  });

  it('the binary batch under mixed faults streams the good tiles first, an ERROR frame per bad one, then END', async () => {
    const many = tileFiles('bx', 12);
    const keys = Object.keys(many);
    stack = await startFaultStack({
      origin: {
        files: many,
        hang: (k) => k === keys[0],
        resetMidBody: (k) => k === keys[1],
        status: (k) => (k === keys[2] ? 503 : undefined),
      },
      // roomier attempts: the point here is ordering, not a tight deadline
      config: { originAttemptTimeoutMs: 1_000, originTimeoutMs: 2_500 },
    });
    const t0 = performance.now();
    const res = await fetch(`${stack.serverUrl}/api/tiles/bx/batch`, {
      method: 'POST',
      headers: { Accept: BATCH_MEDIA_TYPE, 'Content-Type': 'application/json' },
      body: JSON.stringify({ tiles: keys.map((k) => k.slice(3)) }),
      signal: AbortSignal.timeout(10_000),
    });
    const frames: Array<BatchFrame & { at: number }> = [];
    for await (const f of readBatchFrames(res.body!)) frames.push({ ...f, at: performance.now() - t0 });
    expect(performance.now() - t0).toBeLessThan(2_500 + 1_000);
    const end = frames.pop()!;
    expect(end.kind).toBe('end');
    expect(frames).toHaveLength(keys.length);
    const bad = new Set(keys.slice(0, 3).map((k) => k.slice(3)));
    for (const f of frames) {
      if (f.kind === 'tile') {
        expect(bad.has(f.key)).toBe(false);
        expect(Buffer.from(f.body).equals(Buffer.from(many[`bx/${f.key}`]!))).toBe(true);
      } else {
        expect(f.kind).toBe('error');
        if (f.kind === 'error') expect(bad.has(f.key), JSON.stringify(f)).toBe(true);
      }
    }
    // the hung tile does not hold back the good ones: they all arrive well before its deadline
    const lastGood = Math.max(...frames.filter((f) => f.kind === 'tile').map((f) => f.at));
    const hung = frames.find((f) => f.kind === 'error' && f.key === keys[0]!.slice(3))!;
    expect(hung.kind === 'error' && hung.error.status).toBe(504);
    expect(lastGood).toBeLessThan(hung.at);
    await engineIdle(stack);
    countersAddUp(stack, keys.length);
  });
});
