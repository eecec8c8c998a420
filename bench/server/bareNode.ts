// Node's ceiling for the cache-hit benchmark: a bare node:http handler that
// answers every request with the same buffer and the headers a tile has.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const body = readFileSync(process.argv[2]!);
const server = createServer((_req, res) => {
  res.writeHead(200, {
    'Content-Type': 'image/jpeg',
    'Content-Length': body.length,
    ETag: '"bench"',
    'Cache-Control': 'public, max-age=86400',
  });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  console.log(`http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
