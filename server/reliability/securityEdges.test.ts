import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Stack } from '../../e2e/harness/startStack.js';
import { BATCH_MEDIA_TYPE } from '../../src/protocol/batchFraming.js';
import { get, startFaultStack } from '../../test/support/server/faultKit.js';
import { type RawResponse, rawRequest } from '../../test/support/server/rawHttp.js';

const API = 'read-token-abcdef';
const OWNER = 'owner-token-0123456789';
const METRICS = 'scrape-token-9876';
const files = {
  'ds/0/0/0.jpg': 'tile-ds-000',
  'ds/3/0/0.jpg': 'x'.repeat(3000),
  'ds/3/1/0.jpg': 'y'.repeat(3000),
  'videos/clip.mp4': 'video-bytes-0123456789',
};

/** Raw bytes on a fresh socket (no request line of ours): everything the server sends until it closes. */
function rawBytes(baseUrl: string, bytes: string | Buffer, timeoutMs = 5_000): Promise<Buffer> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('no answer'));
    }, timeoutMs);
    sock.on('data', (c: Buffer) => chunks.push(c));
    // The server may close while we still write (oversized headers): what it sent first is what counts.
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    sock.write(bytes);
  });
}

function parse(buf: Buffer): RawResponse {
  const end = buf.indexOf('\r\n\r\n');
  expect(end, buf.toString('latin1')).toBeGreaterThan(0);
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1))
    headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
  return { status: Number(lines[0]!.split(' ')[1]), headers, body: buf.subarray(end + 4), ms: 0 };
}

/** The shape every answer has: Content-Type with a body, nosniff, a coded JSON error for 4xx/5xx, no stack. */
function wellFormed(r: RawResponse, what: string): void {
  expect(r.headers['x-content-type-options'], `${what}: nosniff`).toBe('nosniff');
  expect(r.headers['content-type'], `${what}: content-type`).toBeTruthy();
  const text = r.body.toString('latin1');
  expect(text, what).not.toMatch(/\n\s+at |node:internal|\/work\/|Error:/);
  if (r.status >= 400 && r.body.length > 0) {
    expect(r.headers['content-type'], what).toMatch(/^application\/json/);
    const e = (JSON.parse(text) as { error: { code: unknown; message: unknown } }).error;
    expect(typeof e.code, what).toBe('string');
    expect(typeof e.message, what).toBe('string');
  }
}

