// What a session cost below the browser, per dataset name (each session has its
// own): the tile GETs the mocked origin saw (its counts path; the origin runs in
// another process), and the bytes the companion server sent for the dataset's
// tile requests (single tiles and batches), counted on its response streams.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** The origin's path answering per-key counts (e2e/mockOrigin `countsPath`). */
export const COUNTS_PATH = '/_mock/counts';

export interface OriginCounts {
  /** Tile GETs (`z/x/y.ext` keys) for the dataset. */
  gets: number;
  /** The keys asked for, `z/x/y.jpg`, with how often. */
  keys: Map<string, number>;
}

/** The dataset's tile requests at the origin so far. */
export async function originCounts(
  originUrl: string,
  dataset: string,
  signal?: AbortSignal,
): Promise<OriginCounts> {
  const res = await fetch(`${originUrl}${COUNTS_PATH}?prefix=${encodeURIComponent(`${dataset}/`)}`, {
    signal: signal ?? AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`mock origin counts: HTTP ${res.status}`);
  const body = (await res.json()) as { keys: Record<string, number> };
  const keys = new Map<string, number>();
  let gets = 0;
  for (const [k, n] of Object.entries(body.keys)) {
    const key = k.slice(dataset.length + 1);
    if (!/^\d+\/\d+\/\d+\.\w+$/.test(key)) continue;
    keys.set(key, n);
    gets += n;
  }
  return { gets, keys };
}

export interface ServerMeter {
  /** Response body bytes and requests for `/api/tiles/<dataset>/...` so far. */
  of(dataset: string): { bytes: number; requests: number };
  stop(): void;
}

/** Counts body bytes written for each dataset's tile requests on `server`. */
export function meterServer(server: Server): ServerMeter {
  const bytes = new Map<string, number>();
  const requests = new Map<string, number>();
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const m = /^\/api\/tiles\/([^/?]+)\//.exec(req.url ?? '');
    if (!m) return;
    const ds = m[1] as string;
    requests.set(ds, (requests.get(ds) ?? 0) + 1);
    const add = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      const n =
        typeof chunk === 'string'
          ? Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
          : (chunk as Uint8Array).byteLength;
      bytes.set(ds, (bytes.get(ds) ?? 0) + n);
    };
    const write = res.write;
    const end = res.end;
    res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      add(chunk, rest[0]);
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as ServerResponse['write'];
    res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      add(chunk, rest[0]);
      return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    } as ServerResponse['end'];
  };
  // Before the app's own listener: the wrap must be in place before any write.
  server.prependListener('request', onRequest);
  return {
    of: (ds) => ({ bytes: bytes.get(ds) ?? 0, requests: requests.get(ds) ?? 0 }),
    stop: () => server.off('request', onRequest),
  };
}
