import { type Agent, fetch } from 'undici';
import { BATCH_MEDIA_TYPE, readBatchFrames } from '../../src/protocol/batchFraming.js';
import { allTileKeys, bytesFor, DATASET, VIDEO_BYTES, VIDEO_ID, videoBytes } from './dataset.js';

/** What the load generator saw; `wrongBytes`, `deadlineMisses` and `stalls` must stay 0. */
export interface LoadTally {
  requests: number;
  tiles: number;
  ok: number;
  statuses: Record<string, number>;
  codes: Record<string, number>;
  wrongBytes: number;
  deadlineMisses: number;
  clientAborts: number;
  stalls: number;
  maxLatencyMs: number;
  pending: number;
  lastCompletion: number;
}

export const CLIENT_DEADLINE_MS = 10_000;
const KEYS = allTileKeys();
const HOT = KEYS.slice(0, 85); // z 0..4: the "visible" tiles most viewers ask for
const VIDEO = videoBytes();

function pick(r: () => number): string {
  return r() < 0.6 ? HOT[Math.floor(r() * HOT.length)]! : KEYS[Math.floor(r() * KEYS.length)]!;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

/**
 * One worker: loops a weighted mix until `until`, each request under a client
 * deadline. Every body is checked against the bytes the origin holds.
 */
export async function loadWorker(
  base: string,
  agent: Agent,
  until: number,
  t: LoadTally,
  r: () => number,
  owner: string,
): Promise<void> {
  while (Date.now() < until) {
    const roll = r();
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error('deadline')), CLIENT_DEADLINE_MS);
    let abortEarly: NodeJS.Timeout | undefined;
    const t0 = performance.now();
    let kind = 'tile';
    t.pending++;
    t.requests++;
    try {
      if (roll < 0.5) {
        const key = pick(r);
        const res = await fetch(`${base}/api/tiles/${DATASET}/${key}`, {
          dispatcher: agent,
          signal: ac.signal,
        });
        const body = new Uint8Array(await res.arrayBuffer());
        t.tiles++;
        tallyStatus(t, res.status, body);
        if (res.status === 200 && !same(body, bytesFor(`${DATASET}/${key}`))) t.wrongBytes++;
      } else if (roll < 0.8) {
        kind = 'batch';
        const n = 8 + Math.floor(r() * 57);
        const keys = [...new Set(Array.from({ length: n }, () => pick(r)))];
        const binary = r() < 0.6;
        if (binary) kind = 'binary-batch';
        if (r() < 0.08) {
          // a viewer that pans away: the batch is abandoned mid-flight
          abortEarly = setTimeout(() => ac.abort(new Error('client left')), 5 + r() * 40);
          t.clientAborts++;
        }
        const res = await fetch(`${base}/api/tiles/${DATASET}/batch`, {
          method: 'POST',
          dispatcher: agent,
          signal: ac.signal,
          headers: {
            'Content-Type': 'application/json',
            Accept: binary ? BATCH_MEDIA_TYPE : 'application/json',
          },
          body: JSON.stringify({ tiles: keys }),
        });
        t.tiles += keys.length;
        if (binary && res.status === 200) {
          for await (const f of readBatchFrames(res.body as ReadableStream<Uint8Array>, ac.signal)) {
            if (f.kind === 'tile' && !same(f.body, bytesFor(`${DATASET}/${f.key}`))) t.wrongBytes++;
            if (f.kind === 'error') t.codes[f.error.code] = (t.codes[f.error.code] ?? 0) + 1;
          }
          tallyStatus(t, 200, new Uint8Array(0));
        } else {
          const body = new Uint8Array(await res.arrayBuffer());
          tallyStatus(t, res.status, body);
          if (res.status === 200) {
            const j = JSON.parse(Buffer.from(body).toString()) as { tiles: Record<string, string | null> };
            for (const [k, v] of Object.entries(j.tiles)) {
              if (v !== null && !same(Buffer.from(v, 'base64'), bytesFor(`${DATASET}/${k}`))) t.wrongBytes++;
            }
          }
        }
      } else if (roll < 0.95) {
        kind = 'video';
        const start = Math.floor(r() * (VIDEO_BYTES - 1));
        const end = Math.min(VIDEO_BYTES - 1, start + 64 * 1024 + Math.floor(r() * 448 * 1024));
        const res = await fetch(`${base}/api/video/${VIDEO_ID}`, {
          dispatcher: agent,
          signal: ac.signal,
          headers: { Range: `bytes=${start}-${end}` },
        });
        const body = new Uint8Array(await res.arrayBuffer());
        tallyStatus(t, res.status, body);
        if (res.status === 206 && !same(body, VIDEO.subarray(start, end + 1))) t.wrongBytes++;
      } else if (roll < 0.99) {
        // hostile or malformed input mixed in: must be a 4xx, never a crash
        const bad = ['../secret', '0/1/0.jpg', '3/0/0.exe', '%2e%2e/0/0/0.jpg'][Math.floor(r() * 4)]!;
        const res = await fetch(`${base}/api/tiles/${DATASET}/${bad}`, {
          dispatcher: agent,
          signal: ac.signal,
        });
        tallyStatus(t, res.status, new Uint8Array(await res.arrayBuffer()));
      } else {
        // cache churn from the owner
        const res = await fetch(`${base}/api/tiles/${DATASET}/cache-clear`, {
          method: 'POST',
          dispatcher: agent,
          signal: ac.signal,
          headers: { Authorization: `Bearer ${owner}` },
        });
        tallyStatus(t, res.status, new Uint8Array(await res.arrayBuffer()));
      }
    } catch (e) {
      const reason = ac.signal.reason as Error | undefined;
      if (reason?.message === 'deadline') t.deadlineMisses++;
      else if (reason?.message !== 'client left') {
        // The connection was cut: the server's only honest signal once a 200/206 head is out.
        const k = `cut:${kind}:${(e as Error).name}`;
        t.codes[k] = (t.codes[k] ?? 0) + 1;
      }
    } finally {
      clearTimeout(timer);
      clearTimeout(abortEarly);
      t.pending--;
      t.lastCompletion = Date.now();
      t.maxLatencyMs = Math.max(t.maxLatencyMs, performance.now() - t0);
    }
  }
}

function tallyStatus(t: LoadTally, status: number, body: Uint8Array): void {
  t.statuses[status] = (t.statuses[status] ?? 0) + 1;
  if (status < 400) t.ok++;
  else if (body.length > 0 && body[0] === 0x7b) {
    const code =
      (JSON.parse(Buffer.from(body).toString()) as { error?: { code?: string } }).error?.code ?? '?';
    t.codes[code] = (t.codes[code] ?? 0) + 1;
  }
}

export function newTally(): LoadTally {
  return {
    requests: 0,
    tiles: 0,
    ok: 0,
    statuses: {},
    codes: {},
    wrongBytes: 0,
    deadlineMisses: 0,
    clientAborts: 0,
    stalls: 0,
    maxLatencyMs: 0,
    pending: 0,
    lastCompletion: Date.now(),
  };
}
