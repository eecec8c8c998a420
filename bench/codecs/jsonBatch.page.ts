// Page side of the JSON batch bench (jsonBatchBench.ts). Each run starts from the response
// bytes of one 64-tile batch body (already fetched, so the network is not timed) and ends
// when the page holds 64 tile byte arrays: on the main thread for the native and the seeds'
// paths, in a worker (results transferred) for ours.
import { loadJsonBatchDecoder } from '../../src/client/pool/wasmCodecs.js';

type Mode = 'ours' | 'native' | 'seeds' | 'native-worker' | 'ours-main';

interface FromBase64 {
  fromBase64(s: string): Uint8Array;
}
const U8 = Uint8Array as unknown as FromBase64;

let body = new Uint8Array(0);
let worker: Worker | undefined;
let mainDecoder: Awaited<ReturnType<typeof loadJsonBatchDecoder>> | undefined;

function reply<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    w.onmessage = (ev) => resolve(ev.data as T);
    w.onerror = (ev) => reject(new Error(`bench worker failed: ${ev.message}`));
  });
}

async function setup(): Promise<{ flavour: string; bytes: number; native: boolean }> {
  body = new Uint8Array(await (await fetch('/batch.json')).arrayBuffer());
  worker = new Worker('/worker.js', { type: 'module' });
  const ready = reply<{ flavour: string }>(worker);
  worker.postMessage({ cmd: 'init', body: body.slice().buffer });
  const { flavour } = await ready;
  mainDecoder = await loadJsonBatchDecoder();
  return { flavour, bytes: body.length, native: typeof U8.fromBase64 === 'function' };
}

// The seeds' page code (001: "Frontend: Load Tiles for Viewport"), minus the Blob URL.
async function seeds(): Promise<Uint8Array[]> {
  const data = (await new Response(body).json()) as { tiles: Record<string, string | null> };
  const out: Uint8Array[] = [];
  for (const [, base64Data] of Object.entries(data.tiles)) {
    if (base64Data) {
      const binaryString = atob(base64Data);
      const bytes = new Uint8Array(binaryString.length);
      for (let i = 0; i < binaryString.length; i++) bytes[i] = binaryString.charCodeAt(i);
      out.push(bytes);
    }
  }
  return out;
}

async function native(): Promise<Uint8Array[]> {
  const data = (await new Response(body).json()) as { tiles: Record<string, string | null> };
  const out: Uint8Array[] = [];
  for (const v of Object.values(data.tiles)) if (v !== null) out.push(U8.fromBase64(v));
  return out;
}

async function inWorker(mode: 'ours' | 'native'): Promise<Uint8Array[]> {
  const done = reply<{ tiles: Uint8Array[] }>(worker!);
  worker!.postMessage({ cmd: 'run', mode });
  return (await done).tiles;
}

async function oursMain(): Promise<Uint8Array[]> {
  const bytes = new Uint8Array(await new Response(body).arrayBuffer());
  return Object.values(mainDecoder!(bytes.subarray()).tiles).filter((t): t is Uint8Array => t !== null);
}

const runs: Record<Mode, () => Promise<Uint8Array[]>> = {
  ours: () => inWorker('ours'),
  'native-worker': () => inWorker('native'),
  native,
  seeds,
  'ours-main': oursMain,
};

/** A checksum over every tile byte (order-sensitive), so every mode is checked against the others. */
function checksum(tiles: Uint8Array[]): number {
  let h = tiles.length;
  for (const t of tiles) for (let i = 0; i < t.length; i += 7) h = (Math.imul(h, 31) + t[i]!) | 0;
  return h;
}

/** `iters` back-to-back runs of one mode: wall ms of each, and the checksum of the last. */
async function run(mode: Mode, iters: number): Promise<{ ms: number[]; sum: number; tiles: number }> {
  const ms: number[] = [];
  let last: Uint8Array[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    last = await runs[mode]();
    ms.push(performance.now() - t0);
  }
  return { ms, sum: checksum(last), tiles: last.length };
}

async function stages(budget: number): Promise<Record<string, number>> {
  const done = reply<{ stages: Record<string, number> }>(worker!);
  worker!.postMessage({ cmd: 'stages', budget });
  return (await done).stages;
}

Object.assign(globalThis, { jsonBatchBench: { setup, run, stages } });
