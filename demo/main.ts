import { getWorkerPool } from '../src/client/pool/index.js';
import { acceleratorWanted, type DemoAccelerator, setAccelerator, startAccelerator } from './accelerator.js';
import { SAMPLE } from './config.js';
import { LatencyHistogram } from './histogram.js';
import { bindInput } from './input.js';
import { startPanel } from './panel.js';
import { createCanvasRenderer } from './render/canvasRenderer.js';
import type { Renderer } from './render/Renderer.js';
import { createWebGLRenderer, probeWebGL } from './render/webglRenderer.js';
import { type DecodeTile, mainThreadDecode, workerDecode } from './tileDecoder.js';
import { TileStore } from './tileStore.js';
import { type FrameInfo, Viewer } from './viewer.js';

const params = new URLSearchParams(location.search);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/**
 * `?renderer=canvas` forces the fallback; `webgl-rgba` uploads RGBA8 for comparison.
 * Default: WebGL2 with BC1 when S3TC exists and the BC1 encoder runs here, else
 * WebGL2 with RGBA8, else canvas 2D.
 */
async function pickRenderer(
  canvas: HTMLCanvasElement,
  decode: DecodeTile,
): Promise<{ renderer: Renderer; why: string }> {
  const asked = params.get('renderer');
  if (asked === 'canvas')
    return { renderer: createCanvasRenderer(canvas), why: 'forced by ?renderer=canvas' };
  const gl = probeWebGL(canvas);
  if (!gl) return { renderer: createCanvasRenderer(canvas), why: 'no WebGL2' };
  if (asked === 'webgl-rgba') return { renderer: createWebGLRenderer(gl.gl, 'rgba'), why: 'forced' };
  if (!gl.s3tc) {
    // A canvas that gave out a WebGL context cannot give a 2D one: draw on a fresh element.
    const fresh = canvas.cloneNode() as HTMLCanvasElement;
    canvas.replaceWith(fresh);
    return { renderer: createCanvasRenderer(fresh), why: 'no WEBGL_compressed_texture_s3tc' };
  }
  try {
    // One 4x4 block through the same path the tiles take proves the WASM encoder loads here.
    const probe = await decode(new Uint8Array(64), 'bc1', AbortSignal.timeout(5000), 'visible', {
      width: 4,
      height: 4,
    });
    if (probe.kind !== 'blocks' || probe.data.byteLength !== 8)
      throw new Error('unexpected BC1 probe result');
    return { renderer: createWebGLRenderer(gl.gl, 'bc1'), why: 'WebGL2 + S3TC' };
  } catch (e) {
    return {
      renderer: createWebGLRenderer(gl.gl, 'rgba'),
      why: `RGBA8: BC1 encoder unavailable (${e instanceof Error ? e.message : String(e)})`,
    };
  }
}

