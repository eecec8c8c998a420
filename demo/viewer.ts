import {
  type Camera,
  clampZoom,
  fitCamera,
  levelFor,
  panBy,
  type Rect,
  scaleOf,
  type TileRef,
  tileRect,
  visibleTiles,
  zoomAt,
} from './camera.js';
import type { DatasetConfig } from './config.js';
import type { Renderer, TileImage } from './render/Renderer.js';
import type { TileStore } from './tileStore.js';

const TILE_FRAME_MS = 100;

export interface FrameInfo {
  level: number;
  /** Tiles drawn in the last frame, per zoom level. */
  rendered: Record<number, number>;
  /** Every visible tile of the current level is drawn or known missing. */
  complete: boolean;
  visible: number;
  missingVisible: number;
  /** The camera this frame was drawn for (a test knows the frame is current). */
  cam: Camera;
}

/** Owns the camera and draws a frame whenever something changed. */
export class Viewer {
  cam: Camera;
  last: FrameInfo = {
    level: 0,
    rendered: {},
    complete: false,
    visible: 0,
    missingVisible: 0,
    cam: { cx: 0, cy: 0, zoom: 0 },
  };
  onFrame: ((f: FrameInfo) => void) | undefined;
  #dirty = false;
  #wantInput = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastFrame = 0;
  #w = 0;
  #h = 0;
  #dpr = 1;

  constructor(
    readonly canvas: HTMLCanvasElement,
    readonly ds: DatasetConfig,
    readonly renderer: Renderer,
    readonly store: TileStore,
  ) {
    this.#resize();
    this.cam = fitCamera(ds, this.#w, this.#h);
    new ResizeObserver(() => {
      this.#resize();
      this.invalidate();
    }).observe(canvas);
  }

  get size(): { w: number; h: number } {
    return { w: this.#w, h: this.#h };
  }

  setCamera(cam: Camera): void {
    this.cam = { ...cam, zoom: clampZoom(this.ds, cam.zoom) };
    this.invalidate();
  }
  pan(dx: number, dy: number): void {
    this.setCamera(panBy(this.ds, this.cam, dx, dy));
  }
  zoomAt(f: number, sx: number, sy: number): void {
    this.setCamera(zoomAt(this.ds, this.cam, f, sx, sy, this.#w, this.#h));
  }
  zoomCentre(f: number): void {
    this.zoomAt(f, this.#w / 2, this.#h / 2);
  }
  fit(): void {
    this.setCamera(fitCamera(this.ds, this.#w, this.#h));
  }

  /**
   * Schedules one frame. Input redraws at the next animation frame; tile
   * arrivals are batched to at most one frame per TILE_FRAME_MS, because with
   * dozens of tiles landing a frame each would cost more main-thread time
   * (GL submission, compositing) than all the uploads together.
   */
  invalidate(reason: 'input' | 'tile' = 'input'): void {
    if (reason === 'input') {
      this.#wantInput = true;
      if (this.#timer !== undefined) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#dirty = false;
      }
    }
    if (this.#dirty) return;
    this.#dirty = true;
    const wait = this.#wantInput ? 0 : Math.max(0, this.#lastFrame + TILE_FRAME_MS - performance.now());
    const go = () =>
      requestAnimationFrame(() => {
        this.#dirty = false;
        this.#wantInput = false;
        this.#timer = undefined;
        this.#lastFrame = performance.now();
        this.#draw();
      });
    if (wait === 0) go();
    else this.#timer = setTimeout(go, wait);
  }

  #resize(): void {
    const r = this.canvas.getBoundingClientRect();
    this.#dpr = Math.min(2, window.devicePixelRatio || 1);
    this.#w = Math.max(1, r.width);
    this.#h = Math.max(1, r.height);
    this.canvas.width = Math.round(this.#w * this.#dpr);
    this.canvas.height = Math.round(this.#h * this.#dpr);
  }

  #draw(): void {
    const { ds, cam, store } = this;
    const w = this.#w;
    const h = this.#h;
    const level = levelFor(ds, cam, this.#dpr);
    const visible = visibleTiles(ds, cam, level, w, h);
    // The level-0 tile is always wanted: it is the backdrop while anything else loads.
    const backdrop = level > ds.minZoom ? visibleTiles(ds, cam, ds.minZoom, w, h) : [];
    store.want([...visible, ...backdrop]);

    // A visible tile not decoded yet is stood in for by its nearest decoded
    // ancestor, drawn scaled underneath (painter's order, coarse first), so the
    // view never goes blank and no level is drawn where it is hidden anyway.
    const under = new Map<string, TileRef>();
    const ready: Array<{ img: TileImage; t: TileRef }> = [];
    for (const t of visible) {
      const img = store.get(t);
      if (img) {
        ready.push({ img, t });
        continue;
      }
      for (let z = t.z - 1; z >= ds.minZoom; z--) {
        const shift = t.z - z;
        const a: TileRef = { z, x: t.x >> shift, y: t.y >> shift };
        if (store.get(a)) {
          under.set(`${a.z}/${a.x}/${a.y}`, a);
          break;
        }
      }
    }
    const draws: Array<{ img: TileImage; rect: Rect }> = [];
    const rendered: Record<number, number> = {};
    const parents = [...under.values()].sort((a, b) => a.z - b.z);
    for (const t of parents) {
      draws.push({ img: store.get(t)!, rect: tileRect(ds, cam, t, w, h) });
      rendered[t.z] = (rendered[t.z] ?? 0) + 1;
    }
    for (const { img, t } of ready) {
      draws.push({ img, rect: tileRect(ds, cam, t, w, h) });
      rendered[t.z] = (rendered[t.z] ?? 0) + 1;
    }
    this.renderer.frame(draws, w, h, this.#dpr);
    let missingVisible = 0;
    let done = 0;
    for (const t of visible) {
      const s = store.state(t);
      if (s === 'missing') missingVisible++;
      if (s === 'ready' || s === 'missing') done++;
    }
    this.last = {
      level,
      rendered,
      complete: done === visible.length,
      visible: visible.length,
      missingVisible,
      cam: { ...cam },
    };
    this.onFrame?.(this.last);
  }

  /** Image px per screen px, for the scale readout. */
  get scale(): number {
    return scaleOf(this.ds, this.cam);
  }
}
