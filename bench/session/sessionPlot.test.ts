import { describe, expect, it } from 'vitest';
import type { SessionRun } from './measureSession.js';
import { axis, sessionPlot } from './sessionPlot.js';
import { SESSION } from './sessionScript.js';

const run = (mode: SessionRun['mode'], viewer: SessionRun['viewer'], loaded: number): SessionRun => ({
  engine: 'chromium',
  viewer,
  mode,
  dataset: 's0',
  steps: SESSION.map((_, i) => ({
    loaded: loaded + i,
    firstTile: i === 9 ? null : 10,
    blank: i === 0 ? 50 : 0,
    tiles: 4,
  })),
  total: 0,
  prefetched: null,
  prefetchUsed: null,
  protocols: {},
  originGets: 0,
  originTiles: 0,
  serverBytes: 0,
  serverRequests: 0,
  shown: 0,
  visibleBytes: 0,
  notShown: 0,
  notShownBytes: 0,
});

describe('sessionPlot', () => {
  it('draws one panel per engine and viewer with runs, one bar per step and path', () => {
    const svg = sessionPlot([run('none', 'osd', 100), run('ours', 'osd', 200)], [run('map', 'leaflet', 300)]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/font-weight="bold">[^<]+</g)?.slice(1)).toEqual([
      'font-weight="bold">Chromium, HTTP/2 · OpenSeadragon<',
      'font-weight="bold">Firefox, HTTP/2 · Leaflet<',
    ]);
    // A <title> per loaded bar: 10 steps × 2 paths + 10 × 1.
    expect(svg.match(/<title>/g)).toHaveLength(30);
    expect(svg).toContain('<title id="session-plot-title">');
    expect(svg).toContain('ours, pan back to start: loaded 209 ms, first tile –, blank 0 ms');
    expect(svg).toContain('first tile –');
    expect(svg).not.toContain('NaN');
  });

  it('picks a round axis above the largest value', () => {
    expect(axis(0)).toEqual({ top: 1, step: 0.25 });
    expect(axis(730)).toEqual({ top: 800, step: 200 });
    expect(axis(1000)).toEqual({ top: 1000, step: 250 });
  });
});
