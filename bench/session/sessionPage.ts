// The session bench's page: `/session.html?viewer=osd|leaflet&sw=MODE&ds=NAME`
// registers one worker (or none), then drives OpenSeadragon or Leaflet through
// its own API with animations off, one step at a time (sessionScript.ts), and
// times each step in the page:
//  - loaded: the viewer's own "everything for this view is in" signal (OSD's
//    viewer `fully-loaded-change`, Leaflet's layer `load`); a step whose view
//    needed no tile reports 0 (OSD still fully loaded once it updated for the
//    new view, Leaflet's layer not loading right after the move);
//  - firstTile: the first tile that arrived during the step (OSD
//    `tile-loaded`, Leaflet `tileload`);
//  - blank: checked every animation frame, the first frame in which each point
//    of a 16 × 12 grid over the image inside the view lies in a drawn tile of
//    any level (OSD: the canvas drawer's last drawn tiles; Leaflet: its
//    `<img>` tiles with the loaded class, every zoom level's). 0 when the first
//    frame after the move was already covered (lower-level tiles count: a
//    blurred tile is not a blank one). Leaflet zoomed without animation drops
//    every tile of the old level first (its `viewprereset` invalidates them),
//    so its zoom steps are blank until the new level arrives: the viewer's
//    behaviour, the same on every path.
import { IMAGE, VIEW } from './sessionScript.js';

const REGISTER = `
  const q = new URLSearchParams(location.search);
  const mode = q.get('sw') ?? 'none';
  // A session loads several hundred tiles: keep all their entries (the default keeps 250).
  performance.setResourceTimingBufferSize(100000);
  async function register() {
    if (mode === 'none') return true;
    if (mode === 'ours') {
      const { registerTileAccelerator } = await import('/tile-accelerator.js');
      window.acc = await registerTileAccelerator({ swUrl: '/tile-sw.js' });
      return window.acc.controlled;
    }
    // Workbox CacheFirst (bench/sw) or a floor worker (bench/firefox).
    await navigator.serviceWorker.register(mode === 'workbox' ? '/wb-sw.js' : '/' + mode + '-sw.js', { scope: '/' });
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    }
    return true;
  }
  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = resolve;
      s.onerror = () => reject(new Error('could not load ' + src));
      document.head.appendChild(s);
    });
  }
`;

const MEASURE = `
  const W = ${VIEW.width}, H = ${VIEW.height}, SIZE = ${IMAGE.size}, TILE = ${IMAGE.tileSize}, MAXZ = ${IMAGE.maxZ};
  const ds = q.get('ds');
  const shown = new Set();
  const errors = [];
  /** Sample points of the image rect (viewer element px) clipped to the view. */
  function samples(r) {
    const x0 = Math.max(0, r.x), y0 = Math.max(0, r.y);
    const x1 = Math.min(W, r.x + r.w), y1 = Math.min(H, r.y + r.h);
    const out = [];
    if (x1 <= x0 || y1 <= y0) return out;
    for (let j = 0; j < 12; j++) for (let i = 0; i < 16; i++) {
      out.push([x0 + ((i + 0.5) * (x1 - x0)) / 16, y0 + ((j + 0.5) * (y1 - y0)) / 12]);
    }
    return out;
  }
  const inside = (p, t) => p[0] >= t.x && p[0] < t.x + t.w && p[1] >= t.y && p[1] < t.y + t.h;
  /** Times one step: see the header of bench/session/sessionPage.ts. */
  function measure(adapter, act, deadlineMs) {
    const t0 = performance.now();
    const r = { loaded: null, firstTile: null, blank: null, tiles: 0 };
    const errs0 = errors.length;
    // The API call is synchronous and tiles arrive in later tasks: subscribing
    // after it misses nothing (and the open step creates the viewer in it).
    act();
    const offTile = adapter.onTile((url) => {
      r.tiles++;
      shown.add(url);
      if (r.firstTile === null) r.firstTile = performance.now() - t0;
    });
    const offLoaded = adapter.onLoaded(() => { if (r.loaded === null) r.loaded = performance.now() - t0; });
    if (r.loaded === null && adapter.loadedRightAfterMove()) r.loaded = 0;
    return new Promise((resolve, reject) => {
      let frames = 0;
      const fail = (why) => { offTile(); offLoaded(); reject(new Error(why)); };
      const deadline = setTimeout(() => fail('step did not finish within ' + deadlineMs + ' ms: ' +
        (r.loaded === null ? 'the viewer never reported fully loaded; ' : '') +
        (r.blank === null ? 'the view never got covered by drawn tiles; ' : '') + r.tiles + ' tiles arrived, ' + frames +
        ' animation frames, page ' + document.visibilityState + (adapter.state ? ', ' + adapter.state() : '')), deadlineMs);
      const frame = () => {
        frames++;
        if (errors.length > errs0) { clearTimeout(deadline); fail('tile errors: ' + errors.slice(errs0).join(', ')); return; }
        // From the second frame on, the viewer has updated for the new view
        // (its frame callback was queued before ours).
        if (frames >= 2) {
          if (r.loaded === null && frames === 2 && r.tiles === 0 && adapter.fullyLoaded()) r.loaded = 0;
          if (r.blank === null && adapter.covered()) r.blank = frames === 2 ? 0 : performance.now() - t0;
        }
        if (r.loaded !== null && r.blank !== null) {
          clearTimeout(deadline);
          offTile();
          offLoaded();
          resolve(r);
          return;
        }
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    });
  }
  window.shownTiles = () => [...shown];
  window.stats = () => (window.acc ? window.acc.stats() : null);
`;

