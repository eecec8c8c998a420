import { type DatasetConfig, levelGrid } from './config.js';

/**
 * The view: centre in deepest-level pixels and a continuous zoom where
 * `zoom === maxZoom` shows one image pixel per CSS pixel.
 */
export interface Camera {
  cx: number;
  cy: number;
  zoom: number;
}

export interface TileRef {
  z: number;
  x: number;
  y: number;
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** CSS px per deepest-level px. */
export function scaleOf(ds: DatasetConfig, cam: Camera): number {
  return 2 ** (cam.zoom - ds.maxZoom);
}

export function clampZoom(ds: DatasetConfig, zoom: number): number {
  return Math.min(ds.maxZoom + 2, Math.max(ds.minZoom - 1, zoom));
}

/** The camera that fits the whole image in the view. */
export function fitCamera(ds: DatasetConfig, viewW: number, viewH: number): Camera {
  const s = Math.min(viewW / ds.width, viewH / ds.height) * 0.95;
  return { cx: ds.width / 2, cy: ds.height / 2, zoom: clampZoom(ds, ds.maxZoom + Math.log2(s)) };
}

/** The tile level for this zoom: the first whose pixels are at least as dense as the screen's. */
export function levelFor(ds: DatasetConfig, cam: Camera, dpr = 1): number {
  const z = Math.ceil(cam.zoom + Math.log2(dpr) - 0.05);
  return Math.min(ds.maxZoom, Math.max(ds.minZoom, z));
}

/** Zoom by `factor` keeping the image point under (sx, sy) fixed on screen. */
export function zoomAt(
  ds: DatasetConfig,
  cam: Camera,
  factor: number,
  sx: number,
  sy: number,
  viewW: number,
  viewH: number,
): Camera {
  const s0 = scaleOf(ds, cam);
  const zoom = clampZoom(ds, cam.zoom + Math.log2(factor));
  const s1 = 2 ** (zoom - ds.maxZoom);
  const ix = cam.cx + (sx - viewW / 2) / s0;
  const iy = cam.cy + (sy - viewH / 2) / s0;
  return clampCentre(ds, { zoom, cx: ix - (sx - viewW / 2) / s1, cy: iy - (sy - viewH / 2) / s1 });
}

/** Move the view by a screen-space delta (drag right moves the image right). */
export function panBy(ds: DatasetConfig, cam: Camera, dx: number, dy: number): Camera {
  const s = scaleOf(ds, cam);
  return clampCentre(ds, { ...cam, cx: cam.cx - dx / s, cy: cam.cy - dy / s });
}

/** Keeps the centre over the image so the view can never be lost off to one side. */
function clampCentre(ds: DatasetConfig, cam: Camera): Camera {
  return {
    zoom: cam.zoom,
    cx: Math.min(ds.width, Math.max(0, cam.cx)),
    cy: Math.min(ds.height, Math.max(0, cam.cy)),
  };
}

/** Screen rectangle (CSS px) of a tile. */
export function tileRect(ds: DatasetConfig, cam: Camera, t: TileRef, viewW: number, viewH: number): Rect {
  const s = scaleOf(ds, cam);
  const size = ds.tileSize * 2 ** (ds.maxZoom - t.z) * s;
  return {
    x: viewW / 2 + (t.x * ds.tileSize * 2 ** (ds.maxZoom - t.z) - cam.cx) * s,
    y: viewH / 2 + (t.y * ds.tileSize * 2 ** (ds.maxZoom - t.z) - cam.cy) * s,
    w: size,
    h: size,
  };
}

/** Tiles of level z that intersect the view, nearest the centre first (they load first). */
export function visibleTiles(
  ds: DatasetConfig,
  cam: Camera,
  z: number,
  viewW: number,
  viewH: number,
): TileRef[] {
  const s = scaleOf(ds, cam);
  const span = ds.tileSize * 2 ** (ds.maxZoom - z);
  const { cols, rows } = levelGrid(ds, z);
  const left = cam.cx - viewW / 2 / s;
  const top = cam.cy - viewH / 2 / s;
  const x0 = Math.max(0, Math.floor(left / span));
  const y0 = Math.max(0, Math.floor(top / span));
  const x1 = Math.min(cols - 1, Math.floor((left + viewW / s - 1e-9) / span));
  const y1 = Math.min(rows - 1, Math.floor((top + viewH / s - 1e-9) / span));
  const out: TileRef[] = [];
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) out.push({ z, x, y });
  const mx = cam.cx / span - 0.5;
  const my = cam.cy / span - 0.5;
  return out.sort((a, b) => (a.x - mx) ** 2 + (a.y - my) ** 2 - ((b.x - mx) ** 2 + (b.y - my) ** 2));
}

export function tileKey(t: TileRef): string {
  return `${t.z}/${t.x}/${t.y}`;
}
