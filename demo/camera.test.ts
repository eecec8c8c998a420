import { describe, expect, it } from 'vitest';
import { fitCamera, levelFor, panBy, tileRect, visibleTiles, zoomAt } from './camera.js';
import { levelGrid, SAMPLE } from './config.js';

describe('demo camera', () => {
  it('matches the tiler grid of the sample (x, y < 2^z; rows past the image bottom absent)', () => {
    expect(levelGrid(SAMPLE, 0)).toEqual({ cols: 1, rows: 1 });
    expect(levelGrid(SAMPLE, 3)).toEqual({ cols: 8, rows: 7 });
    expect(levelGrid(SAMPLE, 5)).toEqual({ cols: 32, rows: 28 });
  });

  it('fits the whole image and picks a level whose tiles cover the view', () => {
    const cam = fitCamera(SAMPLE, 1024, 768);
    const z = levelFor(SAMPLE, cam);
    expect(z).toBe(2);
    const tiles = visibleTiles(SAMPLE, cam, z, 1024, 768);
    // level 2 is 4 x 4 tiles, all of them on screen
    expect(tiles).toHaveLength(16);
    for (const t of tiles) {
      const r = tileRect(SAMPLE, cam, t, 1024, 768);
      expect(r.x + r.w).toBeGreaterThan(0);
      expect(r.x).toBeLessThan(1024);
    }
  });

  it('keeps the point under the cursor fixed when zooming', () => {
    const cam = fitCamera(SAMPLE, 800, 600);
    const z = zoomAt(SAMPLE, cam, 2, 100, 150, 800, 600);
    expect(z.zoom).toBeCloseTo(cam.zoom + 1);
    const before = {
      x: cam.cx + (100 - 400) / 2 ** (cam.zoom - 5),
      y: cam.cy + (150 - 300) / 2 ** (cam.zoom - 5),
    };
    const after = { x: z.cx + (100 - 400) / 2 ** (z.zoom - 5), y: z.cy + (150 - 300) / 2 ** (z.zoom - 5) };
    expect(after.x).toBeCloseTo(before.x);
    expect(after.y).toBeCloseTo(before.y);
  });

  it('lists only tiles inside the grid, nearest the centre first, at deep zoom', () => {
    const cam = { cx: 8192 - 10, cy: 7143 - 10, zoom: 5 };
    const tiles = visibleTiles(SAMPLE, cam, 5, 1024, 768);
    expect(tiles.length).toBeGreaterThan(0);
    for (const t of tiles) {
      expect(t.x).toBeLessThan(32);
      expect(t.y).toBeLessThan(28);
    }
    expect(tiles[0]).toEqual({ z: 5, x: 31, y: 27 });
  });

  it('pans in screen space and never loses the image', () => {
    const cam = { cx: 4000, cy: 3000, zoom: 5 };
    expect(panBy(SAMPLE, cam, 100, -50)).toEqual({ cx: 3900, cy: 3050, zoom: 5 });
    expect(panBy(SAMPLE, cam, -1e9, 1e9)).toEqual({ cx: 8192, cy: 0, zoom: 5 });
  });
});