describe('security: parser rejections, stats and metrics tokens, every answer well formed', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it("Node's parser rejections are JSON: 431 HEADERS_TOO_LARGE, 400 BAD_REQUEST, nosniff; the server answers afterwards", async () => {
    stack = await startFaultStack({ origin: { files } });
    const host = new URL(stack.serverUrl).host;
    const cases: Array<[string, string, number, string]> = [
      [
        'header block over 16 KiB',
        `GET /api/tiles/ds/0/0/0.jpg HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        431,
        'HEADERS_TOO_LARGE',
      ],
      [
        'many headers',
        `GET / HTTP/1.1\r\nHost: ${host}\r\n${Array.from({ length: 3000 }, (_, i) => `X-${i}: v`).join('\r\n')}\r\n\r\n`,
        431,
        'HEADERS_TOO_LARGE',
      ],
      ['garbage request line', 'GARBAGE\r\n\r\n', 400, 'BAD_REQUEST'],
      [
        'NUL in the target',
        `GET /api/tiles/ds/0/0/0.jpg\0 HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
        400,
        'BAD_REQUEST',
      ],
      ['control char in the target', `GET /a\x01b HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400, 'BAD_REQUEST'],
      ['bad header name', `GET / HTTP/1.1\r\nHost: ${host}\r\nBad Header: x\r\n\r\n`, 400, 'BAD_REQUEST'],
      [
        'bad Content-Length',
        `POST /api/tiles/ds/batch HTTP/1.1\r\nHost: ${host}\r\nContent-Length: x\r\n\r\n`,
        400,
        'BAD_REQUEST',
      ],
      ['bad HTTP version', `GET / HTTP/9.9\r\nHost: ${host}\r\n\r\n`, 400, 'BAD_REQUEST'],
    ];
    for (const [what, bytes, status, code] of cases) {
      const r = parse(await rawBytes(stack.serverUrl, bytes));
      expect([what, r.status], what).toEqual([what, status]);
      wellFormed(r, what);
      expect(JSON.parse(r.body.toString()).error.code, what).toBe(code);
      expect(r.headers['connection'], what).toBe('close');
      expect(Number(r.headers['content-length']), what).toBe(r.body.length);
    }
    expect(stack.origin.count()).toBe(0);
    const ok = await get(`${stack.serverUrl}/api/tiles/ds/0/0/0.jpg`);
    expect(ok.bytes.toString()).toBe('tile-ds-000');
  });

  it('cache-stats needs API_TOKEN when it is set (401 / 403 / 200), GET and HEAD; open without one', async () => {
    stack = await startFaultStack({ origin: { files }, config: { apiToken: API, ownerToken: OWNER } });
    const url = '/api/tiles/ds/cache-stats';
    for (const method of ['GET', 'HEAD']) {
      const none = await rawRequest(stack.serverUrl, url, { method });
      expect(none.status, method).toBe(401);
      for (const auth of [`Bearer ${API}x`, `Bearer ${OWNER}`, `Bearer ${METRICS}`]) {
        const wrong = await rawRequest(stack.serverUrl, url, { method, headers: { Authorization: auth } });
        expect(wrong.status, `${method} ${auth}`).toBe(403);
      }
      const q = await rawRequest(stack.serverUrl, `${url}?token=${API}`, { method });
      expect(q.status, method).toBe(401);
      const ok = await rawRequest(stack.serverUrl, url, {
        method,
        headers: { Authorization: `Bearer ${API}` },
      });
      expect(ok.status, method).toBe(200);
      if (method === 'GET') {
        wellFormed(none, 'stats 401');
        expect(JSON.parse(ok.body.toString()).dataset_id).toBe('ds');
        expect(none.body.toString()).not.toMatch(/cache_hits|origin/);
      }
    }
    await stack.close();
    stack = await startFaultStack({ origin: { files } });
    expect((await rawRequest(stack.serverUrl, url)).status).toBe(200);
  });

  it('/metrics needs METRICS_TOKEN when set (not the read or owner token); open for local use when unset', async () => {
    stack = await startFaultStack({
      origin: { files },
      config: { metricsToken: METRICS, apiToken: API, ownerToken: OWNER },
    });
    const none = await rawRequest(stack.serverUrl, '/metrics');
    expect(none.status).toBe(401);
    wellFormed(none, 'metrics 401');
    expect(none.body.toString()).not.toMatch(/tile_|origin_/);
    for (const token of [API, OWNER, `${METRICS}x`, METRICS.slice(0, -1)]) {
      const r = await rawRequest(stack.serverUrl, '/metrics', {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(r.status, token).toBe(403);
    }
    const ok = await rawRequest(stack.serverUrl, '/metrics', {
      headers: { Authorization: `Bearer ${METRICS}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toMatch(/^tile_http_requests_total \d+$/m);
    // The metrics token opens nothing else.
    const tile = await rawRequest(stack.serverUrl, '/api/tiles/ds/0/0/0.jpg', {
      headers: { Authorization: `Bearer ${METRICS}` },
    });
    expect(tile.status).toBe(403);
    await stack.close();
    stack = await startFaultStack({ origin: { files } });
    expect((await rawRequest(stack.serverUrl, '/metrics')).status).toBe(200);
  });

  it('every answer, on every route and error path, has Content-Type, nosniff, a coded JSON error and no stack', async () => {
    stack = await startFaultStack({
      origin: { files },
      config: { ownerToken: OWNER, metricsToken: METRICS, batchMaxBytes: 4000, maxBodyBytes: 1024 },
      deps: {
        toDDS: async () => {
          throw new Error('codec exploded at /work/main/server/dds/secret.ts:1');
        },
      },
    });
    const tile = await rawRequest(stack.serverUrl, '/api/tiles/ds/0/0/0.jpg');
    type Case = [what: string, target: string, status: number, opts?: Parameters<typeof rawRequest>[2]];
    const cases: Case[] = [
      ['tile 200', '/api/tiles/ds/0/0/0.jpg', 200],
      ['tile 304', '/api/tiles/ds/0/0/0.jpg', 304, { headers: { 'If-None-Match': tile.headers['etag']! } }],
      ['tile 404', '/api/tiles/ds/5/1/1.jpg', 404],
      ['tile 400 bad key', '/api/tiles/ds/x/y/z.jpg', 400],
      ['tile 400 bad dataset', '/api/tiles/%2e%2e/0/0/0.jpg', 400],
      ['tile 405', '/api/tiles/ds/0/0/0.jpg', 405, { method: 'DELETE' }],
      ['dds 500 (codec failure)', '/api/tiles/ds/0/0/0.dds', 500],
      ['batch JSON 200', '/api/tiles/ds/batch?tiles=0/0/0.jpg', 200],
      ['batch JSON over bytes', '/api/tiles/ds/batch?tiles=3/0/0.jpg&tiles=3/1/0.jpg', 200],
      [
        'batch binary 200',
        '/api/tiles/ds/batch?tiles=0/0/0.jpg',
        200,
        { headers: { Accept: BATCH_MEDIA_TYPE } },
      ],
      ['batch 400 too many', `/api/tiles/ds/batch?${'tiles=0/0/0.jpg&'.repeat(101)}`, 400],
      ['batch 405', '/api/tiles/ds/batch', 405, { method: 'PUT' }],
      [
        'batch 413 body',
        '/api/tiles/ds/batch',
        413,
        { method: 'POST', body: `{"tiles":["${'a'.repeat(2000)}"]}` },
      ],
      ['batch 400 body', '/api/tiles/ds/batch', 400, { method: 'POST', body: '{nope' }],
      ['414 query', `/api/tiles/ds/batch?${'a'.repeat(10_000)}`, 414],
      ['414 path', `/api/tiles/${'a'.repeat(3000)}`, 414],
      ['stats 200', '/api/tiles/ds/cache-stats', 200],
      ['stats 405', '/api/tiles/ds/cache-stats', 405, { method: 'POST' }],
      ['clear 401', '/api/tiles/ds/cache-clear', 401, { method: 'POST' }],
      [
        'clear 403',
        '/api/tiles/ds/cache-clear',
        403,
        { method: 'POST', headers: { Authorization: 'Bearer no' } },
      ],
      ['clear 405', '/api/tiles/ds/cache-clear', 405],
      ['video 206', '/api/video/clip.mp4', 206, { headers: { Range: 'bytes=2-5' } }],
      ['video 416', '/api/video/clip.mp4', 416, { headers: { Range: 'bytes=999-' } }],
      ['video 404', '/api/video/none.mp4', 404],
      ['video 400', '/api/video/..%2fsecret', 400],
      ['api 404', '/api/nothing', 404],
      ['health 200', '/healthz', 200],
      ['health 405', '/healthz', 405, { method: 'POST' }],
      ['metrics 401', '/metrics', 401],
      ['metrics 403', '/metrics', 403, { headers: { Authorization: 'Bearer no' } }],
      ['metrics 200', '/metrics', 200, { headers: { Authorization: `Bearer ${METRICS}` } }],
      ['metrics 405', '/metrics', 405, { method: 'HEAD' }],
      ['static 404', '/nope.html', 404],
      ['static 405', '/index.html', 405, { method: 'POST' }],
    ];
    const seen: Record<string, number> = {};
    const want: Record<string, number> = {};
    for (const [what, target, status, opts] of cases) {
      const r = await rawRequest(stack.serverUrl, target, opts);
      seen[what] = r.status;
      want[what] = status;
      if (r.status === 304) {
        // RFC 9110 §15.4.5: a 304 has no body and SHOULD NOT carry representation metadata
        // beyond what updates caches, so no Content-Type; nosniff is still there.
        expect(r.headers['x-content-type-options'], what).toBe('nosniff');
        expect(r.body.length, what).toBe(0);
        continue;
      }
      if (opts?.method === 'HEAD') {
        // A HEAD says what a GET would: its Content-Type, no body.
        expect(r.headers['x-content-type-options'], what).toBe('nosniff');
        expect(r.headers['content-type'], what).toBeTruthy();
        expect(r.body.length, what).toBe(0);
        continue;
      }
      wellFormed(r, what);
    }
    expect(seen).toEqual(want);
  });
});
