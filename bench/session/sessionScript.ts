// The navigation session every path and viewer replays (issue 13): open at fit,
// zoom in 3 times at one point, pan half a viewport 4 times in two directions,
// zoom out once, pan back to where the pans began. Actions are in viewer-neutral
// units (fractions of the image, of the viewport) so OpenSeadragon and Leaflet
// run the same script through their own APIs (sessionPage.ts).

export type SessionAction =
  | { kind: 'open' }
  /** Zoom by `factor` keeping the image point (`fx`, `fy`, fractions of its width/height) in place. */
  | { kind: 'zoomAt'; factor: number; fx: number; fy: number }
  /** Zoom by `factor` about the view's centre. */
  | { kind: 'zoom'; factor: number }
  /** Pan by fractions of the viewport (0.5 = half a viewport). */
  | { kind: 'pan'; dx: number; dy: number }
  /** Pan back to the centre the view had when `mark` was set (at the current zoom). */
  | { kind: 'back' };

export interface SessionStep {
  label: string;
  action: SessionAction;
  /** Remember this step's centre for a later `back`. */
  mark?: boolean;
}

const AT = { fx: 0.35, fy: 0.4 };

export const SESSION: readonly SessionStep[] = [
  { label: 'open at fit', action: { kind: 'open' } },
  { label: 'zoom in 1', action: { kind: 'zoomAt', factor: 2, ...AT } },
  { label: 'zoom in 2', action: { kind: 'zoomAt', factor: 2, ...AT } },
  { label: 'zoom in 3', action: { kind: 'zoomAt', factor: 2, ...AT }, mark: true },
  { label: 'pan right 1', action: { kind: 'pan', dx: 0.5, dy: 0 } },
  { label: 'pan right 2', action: { kind: 'pan', dx: 0.5, dy: 0 } },
  { label: 'pan down 1', action: { kind: 'pan', dx: 0, dy: 0.5 } },
  { label: 'pan down 2', action: { kind: 'pan', dx: 0, dy: 0.5 } },
  { label: 'zoom out', action: { kind: 'zoom', factor: 0.5 } },
  { label: 'pan back to start', action: { kind: 'back' } },
];

/** What the page reports for one step, ms from the step's start. */
export interface StepResult {
  /** Until the viewer reported fully loaded (OSD: the item's fully-loaded flag; Leaflet: the layer's `load`, or 0 when the step needed no tile). */
  loaded: number;
  /** Until the first tile the step asked for arrived (OSD `tile-loaded`, Leaflet `tileload`); null: the step needed none. */
  firstTile: number | null;
  /** Until no sample point of the image inside the view lacked a drawn tile of any level (0: never blank). */
  blank: number;
  /** Tiles loaded during the step. */
  tiles: number;
}

/** The viewer's image: 8192 px square, 256-px tiles, levels 0 (one tile) to 5 (32 × 32). */
export const IMAGE = { size: 8192, tileSize: 256, maxZ: 5 } as const;
/** The viewer's element, CSS px. */
export const VIEW = { width: 1024, height: 768 } as const;
