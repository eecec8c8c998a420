// Bundled into the bench page (bench/sw/index.ts builds it): the best a page
// could do without any worker, with one cold binary batch feeding 64 <img>s
// straight from the frames (blob URLs). The same browser work per tile as our
// worker path (fetch, frames, image decode), minus the service worker itself.
import { BATCH_MEDIA_TYPE, readBatchFrames } from '../../src/protocol/batchFraming.js';

/** Time from inserting `n`×`n` <img>s to the last onload (ms), their bytes from one binary batch. */
export async function viewportFromBatch(
  batchUrl: string,
  z: number,
  x0: number,
  y0: number,
  n: number,
): Promise<number> {
  const grid = document.getElementById('grid')!;
  grid.textContent = '';
  const t0 = performance.now();
  const imgs = new Map<string, HTMLImageElement>();
  const waits: Promise<unknown>[] = [];
  for (let y = y0; y < y0 + n; y++) {
    for (let x = x0; x < x0 + n; x++) {
      const img = new Image(16, 16);
      waits.push(
        new Promise((res, rej) => {
          img.onload = res;
          img.onerror = () => rej(new Error(`tile ${x},${y}`));
        }),
      );
      imgs.set(`${z}/${x}/${y}.jpg`, img);
      grid.appendChild(img);
    }
  }
  const res = await fetch(batchUrl, {
    method: 'POST',
    headers: { Accept: BATCH_MEDIA_TYPE, 'Content-Type': 'application/json' },
    body: JSON.stringify({ tiles: [...imgs.keys()] }),
  });
  if (!res.ok || !res.body) throw new Error(`batch answered ${res.status}`);
  for await (const f of readBatchFrames(res.body)) {
    if (f.kind !== 'tile') continue;
    const img = imgs.get(f.key);
    if (img)
      img.src = URL.createObjectURL(
        new Blob([f.body as Uint8Array<ArrayBuffer>], { type: f.meta.contentType }),
      );
  }
  await Promise.all(waits);
  const ms = performance.now() - t0;
  for (const img of imgs.values()) URL.revokeObjectURL(img.src);
  return ms;
}
