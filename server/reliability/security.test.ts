import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../e2e/harness/startStack.js';
import { MAX_BATCH_TILES } from '../../src/protocol/tileKey.js';
import { get, startFaultStack } from '../../test/support/server/faultKit.js';
import { type RawResponse, rawRequest } from '../../test/support/server/rawHttp.js';

const SECRET = 'TOP-SECRET-DO-NOT-SERVE';
const OWNER = 'owner-token-0123456789';
const files = {
  'ds/0/0/0.jpg': 'tile-ds-000',
  'ds/1/1/1.jpg': 'tile-ds-111',
  'other/0/0/0.jpg': 'tile-other-000',
  'secret.txt': SECRET,
  'ds/secret.txt': SECRET,
  'videos/clip.mp4': 'video-bytes-0123456789',
  'videos/../secret.txt': SECRET,
};
/** Keys the origin may legitimately be asked for by these tests. */
const LEGIT_KEY = /^(ds|other)\/\d+\/\d+\/\d+\.(jpg|png|webp)$|^videos\/clip\.mp4$/;

/** Every response, errors included, says what it is and forbids sniffing; never a stack or a secret. */
function wellFormed(r: RawResponse, what: string): void {
  expect(r.headers['x-content-type-options'], `${what}: nosniff`).toBe('nosniff');
  if (r.body.length > 0) expect(r.headers['content-type'], `${what}: content-type`).toBeTruthy();
  const text = r.body.toString('latin1');
  expect(text, what).not.toContain(SECRET);
  expect(text, what).not.toMatch(/\n\s+at |node:internal|\/work\//);
  if (r.status >= 400 && r.headers['content-type']?.startsWith('application/json')) {
    const body = JSON.parse(text) as { error: { code: string; message: string } };
    expect(typeof body.error.code, what).toBe('string');
  }
}

describe('security: hostile input never leaves its box', () => {
  let stack: Stack;
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'tile-sec-'));
    await mkdir(path.join(root, 'public'));
    await writeFile(path.join(root, 'public', 'index.html'), '<!doctype html><title>ok</title>');
    await writeFile(path.join(root, 'secret.txt'), SECRET);
    stack = await startFaultStack({
      origin: { files },
      config: { staticDir: path.join(root, 'public'), ownerToken: OWNER },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await rm(root, { recursive: true, force: true });
  });

  const traversal = [
    '/api/tiles/../secret.txt',
    '/api/tiles/ds/../secret.txt',
    '/api/tiles/ds/../../secret.txt',
    '/api/tiles/%2e%2e/0/0/0.jpg',
    '/api/tiles/ds/%2e%2e%2fsecret.txt',
    '/api/tiles/%252e%252e/0/0/0.jpg',
    '/api/tiles/ds/0/0/..%2f..%2fsecret.txt',
    '/api/tiles/ds\\..\\secret.txt',
    '/api/tiles/ds/0\\0\\0.jpg',
    '/api/tiles/ds%00/0/0/0.jpg',
    '/api/tiles/ds/0/0/0.jpg%00.png',
    '/api/tiles/ds/0/0/0.jpg/../../../secret.txt',
    '/api/tiles/%E2%80%A4%E2%80%A4/0/0/0.jpg',
    '/api/tiles/%EF%BC%8E%EF%BC%8E/0/0/0.jpg',
    '/api/tiles/ds/0/0/0.txt',
    '/api/tiles/ds/0/0/0.JPG',
    '/api/tiles/ds/-1/0/0.jpg',
    '/api/tiles/ds/1/2/0.jpg',
    '/api/tiles/ds/31/0/0.jpg',
    '/api/tiles/ds/01/0/0.jpg',
    '/api/tiles/ds/0/0/0.jpg.jpg',
    '/api/tiles/ds/0/0/0',
    '/api/tiles/ds',
    '/api/tiles/',
    '/api/tiles/ds/batch?tiles=../../secret.txt',
    '/api/tiles/ds/batch?tiles=0/0/0.jpg%00',
    '/api/tiles/ds/batch?tiles=0%2f0%2f0.jpg%2f..%2f..%2fsecret.txt',
    '/api/tiles/../batch?tiles=0/0/0.jpg',
    '/api/tiles/%2e%2e/batch?tiles=0/0/0.jpg',
    '/api/tiles/ds/batch',
    '/api/tiles/..%2fsecret/cache-stats',
    '/api/video/../secret.txt',
    '/api/video/..%2fsecret.txt',
    '/api/video/%2e%2e%2fsecret.txt',
    '/api/video/clip.mp4%00',
    '/api/video/.hidden',
    '/api/video/a..b',
    '/api/video/videos%5c..%5csecret.txt',
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/..%5csecret.txt',
    '/public/../../secret.txt',
    '/%252e%252e/secret.txt',
  ];

  it.each(traversal)(
    'GET %s is a 4xx with a coded JSON error, and the origin sees no stray key',
    async (target) => {
      const r = await rawRequest(stack.serverUrl, target);
      expect(r.status, target).toBeGreaterThanOrEqual(400);
      expect(r.status, target).toBeLessThan(500);
      wellFormed(r, target);
      for (const q of stack.origin.requests) expect(q.key, `origin asked for ${q.key}`).toMatch(LEGIT_KEY);
    },
  );

  it('a raw NUL or a control character in the request line is refused without reaching a route', async () => {
    for (const target of ['/api/tiles/ds/0/0/0.jpg\0', '/api/video/clip\x01.mp4']) {
      const r = await rawRequest(stack.serverUrl, target);
      expect(r.status).toBe(400);
    }
    for (const q of stack.origin.requests) expect(q.key).toMatch(LEGIT_KEY);
  });

  it.each([
    ['{"tiles":["../../secret.txt"]}'],
    ['{"tiles":["0/0/0.jpg\\u0000"]}'],
    ['{"tiles":[{"$gt":""}]}'],
    ['{"tiles":"0/0/0.jpg"}'],
    ['{"tiles":[null]}'],
    ['{"__proto__":{"tiles":["0/0/0.jpg"]}}'],
    ['not json'],
    [''],
  ])('POST batch body %s is a 400', async (body) => {
    const r = await rawRequest(stack.serverUrl, '/api/tiles/ds/batch', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
    });
    expect(r.status).toBe(400);
    wellFormed(r, body);
  });

  it('refuses an oversized query (414), body (413) and header block (431) and stays up', async () => {
    const q = await rawRequest(stack.serverUrl, `/api/tiles/ds/batch?${'tiles=0/0/0.jpg&'.repeat(1000)}`);
    expect([q.status, JSON.parse(q.body.toString()).error.code]).toEqual([414, 'QUERY_TOO_LARGE']);
    wellFormed(q, 'query');
    const b = await rawRequest(stack.serverUrl, '/api/tiles/ds/batch', {
      method: 'POST',
      body: JSON.stringify({ tiles: Array.from({ length: 20_000 }, () => '0/0/0.jpg') }),
    });
    expect([b.status, JSON.parse(b.body.toString()).error.code]).toEqual([413, 'BODY_TOO_LARGE']);
    wellFormed(b, 'body');
    const h = await rawRequest(stack.serverUrl, '/api/tiles/ds/0/0/0.jpg', {
      headers: { 'X-Big': 'a'.repeat(64 * 1024) },
    });
    expect([h.status, JSON.parse(h.body.toString()).error.code]).toEqual([431, 'HEADERS_TOO_LARGE']);
    wellFormed(h, 'headers');
    const ok = await get(`${stack.serverUrl}/api/tiles/ds/0/0/0.jpg`);
    expect(ok.bytes.toString()).toBe('tile-ds-000');
  });

  it('a batch over the tile limit is a 400 TOO_MANY_TILES that names the limit, nothing fetched', async () => {
    const before = stack.origin.count();
    const keys = Array.from({ length: MAX_BATCH_TILES + 1 }, (_, i) => `7/${i}/0.jpg`);
    const r = await rawRequest(stack.serverUrl, '/api/tiles/ds/batch', {
      method: 'POST',
      body: JSON.stringify({ tiles: keys }),
    });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body.toString()).error).toMatchObject({
      code: 'TOO_MANY_TILES',
      limit: MAX_BATCH_TILES,
    });
    expect(stack.origin.count()).toBe(before);
  });

  it('cache-clear needs the owner token: 401 without, 403 wrong, 200 right; never from a query string', async () => {
    const url = '/api/tiles/ds/cache-clear';
    const none = await rawRequest(stack.serverUrl, url, { method: 'POST' });
    expect(none.status).toBe(401);
    wellFormed(none, 'no token');
    for (const auth of [
      `Bearer ${OWNER}x`,
      `Bearer ${OWNER.slice(0, -1)}`,
      'Bearer ',
      `Basic ${OWNER}`,
      OWNER,
    ]) {
      const r = await rawRequest(stack.serverUrl, url, { method: 'POST', headers: { Authorization: auth } });
      expect([401, 403], auth).toContain(r.status);
    }
    const q = await rawRequest(stack.serverUrl, `${url}?token=${OWNER}`, { method: 'POST' });
    expect(q.status).toBe(401);
    const get405 = await rawRequest(stack.serverUrl, url, { headers: { Authorization: `Bearer ${OWNER}` } });
    expect(get405.status).toBe(405);
    const ok = await rawRequest(stack.serverUrl, url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${OWNER}` },
    });
    expect(ok.status).toBe(200);
    wellFormed(ok, 'clear');
  });

  it('never mixes datasets: the same z/x/y in two datasets keeps its own bytes, hit or miss, single or batch', async () => {
    for (let i = 0; i < 2; i++) {
      expect((await get(`${stack.serverUrl}/api/tiles/ds/0/0/0.jpg`)).bytes.toString()).toBe('tile-ds-000');
      expect((await get(`${stack.serverUrl}/api/tiles/other/0/0/0.jpg`)).bytes.toString()).toBe(
        'tile-other-000',
      );
      const b = await get(`${stack.serverUrl}/api/tiles/other/batch?tiles=0/0/0.jpg&tiles=1/1/1.jpg`);
      const tiles = (JSON.parse(b.bytes.toString()) as { tiles: Record<string, string | null> }).tiles;
      expect(Buffer.from(tiles['0/0/0.jpg']!, 'base64').toString()).toBe('tile-other-000');
      expect(tiles['1/1/1.jpg']).toBeNull(); // exists only in ds
    }
  });
});
