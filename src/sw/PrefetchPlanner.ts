import type { TileCoord } from '../protocol/tileKey.js';
import type { PrefetchTask } from './Prefetcher.js';
import type { TileRoute } from './TileRouter.js';

/** What the planner needs of a served tile (a `TileRoute`). */
export type ServedTile = Pick<TileRoute, 'url' | 'dataset' | 'coord' | 'batchUrl' | 'sibling'>;

export interface PrefetchPlannerOptions {
  /** Ring width around a view whose motion is not known yet (0 = none). */
  ring: number;
  /** The level above the view first: a zoom out (or a viewer that shows the parent while children load) has something at once. */
  parent: boolean;
  /** Most targets one plan holds. */
  budget: number;
  /** How many aborted tiles are remembered as "left the view" (never prefetched until asked again). */
  maxLeft?: number;
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

interface View extends Box {
  layer: string;
  z: number;
  ext: TileCoord['ext'];
  /** Direction of the last pan per axis (-1, 0, 1) and its stride in tiles. */
  sx: number;
  sy: number;
  strideX: number;
  strideY: number;
  /** +1 after a zoom in, -1 after a zoom out, 0 after a pan or at first sight. */
  zoom: number;
  /** Where the last zoom in landed (centre of its tiles, in tiles of `z`). */
  fx: number;
  fy: number;
  /** A tile of the view, to build sibling URLs and tasks. */
  sample: ServedTile;
}

const layerOf = (t: ServedTile) =>
  `${t.dataset}\n${t.coord.ext}\n${t.batchUrl ?? ''}\n${t.sibling({ z: 0, x: 0, y: 0, ext: t.coord.ext })}`;

/**
 * Where the view goes next, from the tiles the page asked for. Viewers ask
 * only for tiles newly on screen, so the tiles since the last plan are the
 * leading edge of a pan, or the tiles of a new level after a zoom. The plan,
 * best first, within `budget`:
 * 1. the level above the view (cheap: a quarter of the tiles);
 * 2. after a pan, the next strip in its direction, as wide as the last one;
 * 3. after a zoom in, the next level's tiles around the zoom focus;
 * 4. before any motion is known, a ring around the view.
 * Tiles whose page request was aborted left the view: they are never planned
 * until the page asks for them again.
 */
export class PrefetchPlanner {
  private fresh: ServedTile[] = [];
  private view: View | undefined;
  private readonly left = new Set<string>();

  constructor(private readonly o: PrefetchPlannerOptions) {}

  /** A visible tile the page asked for and got. */
  served(t: ServedTile): void {
    this.left.delete(t.url);
    this.fresh.push(t);
    // Bounded: under endless visible traffic only the latest tiles matter.
    if (this.fresh.length > 1024) this.fresh.splice(0, this.fresh.length - 1024);
  }

  /** A visible tile the page gave up on (its request aborted): it left the view. */
  aborted(url: string): void {
    this.left.delete(url);
    this.left.add(url);
    const max = this.o.maxLeft ?? 1024;
    while (this.left.size > max) this.left.delete(this.left.values().next().value!);
  }

  hasLeft(url: string): boolean {
    return this.left.has(url);
  }

  /** True when tiles were served since the last plan. */
  get pending(): boolean {
    return this.fresh.length > 0;
  }

  /** Folds the tiles since the last plan into the view and plans from it (best first). */
  plan(skip: (url: string) => boolean = () => false): PrefetchTask[] {
    if (this.fresh.length > 0) this.update();
    const v = this.view;
    if (!v) return [];
    const out: PrefetchTask[] = [];
    const seen = new Set<string>();
    const add = (z: number, x: number, y: number): boolean => {
      if (out.length >= this.o.budget) return false;
      const n = 2 ** z;
      if (z < 0 || x < 0 || y < 0 || x >= n || y >= n) return true;
      const c: TileCoord = { z, x, y, ext: v.ext };
      const url = v.sample.sibling(c);
      if (seen.has(url) || this.left.has(url) || skip(url)) return true;
      seen.add(url);
      out.push({
        url,
        dataset: v.sample.dataset,
        key: `${z}/${x}/${y}.${v.ext}`,
        batchUrl: v.sample.batchUrl,
      });
      return true;
    };
    if (this.o.parent && v.z > 0) {
      for (let y = v.y0 >> 1; y <= v.y1 >> 1; y++)
        for (let x = v.x0 >> 1; x <= v.x1 >> 1; x++) add(v.z - 1, x, y);
    }
    if (v.sx !== 0 || v.sy !== 0) this.strips(v, add);
    if (v.zoom > 0) this.zoomFocus(v, add);
    if (v.sx === 0 && v.sy === 0 && v.zoom === 0) this.ring(v, add);
    return out;
  }

  /** The next strips ahead of a pan, as deep as the last one, nearest first; the corner after them. */
  private strips(v: View, add: (z: number, x: number, y: number) => boolean): void {
    const ax = (k: number) => (v.sx > 0 ? v.x1 + k : v.x0 - k);
    const ay = (k: number) => (v.sy > 0 ? v.y1 + k : v.y0 - k);
    for (let k = 1; k <= Math.max(v.strideX, v.strideY); k++) {
      if (v.sx !== 0 && k <= v.strideX) for (let y = v.y0; y <= v.y1; y++) if (!add(v.z, ax(k), y)) return;
      if (v.sy !== 0 && k <= v.strideY) for (let x = v.x0; x <= v.x1; x++) if (!add(v.z, x, ay(k))) return;
    }
    if (v.sx === 0 || v.sy === 0) return;
    for (let j = 1; j <= v.strideY; j++)
      for (let k = 1; k <= v.strideX; k++) if (!add(v.z, ax(k), ay(j))) return;
  }

