import type { IncomingMessage, ServerResponse } from 'node:http';

const ALLOW_HEADERS = 'Authorization, Content-Type, Accept, Range, If-None-Match, If-Range';
const EXPOSE_HEADERS =
  'ETag, Content-Range, Accept-Ranges, Content-Length, X-Tile-Source, X-Tile-Generation, Retry-After';

/**
 * Adds CORS headers only for configured origins (CORS_ORIGINS). Returns true
 * when the request was a preflight and has been answered.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return false;
  const any = allowed.includes('*');
  // On every answer, not only the allowed ones: a shared cache (CDN) that stored the
  // answer to an <img> without Origin must not hand it to a listed origin's fetch.
  if (!any) res.setHeader('Vary', 'Origin');
  const origin = req.headers.origin;
  if (origin === undefined || (!any && !allowed.includes(origin))) return false;
  res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
  res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS);
  if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
    res.writeHead(204, {
      'Access-Control-Allow-Methods': 'GET, HEAD, POST, OPTIONS',
      'Access-Control-Allow-Headers': ALLOW_HEADERS,
      'Access-Control-Max-Age': '600',
      'Content-Type': 'text/plain',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end();
    return true;
  }
  return false;
}
