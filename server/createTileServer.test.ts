import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { asJson } from '../e2e/harness/asJson.js';
import type { Stack } from '../e2e/harness/startStack.js';
import { useStack } from '../e2e/harness/useStack.js';

import { until } from '../test/support/server/until.js';

const start = useStack();
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const png = randomBytes(2048);

function clear(s: Stack, dataset: string, auth?: string): Promise<Response> {
  return fetch(`${s.serverUrl}/api/tiles/${dataset}/cache-clear`, {
    method: 'POST',
    headers: auth ? { authorization: auth } : {},
  });
}

describe('cache-clear', () => {
  it('is 403 for everyone when OWNER_TOKEN is unset', async () => {
    const s = await start({ origin: { files: {} } });
    const r = await clear(s, 'sample', 'Bearer anything');
    expect(r.status).toBe(403);
    expect((await r.json().then(asJson)).error.code).toBe('FORBIDDEN');
  });

  it('needs the owner token: 401 without, 403 wrong, 200 right; then the origin is asked again', async () => {
    const s = await start({
      origin: { files: { 'sample/0/0/0.png': png } },
      config: { ownerToken: 'owner-secret' },
    });
    await (await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`)).arrayBuffer();
    expect((await clear(s, 'sample')).status).toBe(401);
    expect((await clear(s, 'sample', 'Bearer owner-secreT')).status).toBe(403);
    expect((await clear(s, 'sample', 'Basic b3duZXI6c2VjcmV0')).status).toBe(401);
    const wrongMethod = await fetch(`${s.serverUrl}/api/tiles/sample/cache-clear`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    const ok = await clear(s, 'sample', 'Bearer owner-secret');
    expect(ok.status).toBe(200);
    expect(await ok.json().then(asJson)).toEqual({ dataset_id: 'sample', cleared: 1, generation: 1 });
    const again = await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`);
    expect(again.headers.get('x-tile-source')).toBe('origin');
    expect(s.origin.count('sample/0/0/0.png')).toBe(2);
  });

  it('a fetch in flight during the clear cannot re-insert its (old) bytes', async () => {
    const s = await start({
      // The clear must land while the origin is still answering: it starts once
      // the origin has the request, and 1 s leaves room for a loaded machine.
      origin: { files: { 'sample/0/0/0.png': png }, latencyMs: 1_000 },
      config: { ownerToken: 'o' },
    });
    const inflight = fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`);
    await until(() => s.origin.count('sample/0/0/0.png') === 1);
    expect((await clear(s, 'sample', 'Bearer o')).status).toBe(200);
    const first = await inflight;
    expect(first.status).toBe(200); // the waiting client still gets its tile
    await first.arrayBuffer();
    const next = await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`);
    await next.arrayBuffer();
    expect(next.headers.get('x-tile-source')).toBe('origin');
    expect(s.origin.count('sample/0/0/0.png')).toBe(2);
  });
});

describe('cache-stats, healthz, metrics', () => {
  it('cache-stats has the seeds shape and the counters add up', async () => {
    const s = await start({ origin: { files: { 'sample/0/0/0.png': png } } });
    for (let i = 0; i < 3; i++)
      await (await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`)).arrayBuffer();
    await (await fetch(`${s.serverUrl}/api/tiles/sample/1/1/1.png`)).arrayBuffer();
    const body = await (await fetch(`${s.serverUrl}/api/tiles/sample/cache-stats`)).json().then(asJson);
    expect(body.dataset_id).toBe('sample');
    const st = body.stats;
    for (const k of [
      'enabled',
      'cache_size',
      'cache_max',
      'total_requests',
      'cache_hits',
      'cache_misses',
      'hit_rate',
      'prefetch_queue',
    ]) {
      expect(st, k).toHaveProperty(k);
    }
    expect(st.total_requests).toBe(4);
    expect(st.cache_hits).toBe(2);
    expect(st.cache_misses).toBe(2);
    expect(st.hit_rate).toBe('50.0%');
    expect(st.origin.requests).toBe(s.origin.count());
    expect(st.origin.breaker).toBe('closed');
    expect(typeof st.origin.latency_ms.p95).toBe('number');
  });

  it('healthz and Prometheus metrics', async () => {
    const s = await start({ origin: { files: { 'sample/0/0/0.png': png } } });
    await (await fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`)).arrayBuffer();
    const h = await fetch(`${s.serverUrl}/healthz`);
    expect(await h.json().then(asJson)).toMatchObject({ status: 'ok' });
    const m = await fetch(`${s.serverUrl}/metrics`);
    expect(m.headers.get('content-type')).toContain('text/plain');
    const text = await m.text();
    expect(text).toMatch(/tile_responses_total\{source="origin"\} 1/);
    expect(text).toMatch(/origin_requests_total 1/);
  });
});

describe('static files', () => {
  it('serves STATIC_DIR with Service-Worker-Allowed on /tile-sw.js and no traversal', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'static-'));
    dirs.push(dir);
    await mkdir(path.join(dir, 'assets'));
    await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>t</title>');
    await writeFile(path.join(dir, 'tile-sw.js'), 'self.addEventListener("fetch", () => {});');
    await writeFile(path.join(dir, 'assets', 'a-123.js'), 'export {};');
    const s = await start({ origin: { files: {} }, config: { staticDir: dir } });
    const idx = await fetch(`${s.serverUrl}/`);
    expect(idx.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(idx.headers.get('cache-control')).toBe('no-cache');
    const sw = await fetch(`${s.serverUrl}/tile-sw.js`);
    expect(sw.headers.get('service-worker-allowed')).toBe('/');
    expect(sw.headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${s.serverUrl}/assets/a-123.js`)).headers.get('cache-control')).toContain(
      'immutable',
    );
    for (const p of ['/..%2F..%2Fetc%2Fpasswd', '/%2e%2e/%2e%2e/etc/passwd', '/assets/../../../etc/passwd']) {
      const r = await fetch(`${s.serverUrl}${p}`);
      expect(r.status, p).toBe(404);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await fetch(`${s.serverUrl}/%E0%A4%A`)).status).toBe(400);
  });
});

describe('graceful close', () => {
  it('drains a request in flight before closing', async () => {
    const s = await start({ origin: { files: { 'sample/0/0/0.png': png }, latencyMs: 200 } });
    const inflight = fetch(`${s.serverUrl}/api/tiles/sample/0/0/0.png`);
    // In flight for sure: the origin has it (and answers 200 ms later).
    await until(() => s.origin.count('sample/0/0/0.png') === 1);
    const closing = s.server.close();
    const r = await inflight;
    expect(r.status).toBe(200);
    expect(Buffer.from(await r.arrayBuffer()).equals(png)).toBe(true);
    await closing;
    await expect(fetch(`${s.serverUrl}/healthz`)).rejects.toThrow();
  });
});
