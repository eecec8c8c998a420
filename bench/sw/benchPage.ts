/** The bench page: registers one of the workers (or none) and times a viewport of <img> tiles. */
export const BENCH_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>sw bench</title></head>
<body><div id="grid" style="line-height:0"></div>
<script src="/bench-batch.js"></script>
<script type="module">
  const mode = new URLSearchParams(location.search).get('sw') ?? 'none';
  async function register() {
    if (mode === 'none') return true;
    if (mode === 'ours') {
      const { registerTileAccelerator } = await import('/tile-accelerator.js');
      const cfg = JSON.parse(new URLSearchParams(location.search).get('cfg') ?? '{}');
      const acc = await registerTileAccelerator({ swUrl: '/tile-sw.js', ...cfg });
      window.acc = acc;
      return acc.controlled;
    }
    await navigator.serviceWorker.register('/wb-sw.js', { scope: '/' });
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    }
    return true;
  }
  window.ready = register();
  /** Time from inserting 64 <img>s to the last onload (ms); fails loudly on any error. */
  window.viewport = async (z, x0, y0, n, dataset = 'bench') => {
    const grid = document.getElementById('grid');
    grid.textContent = '';
    performance.clearResourceTimings();
    const t0 = performance.now();
    window.lastT0 = performance.timeOrigin + t0;
    const waits = [];
    for (let y = y0; y < y0 + n; y++) for (let x = x0; x < x0 + n; x++) {
      const img = new Image(16, 16);
      waits.push(new Promise((res, rej) => { img.onload = res; img.onerror = () => rej(new Error('tile ' + x + ',' + y)); }));
      img.src = '/api/tiles/' + dataset + '/' + z + '/' + x + '/' + y + '.jpg';
      grid.appendChild(img);
    }
    await Promise.all(waits);
    return performance.now() - t0;
  };
  /** The last viewport's tiles: how many there were, reached the worker, came over the network. */
  window.tileSources = () => {
    const e = performance.getEntriesByType('resource').filter((r) => r.initiatorType === 'img' && r.name.includes('/api/tiles/'));
    return { n: e.length, worker: e.filter((r) => r.workerStart > 0).length, network: e.filter((r) => r.transferSize > 0).length };
  };
  /** One round trip of a 64-tile binary batch from the page (ms). */
  window.warmBatch = async (keys, dataset = 'bench') => {
    const t0 = performance.now();
    const res = await fetch('/api/tiles/' + dataset + '/batch', { method: 'POST', headers: { Accept: 'application/vnd.tile-batch', 'Content-Type': 'application/json' }, body: JSON.stringify({ tiles: keys }) });
    await res.arrayBuffer();
    return performance.now() - t0;
  };
</script></body></html>`;
