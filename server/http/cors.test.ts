import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { TILE_GENERATION_HEADER } from '../../src/protocol/swMessages.js';
import { applyCors } from './cors.js';

function exchange(headers: Record<string, string>, method = 'GET') {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.headers = headers;
  const res = new ServerResponse(req);
  return { req, res };
}

describe('applyCors', () => {
  it('exposes every header a cross-origin worker reads (X-Tile-Source, X-Tile-Generation, ETag, ranges)', () => {
    const { req, res } = exchange({ origin: 'https://viewer.example' });
    expect(applyCors(req, res, ['https://viewer.example'])).toBe(false);
    expect(res.getHeader('access-control-allow-origin')).toBe('https://viewer.example');
    const exposed = String(res.getHeader('access-control-expose-headers'))
      .split(',')
      .map((h) => h.trim().toLowerCase());
    for (const h of [
      'x-tile-source',
      TILE_GENERATION_HEADER.toLowerCase(),
      'etag',
      'content-range',
      'retry-after',
    ])
      expect(exposed).toContain(h);
  });

  it('adds nothing for an origin that is not listed, but still varies on Origin', () => {
    const { req, res } = exchange({ origin: 'https://evil.example' });
    expect(applyCors(req, res, ['https://viewer.example'])).toBe(false);
    expect(res.getHeader('access-control-allow-origin')).toBeUndefined();
    expect(res.getHeader('access-control-expose-headers')).toBeUndefined();
    expect(res.getHeader('vary')).toBe('Origin');
  });
});
