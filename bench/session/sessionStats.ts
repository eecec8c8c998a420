// Medians over a path's runs, per step and per session (report.ts, sessionPlot.ts).

import type { SessionRun } from './measureSession.js';
import type { SwMode, Viewer } from './runSession.js';
import { SESSION, type StepResult } from './sessionScript.js';

export const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export interface StepMedians {
  loaded: number;
  /** NaN when no run's step loaded a tile. */
  firstTile: number;
  blank: number;
}

/** The runs of one path in one viewer. */
export const runsOf = (runs: SessionRun[], viewer: Viewer, mode: SwMode) =>
  runs.filter((r) => r.viewer === viewer && r.mode === mode);

/** Per step, the medians over `runs` of each measure. */
export function stepMedians(runs: SessionRun[]): StepMedians[] {
  return SESSION.map((_, i) => {
    const steps = runs.map((r) => r.steps[i]).filter((s): s is StepResult => s !== undefined);
    return {
      loaded: median(steps.map((s) => s.loaded)),
      firstTile: median(steps.filter((s) => s.firstTile !== null).map((s) => s.firstTile as number)),
      blank: median(steps.map((s) => s.blank)),
    };
  });
}

/** Median of one numeric field over runs. */
export const med = (runs: SessionRun[], f: (r: SessionRun) => number | null) =>
  median(runs.map(f).filter((x): x is number => x !== null));
