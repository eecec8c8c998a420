/**
 * The soak's browser page: registers our worker (options from `?cfg=`), then
 * `window.soak.start(seed)` random-walks a viewport of plain <img> tiles over
 * the `soakimg` pyramid (pan, zoom, jumps, revisits) and now and then reads a
 * range of the soak video through the worker. The lane polls `soak.state()`.
 */
export const SOAK_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>soak</title>
<style>body{margin:0} #grid{line-height:0;width:240px} #grid img{width:48px;height:48px}</style></head>
<body><div id="grid"></div><video id="video" muted preload="auto" width="160"></video>
<script type="module">
  const q = new URLSearchParams(location.search);
  const CLIP = q.get('clip');
  const cfg = JSON.parse(q.get('cfg') ?? '{}');
  const DATASET = q.get('dataset'), MAX_Z = Number(q.get('maxz')), VIDEO = q.get('video'), VIDEO_BYTES = Number(q.get('vbytes'));
  const W = 5, H = 4;
  window.ready = (async () => {
    if (q.get('sw') === '0') return true; // the A/B baseline: no worker, <img>s go straight to the server
    const { registerTileAccelerator } = await import('/tile-accelerator.js');
    const acc = await registerTileAccelerator({ swUrl: '/tile-sw.js', ...cfg });
    window.acc = acc;
    return acc.controlled;
  })();
  const S = {
    viewports: 0, steps: { pan: 0, zoom: 0, jump: 0, revisit: 0 }, loads: 0, errors: 0, abandonedErrors: 0,
    lastCompletion: Date.now(), errorLog: [], loaded: new Set(),
    video: { reads: 0, ok: 0, wrong: 0, failed: 0 },
    seek: { playable: false, seeks: 0, seeked: 0, timeouts: 0, errors: 0 },
  };
  /**
   * What the worker answers for a tile whose <img> just failed (the first 40
   * only): one fetch of the same URL, tallied by status, error code and source.
   */
  S.probes = {};
  let probes = 0;
  async function probe(url) {
    if (probes++ >= 40) return;
    let k;
    try {
      const res = await fetch(url);
      const body = await res.text();
      let code = '';
      try { code = JSON.parse(body).error?.code ?? ''; } catch {}
      k = res.status + (code ? ' ' + code : '') + ' (' + (res.headers.get('x-tile-source') ?? '-') + ')';
    } catch (e) { k = 'throw ' + e.name; }
    S.probes[k] = (S.probes[k] ?? 0) + 1;
  }
  const video = document.getElementById('video');
  S.seek.playable = video.canPlayType('video/mp4; codecs="avc1.42E01E"') !== '';
  let seeking = false;
  /** A <video> seek to a random time through the worker's range cache; a media error reloads the element. */
  async function seek() {
    if (!S.seek.playable || seeking) return;
    seeking = true;
    try {
      if (!video.src || video.error) {
        video.src = '/api/video/' + CLIP; // setting src again reloads an element that failed
      }
      if (video.readyState < 1) {
        const ok = await new Promise((r) => {
          const t = setTimeout(() => r(false), 15000);
          video.onloadedmetadata = () => { clearTimeout(t); r(true); };
          video.onerror = () => { clearTimeout(t); r(false); };
        });
        if (!ok) { if (video.error) S.seek.errors++; else S.seek.timeouts++; return; }
      }
      S.seek.seeks++;
      const done = await new Promise((r) => {
        const t = setTimeout(() => r('timeout'), 15000);
        video.onseeked = () => { clearTimeout(t); r('seeked'); };
        video.onerror = () => { clearTimeout(t); r('error'); };
        video.currentTime = rand() * Math.max(0, (video.duration || 1) - 0.1);
      });
      if (done === 'seeked') S.seek.seeked++;
      else if (done === 'error') S.seek.errors++;
      else S.seek.timeouts++;
    } finally { seeking = false; }
  }
  let current = [];
  let running = false;
  let rand = Math.random;
  function rng(seed) {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  /** Replaces the viewport; resolves when every one of its tiles loaded or failed. */
  function show(z, x0, y0) {
    const grid = document.getElementById('grid');
    for (const r of current) r.abandoned = true;
    grid.textContent = '';
    const n = 2 ** z;
    const recs = [];
    const waits = [];
    for (let y = y0; y < Math.min(n, y0 + H); y++) for (let x = x0; x < Math.min(n, x0 + W); x++) {
      const url = '/api/tiles/' + DATASET + '/' + z + '/' + x + '/' + y + '.png';
      const rec = { url, start: Date.now(), done: false, abandoned: false };
      const img = new Image();
      waits.push(new Promise((res) => {
        img.onload = () => {
          rec.done = true; S.loads++; S.loaded.add(url);
          if (!rec.abandoned) S.lastCompletion = Date.now();
          res(true);
        };
        img.onerror = () => {
          rec.done = true; S.errors++;
          if (rec.abandoned) S.abandonedErrors++;
          else S.lastCompletion = Date.now();
          S.errorLog.push({ url, start: rec.start, end: Date.now(), abandoned: rec.abandoned });
          void probe(url);
          res(false);
        };
      }));
      img.src = url;
      grid.appendChild(img);
      recs.push(rec);
    }
    current = recs;
    S.viewports++;
    return Promise.all(waits);
  }
  const view = { z: 2, x: 0, y: 0 };
  const history = [];
  const clampView = () => {
    const n = 2 ** view.z;
    view.x = Math.max(0, Math.min(view.x, Math.max(0, n - W)));
    view.y = Math.max(0, Math.min(view.y, Math.max(0, n - H)));
  };
  function step() {
    const r = rand();
    if (r < 0.08) {
      S.steps.jump++;
      view.z = 1 + Math.floor(rand() * MAX_Z);
      view.x = Math.floor(rand() * 2 ** view.z);
      view.y = Math.floor(rand() * 2 ** view.z);
    } else if (r < 0.2 && history.length > 0) {
      S.steps.revisit++;
      Object.assign(view, history[Math.floor(rand() * history.length)]);
    } else if (r < 0.38) {
      S.steps.zoom++;
      const zin = view.z < 2 || (view.z < MAX_Z && rand() < 0.5);
      if (zin) { view.z++; view.x = view.x * 2 + 2; view.y = view.y * 2 + 1; }
      else { view.z--; view.x = Math.floor(view.x / 2) - 1; view.y = Math.floor(view.y / 2); }
    } else {
      S.steps.pan++;
      let dx = 0, dy = 0;
      while (dx === 0 && dy === 0) { dx = Math.floor(rand() * 3) - 1; dy = Math.floor(rand() * 3) - 1; }
      view.x += dx; view.y += dy;
    }
    clampView();
    history.push({ ...view });
    if (history.length > 300) history.splice(0, history.length - 300);
    void show(view.z, view.x, view.y);
    if (rand() < 0.08) void videoRead();
    if (rand() < 0.06) void seek();
  }
  async function videoRead() {
    const start = Math.floor(rand() * (VIDEO_BYTES - 1));
    const end = Math.min(VIDEO_BYTES - 1, start + 16 * 1024 + Math.floor(rand() * 240 * 1024));
    S.video.reads++;
    try {
      const res = await fetch('/api/video/' + VIDEO, { headers: { Range: 'bytes=' + start + '-' + end } });
      const body = new Uint8Array(await res.arrayBuffer());
      if (res.status !== 206) { S.video.failed++; return; }
      let same = body.length === end - start + 1;
      for (let i = 0; same && i < body.length; i++) same = body[i] === (((start + i) * 2654435761) >>> 24);
      if (same) S.video.ok++; else S.video.wrong++;
    } catch { S.video.failed++; }
  }
  function loop() {
    if (!running) return;
    step();
    setTimeout(loop, 300 + rand() * 500);
  }
  const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
  window.soak = {
    start(seed) { rand = rng(seed); running = true; loop(); },
    stop() { running = false; },
    state() {
      const errors = S.errorLog.splice(0);
      return {
        viewports: S.viewports, steps: S.steps, loads: S.loads, errors: S.errors, abandonedErrors: S.abandonedErrors,
        pending: current.filter((r) => !r.done).length, lastCompletion: S.lastCompletion,
        loadedUrls: S.loaded.size, video: S.video, seek: S.seek, probes: S.probes, newErrors: errors,
      };
    },
    /** Shows one viewport and waits for all of its tiles: [loaded, failed]. */
    async showAndWait(z, x, y) {
      const r = await show(z, x, y);
      return [r.filter(Boolean).length, r.filter((v) => !v).length];
    },
    /** Re-reads up to n loaded tiles through the worker: [url, status, sha-256 hex]. */
    async readback(n, seed) {
      const r = rng(seed);
      const urls = [...S.loaded];
      for (let i = urls.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [urls[i], urls[j]] = [urls[j], urls[i]]; }
      const out = [];
      for (const url of urls.slice(0, n)) {
        try {
          const res = await fetch(url);
          const body = await res.arrayBuffer();
          out.push([url, res.status, hex(await crypto.subtle.digest('SHA-256', body)), res.headers.get('x-tile-source')]);
        } catch (e) { out.push([url, 0, String(e), null]); }
      }
      return out;
    },
  };
</script></body></html>`;
