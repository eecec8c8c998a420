import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
};

export interface PageServer {
  /** `http://127.0.0.1:<port>`: the page's origin, other than the companion's. */
  url: string;
  /** Paths (with query) this server was asked for. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * A tiny static server for the page side of a cross-origin setup: the page,
 * /tile-accelerator.js and /tile-sw.js come from here, the tiles from the
 * companion on another port. `root()` is read per request, so the server can
 * start (and give its origin to CORS_ORIGINS) before the directory exists.
 */
export async function startPageServer(root: () => string): Promise<PageServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const rel = path.posix.normalize(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.join(root(), rel);
    readFile(file).then(
      (body) => {
        res.writeHead(200, {
          'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
          'Content-Length': body.byteLength,
          'Cache-Control': 'no-cache',
        });
        res.end(body);
      },
      () => {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found');
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => {
      closed ??= new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      });
      return closed;
    },
  };
}
