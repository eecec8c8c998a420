import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import express from 'express';
import Fastify from 'fastify';
import { createTileServer, loadConfig, type TileServer } from '../../server/index.js';
import { ensureSampleDataset } from '../../server/tiler/sampleDataset.js';
import { type MockOrigin, startMockOrigin } from '../mockOrigin/MockOrigin.js';
import { ROOT } from './sampleStack.js';

// The `./server` export mounted in the two usual frameworks exactly as
// docs/integrations.md shows, each next to the app's own routes and body parser.

let origin: MockOrigin | undefined;
let tiles: TileServer | undefined;
const closers: Array<() => Promise<void>> = [];

test.beforeEach(async () => {
  const dataDir = path.join(ROOT, 'data');
  await ensureSampleDataset(dataDir, { log: () => {} });
  origin = await startMockOrigin({ root: dataDir });
  tiles = createTileServer({ ...loadConfig({ LOG_LEVEL: 'silent' }), r2PublicUrl: origin.url });
});

test.afterEach(async () => {
  for (const c of closers.splice(0)) await c().catch(() => {});
  await tiles?.close();
  await origin?.close();
});

/** The checks shared by both frameworks: a tile, a POSTed binary batch, the app's own JSON route. */
async function exercise(base: string, o: MockOrigin): Promise<void> {
  const tile = await fetch(`${base}/api/tiles/sample/2/1/1.jpg`);
  expect(tile.status).toBe(200);
  expect(tile.headers.get('x-tile-source')).toBe('origin');
  expect((await tile.arrayBuffer()).byteLength).toBeGreaterThan(1000);
  const again = await fetch(`${base}/api/tiles/sample/2/1/1.jpg`);
  expect(again.headers.get('x-tile-source')).toBe('memory-cache');
  await again.arrayBuffer();
  expect(o.count('sample/2/1/1.jpg')).toBe(1);

  const batch = await fetch(`${base}/api/tiles/sample/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tiles: ['0/0/0.jpg', '1/0/0.jpg', '9/0/0.jpg'] }),
    signal: AbortSignal.timeout(10_000),
  });
  expect(batch.status).toBe(200);
  const body = (await batch.json()) as { tiles: Record<string, string | null> };
  expect(body.tiles['0/0/0.jpg']?.length).toBeGreaterThan(1000);
  expect(body.tiles['1/0/0.jpg']?.length).toBeGreaterThan(1000);
  expect(body.tiles['9/0/0.jpg']).toBeNull();

  const missing = await fetch(`${base}/api/tiles/sample/5/0/31.jpg`);
  expect(missing.status).toBe(404);
  await missing.arrayBuffer();

  const own = await fetch(`${base}/app/echo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hello: 'app' }),
  });
  expect(await own.json()).toEqual({ echo: { hello: 'app' } });
}

test('Express: the handler mounted before the app body parser serves tiles and batches', async () => {
  const app = express();
  app.use((req, res, next) =>
    req.path.startsWith('/api/tiles/') || req.path.startsWith('/api/video/')
      ? tiles!.handler(req, res)
      : next(),
  );
  app.use(express.json());
  app.post('/app/echo', (req, res) => {
    res.json({ echo: req.body });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  await exercise(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, origin!);
});

test('Fastify: a hijacked /api/* route with its own content-type parser serves tiles and batches', async () => {
  const app = Fastify();
  closers.push(() => app.close());
  await app.register(async (scope) => {
    // Leave the request body to our handler (the batch POST reads its own stream).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null));
    scope.route({
      method: ['GET', 'HEAD', 'POST'],
      url: '/api/*',
      handler: (req, reply) => {
        reply.hijack();
        tiles!.handler(req.raw, reply.raw);
      },
    });
  });
  app.post('/app/echo', async (req) => ({ echo: req.body }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  await exercise(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, origin!);
});