/** OpenSeadragon: canvas drawer (the same in both engines, no WebGL needed), animation and blending off. */
const OSD = `
  let viewer, mark;
  const item = () => viewer.world.getItemAt(0);
  const adapter = {
    onTile(cb) { const h = (e) => cb(new URL(e.tile.getUrl(), location.href).pathname); viewer.addHandler('tile-loaded', h); return () => viewer.removeHandler('tile-loaded', h); },
    onLoaded(cb) { const h = (e) => { if (e.fullyLoaded) cb(); }; viewer.addHandler('fully-loaded-change', h); return () => viewer.removeHandler('fully-loaded-change', h); },
    loadedRightAfterMove: () => false,
    state() {
      const it = item();
      if (!it) return 'no item';
      const tiles = it._lastDrawn.map((d) => d.tile);
      return 'fully loaded ' + viewer.getFullyLoaded() + '/' + it.getFullyLoaded() + ', ' + viewer.imageLoader.jobsInProgress + ' image jobs in progress, drawn ' + tiles.length + ' (' + tiles.filter((t) => t.loading).length + ' loading)';
    },
    fullyLoaded: () => !!item() && viewer.getFullyLoaded(),
    covered() {
      const it = item();
      if (!it) return false;
      const b = viewer.viewport.viewportToViewerElementRectangle(it.getBounds(true));
      const tiles = it._lastDrawn.map((d) => d.tile).filter((t) => t.loaded && t.position && t.size)
        .map((t) => ({ x: t.position.x, y: t.position.y, w: t.size.x, h: t.size.y }));
      return samples({ x: b.x, y: b.y, w: b.width, h: b.height }).every((p) => tiles.some((t) => inside(p, t)));
    },
  };
  function act(a) {
    const vp = viewer.viewport;
    if (a.kind === 'zoomAt') vp.zoomBy(a.factor, new OpenSeadragon.Point(a.fx, a.fy), true);
    else if (a.kind === 'zoom') vp.zoomBy(a.factor, undefined, true);
    else if (a.kind === 'pan') { const b = vp.getBounds(true); vp.panBy(new OpenSeadragon.Point(b.width * a.dx, b.height * a.dy), true); }
    else if (a.kind === 'back') vp.panTo(mark, true);
    else throw new Error('unknown action ' + a.kind);
  }
  window.sessionOpen = (deadlineMs) => measure(adapter, () => {
    viewer = OpenSeadragon({
      element: document.getElementById('viewer'),
      drawer: 'canvas',
      showNavigationControl: false,
      animationTime: 0,
      blendTime: 0,
      tileSources: {
        width: SIZE, height: SIZE, tileSize: TILE, minLevel: 8, maxLevel: 8 + MAXZ,
        getTileUrl: (level, x, y) => '/api/tiles/' + ds + '/' + (level - 8) + '/' + x + '/' + y + '.jpg',
      },
    });
    viewer.addHandler('tile-load-failed', (e) => errors.push(e.message || 'tile-load-failed'));
  }, deadlineMs);
  window.sessionStep = (a, setMark, deadlineMs) => measure(adapter, () => act(a), deadlineMs).then((r) => {
    if (setMark) mark = viewer.viewport.getCenter(true);
    return r;
  });
`;

