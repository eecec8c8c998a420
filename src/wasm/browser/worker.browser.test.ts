import { expect, it } from 'vitest';

it('runs unchanged in a module Web Worker (wasm fetched relative to the module)', async () => {
  const worker = new Worker(new URL('../../../test/support/wasm/workerProbe.ts', import.meta.url), {
    type: 'module',
  });
  try {
    const reply = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('worker did not answer in 15 s')), 15_000);
      worker.onmessage = (e: MessageEvent) => {
        clearTimeout(timer);
        resolve(e.data as Record<string, unknown>);
      };
      worker.onerror = (e) => {
        clearTimeout(timer);
        reject(new Error(e.message));
      };
      worker.postMessage('go');
    });
    expect(reply).toEqual({ flavour: 'simd', base64: [0, 1, 2, 255], pixels: 256, levels: 4 });
  } finally {
    worker.terminate();
  }
});