  /**
   * The next level's tiles under the middle half of where the next zoom in
   * lands (around the focus), nearest first: a quarter of a view, so a zoom
   * that does not come costs little.
   */
  private zoomFocus(v: View, add: (z: number, x: number, y: number) => boolean): void {
    const hw = Math.max(1, Math.ceil((v.x1 - v.x0 + 1) / 4));
    const hh = Math.max(1, Math.ceil((v.y1 - v.y0 + 1) / 4));
    // Continuous coordinates of the next level: tile i spans [i, i + 1).
    const cx = 2 * v.fx;
    const cy = 2 * v.fy;
    const cells: Array<[number, number, number]> = [];
    for (let y = Math.round(cy) - hh; y < Math.round(cy) + hh; y++) {
      for (let x = Math.round(cx) - hw; x < Math.round(cx) + hw; x++) {
        cells.push([x, y, (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2]);
      }
    }
    cells.sort((a, b) => a[2] - b[2]);
    for (const [x, y] of cells) if (!add(v.z + 1, x, y)) return;
  }

  private ring(v: View, add: (z: number, x: number, y: number) => boolean): void {
    for (let r = 1; r <= this.o.ring; r++) {
      for (let x = v.x0 - r; x <= v.x1 + r; x++) if (!add(v.z, x, v.y0 - r) || !add(v.z, x, v.y1 + r)) return;
      for (let y = v.y0 - r + 1; y <= v.y1 + r - 1; y++)
        if (!add(v.z, v.x0 - r, y) || !add(v.z, v.x1 + r, y)) return;
    }
  }

  private update(): void {
    const last = this.fresh[this.fresh.length - 1]!;
    const layer = layerOf(last);
    const mine = this.fresh.filter((t) => layerOf(t) === layer);
    this.fresh = [];
    // Viewers ask for coarser levels too (placeholders): the view is the finest level asked.
    const z = Math.max(...mine.map((t) => t.coord.z));
    const at = mine.filter((t) => t.coord.z === z);
    const box = boxOf(at);
    const prev = this.view?.layer === layer ? this.view : undefined;
    const base = { layer, z, ext: last.coord.ext, sample: last };
    if (!prev || prev.z !== z) {
      const zoom = prev ? Math.sign(z - prev.z) : 0;
      const f = focusOf(box, prev, z);
      this.view = { ...base, ...box, sx: 0, sy: 0, strideX: 0, strideY: 0, zoom, fx: f.x, fy: f.y };
      return;
    }
    // Tiles outside the known view are the leading edge of a pan; tiles inside it fill in.
    const outside = at.filter((t) => !inside(prev, t.coord));
    if (outside.length === 0) {
      this.view = { ...prev, sample: last };
      return;
    }
    const edge = boxOf(outside);
    // Per axis: the side the new tiles stick out of (both sides: the view grew, no direction).
    const sx = (edge.x1 > prev.x1 ? 1 : 0) - (edge.x0 < prev.x0 ? 1 : 0);
    const sy = (edge.y1 > prev.y1 ? 1 : 0) - (edge.y0 < prev.y0 ? 1 : 0);
    const w = prev.x1 - prev.x0;
    const h = prev.y1 - prev.y0;
    // The view keeps its size and moves so that it holds the new tiles.
    const x0 = sx > 0 ? Math.max(prev.x1, edge.x1) - w : sx < 0 ? Math.min(prev.x0, edge.x0) : prev.x0;
    const y0 = sy > 0 ? Math.max(prev.y1, edge.y1) - h : sy < 0 ? Math.min(prev.y0, edge.y0) : prev.y0;
    this.view = {
      ...base,
      x0,
      y0,
      x1: x0 + w,
      y1: y0 + h,
      sx,
      sy,
      // How far the new tiles stick out: the next pan is likely as long.
      strideX: sx > 0 ? edge.x1 - prev.x1 : sx < 0 ? prev.x0 - edge.x0 : 0,
      strideY: sy > 0 ? edge.y1 - prev.y1 : sy < 0 ? prev.y0 - edge.y0 : 0,
      zoom: 0,
      fx: prev.fx,
      fy: prev.fy,
    };
  }
}

function boxOf(ts: ServedTile[]): Box {
  const xs = ts.map((t) => t.coord.x);
  const ys = ts.map((t) => t.coord.y);
  return { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
}

/** Centre of a box in continuous tile coordinates (tile i spans [i, i + 1)). */
const centre = (b: Box) => ({ x: (b.x0 + b.x1 + 1) / 2, y: (b.y0 + b.y1 + 1) / 2 });

/**
 * Where the next zoom in will land, at level `z` (continuous coordinates). A
 * zoom by 2 at point p keeps p still on screen, so the new centre is
 * (p + old centre) / 2 in the new level's units: p = 2 * new - old. The next
 * zoom at the same p centres on (p + new) / 2, clipped to the view.
 */
function focusOf(box: Box, prev: View | undefined, z: number): { x: number; y: number } {
  const c = centre(box);
  if (!prev || z !== prev.z + 1) return c;
  const o = centre(prev);
  const px = 2 * c.x - 2 * o.x;
  const py = 2 * c.y - 2 * o.y;
  const clip = (v: number, lo: number, hi: number) => Math.min(hi + 1, Math.max(lo, v));
  return { x: clip((px + c.x) / 2, box.x0, box.x1), y: clip((py + c.y) / 2, box.y0, box.y1) };
}
const inside = (b: Box, c: TileCoord) => c.x >= b.x0 && c.x <= b.x1 && c.y >= b.y0 && c.y <= b.y1;