/** Leaflet: CRS.Simple over the same pyramid (zoom z = level z), every animation off. */
const LEAFLET = `
  let map, layer, mark;
  const bounds = [[-TILE, 0], [0, TILE]];
  const el = document.getElementById('viewer');
  const adapter = {
    onTile(cb) { const h = (e) => cb(new URL(e.tile.src, location.href).pathname); layer.on('tileload', h); return () => layer.off('tileload', h); },
    onLoaded(cb) { layer.on('load', cb); return () => layer.off('load', cb); },
    loadedRightAfterMove: () => !layer.isLoading(),
    fullyLoaded: () => !layer.isLoading(),
    covered() {
      const box = el.getBoundingClientRect();
      const nw = map.latLngToContainerPoint([0, 0]);
      const se = map.latLngToContainerPoint([-TILE, TILE]);
      const tiles = [...el.querySelectorAll('img.leaflet-tile-loaded')].map((img) => {
        const r = img.getBoundingClientRect();
        return { x: r.left - box.left, y: r.top - box.top, w: r.width, h: r.height };
      });
      return samples({ x: nw.x, y: nw.y, w: se.x - nw.x, h: se.y - nw.y }).every((p) => tiles.some((t) => inside(p, t)));
    },
  };
  const noAnim = { animate: false };
  function act(a) {
    if (a.kind === 'zoomAt') map.setZoomAround(L.latLng(-a.fy * TILE, a.fx * TILE), map.getZoom() + Math.log2(a.factor), noAnim);
    else if (a.kind === 'zoom') map.setZoom(map.getZoom() + Math.log2(a.factor), noAnim);
    else if (a.kind === 'pan') map.panBy([W * a.dx, H * a.dy], noAnim);
    else if (a.kind === 'back') map.setView(mark, map.getZoom(), noAnim);
    else throw new Error('unknown action ' + a.kind);
  }
  window.sessionOpen = (deadlineMs) => {
    map = L.map(el, { crs: L.CRS.Simple, minZoom: 0, maxZoom: MAXZ, zoomAnimation: false, fadeAnimation: false,
      markerZoomAnimation: false, inertia: false, zoomControl: false, attributionControl: false });
    layer = L.tileLayer('/api/tiles/' + ds + '/{z}/{x}/{y}.jpg', { bounds, noWrap: true, maxNativeZoom: MAXZ, maxZoom: MAXZ });
    layer.on('tileerror', (e) => errors.push('tileerror ' + (e.tile && e.tile.src)));
    return measure(adapter, () => { layer.addTo(map); map.fitBounds(bounds, noAnim); }, deadlineMs);
  };
  window.sessionStep = (a, setMark, deadlineMs) => measure(adapter, () => act(a), deadlineMs).then((r) => {
    if (setMark) mark = map.getCenter();
    return r;
  });
`;

export const SESSION_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>session bench</title>
<link rel="stylesheet" href="/vendor/leaflet/leaflet.css">
<style>html,body{margin:0} #viewer{width:${VIEW.width}px;height:${VIEW.height}px;background:#000;position:relative}</style>
</head>
<body><div id="viewer"></div>
<script type="module">
  ${REGISTER}
  window.ready = (async () => {
    const ok = await register();
    const viewerName = q.get('viewer');
    await loadScript(viewerName === 'osd' ? '/vendor/openseadragon/openseadragon.min.js' : '/vendor/leaflet/leaflet.js');
    return ok;
  })();
  ${MEASURE}
  const viewerName = q.get('viewer');
  if (viewerName === 'osd') {
    ${OSD}
  } else {
    ${LEAFLET}
  }
</script></body></html>`;
