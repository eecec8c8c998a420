// HTTP clients for the server benchmarks, on undici pools so the connection
// count is explicit (6 per host is what a browser uses over HTTP/1.1).

import type { Pool } from 'undici';
import { BATCH_MEDIA_TYPE, BatchFrameDecoder } from '../../src/protocol/batchFraming.js';

export async function getBody(
  pool: Pool,
  path: string,
  headers: Record<string, string> = {},
): Promise<Buffer> {
  const res = await pool.request({ path, method: 'GET', headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200)
    throw new Error(`GET ${path}: ${res.statusCode} ${body.toString().slice(0, 200)}`);
  return body;
}

/** Fetches every key through the single-tile route with `pool`'s connections in parallel; returns body bytes. */
export async function fetchSingles(
  pool: Pool,
  dataset: string,
  keys: string[],
  parallel: number,
): Promise<number> {
  let next = 0;
  let bytes = 0;
  const lane = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      const body = await getBody(pool, `/api/tiles/${dataset}/${key}`);
      bytes += body.length; // after the await: `bytes += await ...` would drop the other lanes' bytes
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return bytes;
}

/** One binary streamed batch; returns the tile body bytes and the number of tile frames. */
export async function fetchBinaryBatch(
  pool: Pool,
  dataset: string,
  keys: string[],
): Promise<{ bytes: number; tiles: number }> {
  const q = keys.map((k) => `tiles=${encodeURIComponent(k)}`).join('&');
  const res = await pool.request({
    path: `/api/tiles/${dataset}/batch?${q}`,
    method: 'GET',
    headers: { accept: BATCH_MEDIA_TYPE },
  });
  if (res.statusCode !== 200) throw new Error(`batch: ${res.statusCode} ${await res.body.text()}`);
  const dec = new BatchFrameDecoder();
  let bytes = 0;
  let tiles = 0;
  for await (const chunk of res.body) {
    for (const f of dec.push(new Uint8Array(chunk as Buffer))) {
      if (f.kind === 'tile') {
        tiles++;
        bytes += f.body.length;
      } else if (f.kind === 'error') throw new Error(`batch frame error ${f.error.code}`);
    }
  }
  dec.finish();
  return { bytes, tiles };
}

/** One seeds' JSON batch (base64); returns the number of tiles present. */
export async function fetchJsonBatch(pool: Pool, dataset: string, keys: string[]): Promise<number> {
  const q = keys.map((k) => `tiles=${encodeURIComponent(k)}`).join('&');
  const body = await getBody(pool, `/api/tiles/${dataset}/batch?${q}`);
  const json = JSON.parse(body.toString()) as { tiles: Record<string, string | null> };
  return Object.values(json.tiles).filter((v) => v !== null).length;
}
