// An existing node:http app that mounts the companion's handler under /api/
// (and the standalone worker at /tile-sw.js), from the installed package.
import { createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createTileServer, loadConfig } from 'tile-accelerator/server';
import { base64Decode, encodeBC1, initCodecs } from 'tile-accelerator/wasm';

const tiles = createTileServer(loadConfig({ TILES_DIR: process.env.TILES_DIR, LOG_LEVEL: 'warn' }));
const swFile = fileURLToPath(import.meta.resolve('tile-accelerator/tile-sw.js'));

const app = createServer((req, res) => {
  if (req.url?.startsWith('/api/')) return tiles.handler(req, res);
  if (req.url === '/tile-sw.js') {
    res.writeHead(200, { 'Content-Type': 'text/javascript', 'Service-Worker-Allowed': '/' });
    return createReadStream(swFile).pipe(res);
  }
  if (req.url === '/codec') {
    // The shipped .wasm, read from node_modules: BC1 of a white 4x4 block, and base64.
    return initCodecs().then((m) => {
      const bc1 = encodeBC1(new Uint8Array(64).fill(255), 4, 4);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ flavour: m.flavour, bc1: [...bc1], b64: [...base64Decode('AQID')] }));
    });
  }
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('the app');
});
app.listen(0, '127.0.0.1', () => console.log(`app listening on http://127.0.0.1:${app.address().port}`));
process.on('SIGTERM', () => tiles.close().then(() => app.close(() => process.exit(0))));
