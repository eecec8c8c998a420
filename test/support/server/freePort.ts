import { createServer } from 'node:net';

/**
 * A loopback port free a moment ago, for a child process that must be told
 * its port (redis-server, nginx); there is a small race until it binds, so
 * callers retry on a clash. In-process servers listen on port 0 instead.
 */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}
