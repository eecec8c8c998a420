import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Stack } from '../../e2e/harness/startStack.js';
import { get, startFaultStack } from '../../test/support/server/faultKit.js';

// Only the webp exists; every origin answer (the 404s of jpg and png too) takes 150 ms.
const webp = randomBytes(2048);
const files = { 'ds/2/1/1.webp': webp };
const url = (s: Stack) => `${s.serverUrl}/api/tiles/ds/2/1/1.jpg`;

describe('ORIGIN_TIMEOUT_MS bounds a tile across its format fallback, not each format', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('a fallback chain longer than the deadline is a 504 ORIGIN_TIMEOUT; the last format is never asked', async () => {
    // jpg 404 at ~150 ms, png 404 at ~300 ms, webp would land at ~450 ms: past 400.
    stack = await startFaultStack({
      origin: { files, latencyMs: 150 },
      config: { originTimeoutMs: 400, originAttemptTimeoutMs: 400, originRetries: 0 },
    });
    const r = await get(url(stack));
    expect(r.status).toBe(504);
    expect(r.code).toBe('ORIGIN_TIMEOUT');
    expect(stack.origin.count('ds/2/1/1.jpg')).toBe(1);
    // webp was either never asked or abandoned: no answer came from it
    expect(stack.server.context.engine.stats().inFlight).toBe(0);
  });

  it('within the deadline the same chain answers with the webp and its true type', async () => {
    stack = await startFaultStack({
      origin: { files, latencyMs: 150 },
      config: { originTimeoutMs: 3_000, originAttemptTimeoutMs: 2_000, originRetries: 0 },
    });
    const r = await get(url(stack));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/webp');
    expect(r.bytes.equals(webp)).toBe(true);
    expect(['ds/2/1/1.jpg', 'ds/2/1/1.png', 'ds/2/1/1.webp'].map((k) => stack!.origin.count(k))).toEqual([
      1, 1, 1,
    ]);
  });
});
