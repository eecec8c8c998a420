// A loopback server for the codec benches' browser pages: fixed files (the page, its
// bundles, both wasm builds), cross-origin isolated so performance.now() has 5 µs
// resolution instead of 100 µs.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type PageFiles = Record<string, [contentType: string, body: Uint8Array | string]>;

/** Serves `files` plus `/build/codecs-{simd,scalar}.wasm` from the repo on a free port. */
export async function servePage(root: string, files: PageFiles): Promise<{ server: Server; url: string }> {
  const all: PageFiles = {
    ...files,
    '/build/codecs-simd.wasm': [
      'application/wasm',
      await readFile(`${root}/src/wasm/build/codecs-simd.wasm`),
    ],
    '/build/codecs-scalar.wasm': [
      'application/wasm',
      await readFile(`${root}/src/wasm/build/codecs-scalar.wasm`),
    ],
  };
  const server = createServer((req, res) => {
    const f = all[req.url ?? ''];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, {
        'content-type': f[0],
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      })
      .end(f[1]);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}