async function main(): Promise<void> {
  const status = $('status');
  const swOn = acceleratorWanted(params);
  const toggle = $<HTMLInputElement>('acc-toggle');
  toggle.checked = swOn;
  toggle.addEventListener('change', () => void setAccelerator(toggle.checked));

  let acc: DemoAccelerator | undefined;
  let accNote = 'off (tiles straight from the server)';
  if (swOn) {
    status.textContent = 'Starting the service worker…';
    ({ acc, note: accNote } = await startAccelerator());
  }

  const decodeMode = params.get('decode') === 'main' ? 'main' : 'worker';
  const pool = decodeMode === 'worker' ? getWorkerPool() : undefined;
  // `?quality=high`: the BC1 encoder's slower, better mode (the benchmark shows what it costs where).
  const quality = params.get('quality') === 'high' ? 'high' : 'fast';
  const decode = pool ? workerDecode(pool, quality) : mainThreadDecode(quality);
  const { renderer, why } = await pickRenderer($<HTMLCanvasElement>('view'), decode);
  const canvas = $<HTMLCanvasElement>('view');
  const histogram = new LatencyHistogram();
  let viewer: Viewer | undefined;
  const store = new TileStore({
    ds: SAMPLE,
    renderer,
    decode,
    onChange: () => viewer?.invalidate('tile'),
    onLatency: (ms) => histogram.add(ms),
    budget: renderer.kind === 'webgl-bc1' ? 512 : 192,
  });
  viewer = new Viewer(canvas, SAMPLE, renderer, store);
  const v = viewer;
  bindInput(canvas, {
    pan: (dx, dy) => v.pan(dx, dy),
    zoomAt: (f, x, y) => v.zoomAt(f, x, y),
    zoomCentre: (f) => v.zoomCentre(f),
    fit: () => v.fit(),
  });

  const t0 = performance.now();
  let firstComplete: number | undefined;
  v.onFrame = (f: FrameInfo) => {
    if (f.complete && firstComplete === undefined) firstComplete = performance.now() - t0;
    showStatus(status, f, store.stats());
  };

  // The e2e and benchmark hook: what was drawn, how, and how much GPU memory it took.
  Object.assign(window, {
    __demo: {
      get renderer() {
        return renderer.kind;
      },
      rendererReason: why,
      get textureFormat() {
        return renderer.textureFormat;
      },
      decode: decodeMode,
      accelerator: accNote,
      frame: () => v.last,
      store: () => store.stats(),
      pool: () => pool?.stats(),
      camera: () => ({ ...v.cam }),
      setCamera: (c: { cx: number; cy: number; zoom: number }) => v.setCamera(c),
      fit: () => v.fit(),
      get firstCompleteMs() {
        return firstComplete;
      },
    },
  });

  startPanel($('panel'), {
    dataset: SAMPLE.dataset,
    mode: () => ({
      renderer: `${renderer.kind} (${why})`,
      textureFormat: renderer.textureFormat,
      decode: decodeMode === 'worker' ? `worker pool (${pool!.size})` : 'main thread',
      accelerator: accNote,
    }),
    frame: () => v.last,
    store: () => store.stats(),
    pool: () => pool?.stats(),
    swStats: async () => (acc ? await acc.stats() : undefined),
    histogram,
  });
  setupVideo();
  v.invalidate();
}

function showStatus(el: HTMLElement, f: FrameInfo, s: ReturnType<TileStore['stats']>): void {
  let text = '';
  let cls = '';
  if (s.serverDown) {
    text = `Server unreachable (${s.lastError ?? 'no answer'}), retrying…`;
    cls = 'down';
  } else if (!f.complete) {
    text = `Loading tiles… (${s.loading} in flight)`;
    cls = 'loading';
  } else if (f.missingVisible > 0) {
    text = `${f.missingVisible} tile${f.missingVisible > 1 ? 's' : ''} missing at z=${f.level}`;
    cls = 'missing';
  }
  el.textContent = text;
  el.className = cls;
  el.hidden = text === '';
}

function setupVideo(): void {
  const video = $<HTMLVideoElement>('video');
  const info = $('video-info');
  const show = () => {
    const ranges: string[] = [];
    for (let i = 0; i < video.buffered.length; i++) {
      ranges.push(`${video.buffered.start(i).toFixed(1)}–${video.buffered.end(i).toFixed(1)} s`);
    }
    info.textContent = `at ${video.currentTime.toFixed(1)} s · buffered ${ranges.join(', ') || 'nothing'}`;
  };
  for (const ev of ['progress', 'seeked', 'timeupdate', 'loadedmetadata']) video.addEventListener(ev, show);
  video.addEventListener('error', () => {
    info.textContent = 'video unavailable (is the server up?)';
  });
  for (const btn of document.querySelectorAll<HTMLButtonElement>('[data-seek]')) {
    btn.addEventListener('click', () => {
      if (Number.isFinite(video.duration)) video.currentTime = video.duration * Number(btn.dataset['seek']);
    });
  }
}

main().catch((e: unknown) => {
  const status = $('status');
  status.hidden = false;
  status.className = 'down';
  status.textContent = `The viewer failed to start: ${e instanceof Error ? e.message : String(e)}`;
  console.error(e);
});
