// Module worker used by worker.browser.test.ts: the public API, unchanged, inside a Web Worker.
import {
  base64Decode,
  decodeBC1,
  encodeBC1,
  encodeDDS,
  initCodecs,
  parseDDS,
} from '../../../src/wasm/index.js';

// typed locally: this folder is in no tsconfig with the WebWorker lib
const scope = globalThis as unknown as { onmessage: (() => void) | null; postMessage(m: unknown): void };

scope.onmessage = async () => {
  try {
    const mod = await initCodecs();
    const rgba = new Uint8Array(8 * 8 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 37) & 255));
    const px = decodeBC1(encodeBC1(rgba, 8, 8), 8, 8);
    const dds = parseDDS(encodeDDS(rgba, 8, 8));
    scope.postMessage({
      flavour: mod.flavour,
      base64: Array.from(base64Decode('AAEC/w==')),
      pixels: px.length,
      levels: dds.levels.length,
    });
  } catch (e) {
    scope.postMessage({ error: String(e) });
  }
};
