// The session as a picture (BENCHMARKS-session.svg): one panel per engine and
// viewer, one group of bars per step, one bar per path. A bar's height is the
// step's median time until the viewer reported fully loaded; its dark lower
// part is the median blank time; the tick is the median first new tile.
// Hand-written SVG: no plotting dependency for one chart.
import type { SessionRun } from './measureSession.js';
import type { SwMode, Viewer } from './runSession.js';
import { SESSION } from './sessionScript.js';
import { median, runsOf, stepMedians } from './sessionStats.js';

export const PATH_LABEL: Record<SwMode, string> = {
  none: 'no worker',
  map: 'minimal in-memory worker',
  workbox: 'Workbox CacheFirst',
  ours: 'ours',
};
const COLOR: Record<SwMode, [string, string]> = {
  none: ['#9aa5b1', '#52606d'],
  map: ['#c3b1e1', '#6b4fa0'],
  workbox: ['#f7c08a', '#b5651d'],
  ours: ['#7cc4a4', '#1f7a55'],
};
const VIEWER_LABEL: Record<Viewer, string> = { osd: 'OpenSeadragon', leaflet: 'Leaflet' };
const MODES: SwMode[] = ['none', 'map', 'workbox', 'ours'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round axis maximum and its tick step for values up to `max` ms. */
export function axis(max: number): { top: number; step: number } {
  const m = Math.max(max, 1);
  const raw = m / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  return { top: Math.ceil(m / step) * step, step };
}

const W = 980;
const PANEL_H = 250;
const LEFT = 56;
const RIGHT = 12;
const TOP = 34;
const BOTTOM = 46;

function panel(runs: SessionRun[], engine: string, viewer: Viewer, y0: number): string {
  const modes = MODES.filter((m) => runsOf(runs, viewer, m).length > 0);
  const med = new Map(modes.map((m) => [m, stepMedians(runsOf(runs, viewer, m))]));
  const max = Math.max(...[...med.values()].flatMap((s) => s.map((x) => x.loaded)).filter(Number.isFinite));
  const { top, step } = axis(max);
  const plotH = PANEL_H - TOP - BOTTOM;
  const plotW = W - LEFT - RIGHT;
  const y = (v: number) => y0 + TOP + plotH - (Math.min(v, top) / top) * plotH;
  const group = plotW / SESSION.length;
  const bar = (group * 0.8) / Math.max(modes.length, 1);
  const out: string[] = [];
  const totals = modes
    .map((m) => `${PATH_LABEL[m]} ${median(runsOf(runs, viewer, m).map((r) => r.total)).toFixed(0)} ms`)
    .join(' · ');
  out.push(
    `<text x="${LEFT}" y="${y0 + 18}" font-size="14" font-weight="bold">${esc(`${engine} · ${VIEWER_LABEL[viewer]}`)}</text>`,
    `<text x="${W - RIGHT}" y="${y0 + 18}" font-size="11" text-anchor="end">${esc(`session total (median): ${totals}`)}</text>`,
  );
  for (let v = 0; v <= top + 1e-9; v += step) {
    out.push(
      `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e4e7eb"/>`,
      `<text x="${LEFT - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="10" text-anchor="end">${v.toFixed(0)}</text>`,
    );
  }
  out.push(
    `<text x="14" y="${y0 + TOP + plotH / 2}" font-size="10" transform="rotate(-90 14 ${y0 + TOP + plotH / 2})" text-anchor="middle">ms</text>`,
  );
  SESSION.forEach((s, i) => {
    const gx = LEFT + i * group + group * 0.1;
    modes.forEach((m, k) => {
      const st = med.get(m)![i]!;
      const x = gx + k * bar;
      const [light, dark] = COLOR[m];
      const title = `${PATH_LABEL[m]}, ${s.label}: loaded ${st.loaded.toFixed(0)} ms, first tile ${Number.isFinite(st.firstTile) ? `${st.firstTile.toFixed(0)} ms` : '–'}, blank ${st.blank.toFixed(0)} ms`;
      if (Number.isFinite(st.loaded)) {
        out.push(
          `<rect x="${x.toFixed(1)}" y="${y(st.loaded).toFixed(1)}" width="${(bar - 1).toFixed(1)}" height="${(y(0) - y(st.loaded)).toFixed(1)}" fill="${light}"><title>${esc(title)}</title></rect>`,
        );
      }
      if (Number.isFinite(st.blank) && st.blank > 0) {
        out.push(
          `<rect x="${x.toFixed(1)}" y="${y(st.blank).toFixed(1)}" width="${(bar - 1).toFixed(1)}" height="${(y(0) - y(st.blank)).toFixed(1)}" fill="${dark}"/>`,
        );
      }
      if (Number.isFinite(st.firstTile)) {
        out.push(
          `<line x1="${x.toFixed(1)}" x2="${(x + bar - 1).toFixed(1)}" y1="${y(st.firstTile).toFixed(1)}" y2="${y(st.firstTile).toFixed(1)}" stroke="#111" stroke-width="1.5"/>`,
        );
      }
    });
    out.push(
      `<text x="${(LEFT + i * group + group / 2).toFixed(1)}" y="${y0 + TOP + plotH + 14}" font-size="10" text-anchor="middle">${esc(s.label)}</text>`,
    );
  });
  modes.forEach((m, k) => {
    const lx = LEFT + k * 190;
    const ly = y0 + PANEL_H - 14;
    out.push(
      `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${COLOR[m][0]}"/>`,
      `<rect x="${lx + 10}" y="${ly - 9}" width="5" height="10" fill="${COLOR[m][1]}"/>`,
      `<text x="${lx + 20}" y="${ly}" font-size="11">${esc(PATH_LABEL[m])}</text>`,
    );
  });
  return out.join('\n');
}

/** The whole plot; panels for each engine and viewer that has runs. */
export function sessionPlot(chromium: SessionRun[], firefox: SessionRun[]): string {
  const panels: Array<[SessionRun[], string, Viewer]> = [];
  for (const [runs, engine] of [
    [chromium, 'Chromium, HTTP/2'],
    [firefox, 'Firefox, HTTP/2'],
  ] as const) {
    for (const v of ['osd', 'leaflet'] as const)
      if (runs.some((r) => r.viewer === v)) panels.push([runs, engine, v]);
  }
  const head = 40;
  const h = head + panels.length * PANEL_H + 10;
  const body = panels.map(([runs, engine, v], i) => panel(runs, engine, v, head + i * PANEL_H)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif" role="img" aria-labelledby="session-plot-title">
<title id="session-plot-title">Navigation session per step and path: time until fully loaded, blank time and first new tile (BENCHMARKS.md, Navigation session)</title>
<rect width="100%" height="100%" fill="#fff"/>
<text x="${LEFT}" y="22" font-size="15" font-weight="bold">Navigation session per step: bar = until the viewer reported fully loaded, dark part = blank, tick = first new tile (medians, ms)</text>
${body}
</svg>
`;
}
