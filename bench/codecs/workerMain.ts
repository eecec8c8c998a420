// worker_threads body for the throughput bench: encode/decode one image for a fixed time.
import { parentPort, workerData } from 'node:worker_threads';
import { decodeBC1, encodeBC1 } from '../../src/wasm/blockCodec.js';
import { initCodecs } from '../../src/wasm/codecModule.js';

const { rgba, width, height, ms, job } = workerData as {
  rgba: Uint8Array;
  width: number;
  height: number;
  ms: number;
  job: 'encode' | 'decode';
};
const mod = await initCodecs();
const blocks = encodeBC1(rgba, width, height, { quality: 'fast' }, mod);
const out = new Uint8Array(width * height * 4);
parentPort!.postMessage('ready');
parentPort!.once('message', () => {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    if (job === 'encode') encodeBC1(rgba, width, height, { quality: 'fast' }, mod);
    else decodeBC1(blocks, width, height, out, mod);
    n++;
  }
  parentPort!.postMessage((n * width * height) / (performance.now() - t0) / 1000);
});
