// The pool worker's JSON batch fetch against answers a real server would
// rarely give on demand. msw stands in for the network: what is tested is how
// each answer becomes a reply, not the socket.
import { delay, HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeJsonBatchBody } from './jsonBatchBody.js';
import { createCodecWorkerApi } from './workerApi.js';

const BASE = 'http://tiles.test';
const URL_ = `${BASE}/api/tiles/ds/batch?tiles=1/0/0.jpg`;
const net = setupServer();
const b64 = (ascii: Uint8Array) =>
  new Uint8Array(Buffer.from(Buffer.from(ascii).toString('latin1'), 'base64'));
const api = createCodecWorkerApi({
  codecs: () => Promise.reject(new Error('unused')),
  jsonBatch: async () => (b) => decodeJsonBatchBody(b, b64),
});

beforeAll(() => net.listen({ onUnhandledRequest: 'error' }));
afterEach(() => net.resetHandlers());
afterAll(() => net.close());

const reply = (timeoutMs = 5_000) => api.fetchJsonBatch({ url: URL_, timeoutMs });

describe('pool worker: JSON batch answers become coded replies', () => {
  it('a good answer: bytes, cache_stats, and the Accept header the route needs', async () => {
    let accept: string | null = null;
    net.use(
      http.get(`${BASE}/api/tiles/ds/batch`, ({ request }) => {
        accept = request.headers.get('accept');
        return HttpResponse.json({
          tiles: { '1/0/0.jpg': Buffer.from('tile bytes').toString('base64') },
          cache_stats: { hits: 1 },
        });
      }),
    );
    const r = await reply();
    expect(accept).toBe('application/json');
    if (!r.ok) throw new Error(r.code);
    expect(Buffer.from(r.value.tiles['1/0/0.jpg']!).toString()).toBe('tile bytes');
    expect(r.value.cacheStats).toEqual({ hits: 1 });
  });

  it.each([
    [404, 'NOT_FOUND'],
    [400, 'ORIGIN_ERROR'],
    [503, 'ORIGIN_ERROR'],
  ])('HTTP %i is %s with the status in the details', async (status, code) => {
    net.use(http.get(`${BASE}/api/tiles/ds/batch`, () => HttpResponse.json({ error: {} }, { status })));
    expect(await reply()).toMatchObject({ ok: false, code, details: { status } });
  });

  it('a network error is ORIGIN_UNAVAILABLE', async () => {
    net.use(http.get(`${BASE}/api/tiles/ds/batch`, () => HttpResponse.error()));
    expect(await reply()).toMatchObject({ ok: false, code: 'ORIGIN_UNAVAILABLE' });
  });

  it('an answer slower than the deadline is DEADLINE_EXCEEDED', async () => {
    net.use(
      http.get(`${BASE}/api/tiles/ds/batch`, async () => {
        await delay('infinite');
        return HttpResponse.json({});
      }),
    );
    expect(await reply(100)).toMatchObject({ ok: false, code: 'DEADLINE_EXCEEDED' });
  });

  it('a body that is not the batch shape is BAD_FRAME', async () => {
    net.use(http.get(`${BASE}/api/tiles/ds/batch`, () => HttpResponse.text('<html>proxy error</html>')));
    expect(await reply()).toMatchObject({ ok: false, code: 'BAD_FRAME' });
    net.use(http.get(`${BASE}/api/tiles/ds/batch`, () => HttpResponse.json({ tiles: { a: 42 } })));
    expect(await reply()).toMatchObject({ ok: false, code: 'BAD_FRAME' });
  });
});
