// An existing node:http app that mounts the companion's handler under /api/
// (and the standalone worker at /tile-sw.js), from the installed package.
import { createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createTileServer, loadConfig } from 'tile-accelerator/server';

const tiles = createTileServer(loadConfig({ TILES_DIR: process.env.TILES_DIR, LOG_LEVEL: 'warn' }));
const swFile = fileURLToPath(import.meta.resolve('tile-accelerator/tile-sw.js'));

const app = createServer((req, res) => {
  if (req.url?.startsWith('/api/')) return tiles.handler(req, res);
  if (req.url === '/tile-sw.js') {
    res.writeHead(200, { 'Content-Type': 'text/javascript', 'Service-Worker-Allowed': '/' });
    return createReadStream(swFile).pipe(res);
  }
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('the app');
});
app.listen(0, '127.0.0.1', () => console.log(`app listening on http://127.0.0.1:${app.address().port}`));
process.on('SIGTERM', () => tiles.close().then(() => app.close(() => process.exit(0))));
