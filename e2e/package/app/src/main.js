// A consumer app: the page side of the installed package, nothing else.
import { registerTileAccelerator } from 'tile-accelerator';

async function start() {
  const acc = await registerTileAccelerator({ swUrl: '/sw.js' });
  window.acc = acc;
  return acc.controlled;
}

window.ready = start();

/** Shows one tile as an <img>; resolves its natural width (0 when it failed). */
window.showTile = (src) =>
  new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve(img.naturalWidth);
    img.onerror = () => resolve(0);
    img.src = src;
    document.getElementById('tiles').append(img);
  });

/** Runs the package's codec worker (and its .wasm) on a fetched tile. */
window.decodeTile = async (src, as) => {
  const bytes = new Uint8Array(await (await fetch(src)).arrayBuffer());
  const out = await window.acc.decode(bytes, { as });
  return {
    width: out.width,
    height: out.height,
    format: out.format ?? null,
    bytes: (out.data ?? out.blocks)?.byteLength ?? 0,
  };
};
