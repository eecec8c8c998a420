import { describe, expect, it } from 'vitest';
import type { TileCoord } from '../protocol/tileKey.js';
import { PrefetchPlanner, type ServedTile } from './PrefetchPlanner.js';

const url = (c: TileCoord) => `https://t.test/api/tiles/ds/${c.z}/${c.x}/${c.y}.${c.ext}`;
const tile = (z: number, x: number, y: number): ServedTile => ({
  url: url({ z, x, y, ext: 'jpg' }),
  dataset: 'ds',
  coord: { z, x, y, ext: 'jpg' },
  batchUrl: 'https://t.test/api/tiles/ds/batch',
  sibling: url,
});

/** Serves a block of tiles at level z. */
function view(p: PrefetchPlanner, z: number, x0: number, y0: number, cols: number, rows: number): void {
  for (let y = y0; y < y0 + rows; y++) for (let x = x0; x < x0 + cols; x++) p.served(tile(z, x, y));
}

const keys = (p: PrefetchPlanner, skip?: (u: string) => boolean) => p.plan(skip).map((t) => t.key);
const xy = (k: string) => k.split('.')[0]!.split('/').map(Number) as [number, number, number];

describe('PrefetchPlanner', () => {
  it('before any motion: the parent level first, then a ring around the view, clipped to the level', () => {
    const p = new PrefetchPlanner({ ring: 1, parent: true, budget: 100 });
    view(p, 3, 0, 2, 2, 2); // x 0..1, y 2..3 at z 3
    const k = keys(p);
    expect(k.slice(0, 1)).toEqual(['2/0/1.jpg']); // parents first (one tile covers the 2x2)
    expect(k.slice(1).sort()).toEqual(
      [
        '3/0/1.jpg',
        '3/1/1.jpg',
        '3/2/1.jpg',
        '3/2/2.jpg',
        '3/2/3.jpg',
        '3/0/4.jpg',
        '3/1/4.jpg',
        '3/2/4.jpg',
      ].sort(),
    );
  });

  it('after pans to the right, plans the next strips on the right, as deep as the last pan', () => {
    const p = new PrefetchPlanner({ ring: 1, parent: false, budget: 100 });
    view(p, 5, 0, 0, 8, 8);
    p.plan();
    view(p, 5, 8, 0, 4, 8); // half a view to the right
    const k = keys(p).map(xy);
    expect(k).toHaveLength(32);
    // Nearest column first, every target right of the view (x 4..11 now), none left or above/below it.
    expect(k.slice(0, 8).every(([, x]) => x === 12)).toBe(true);
    expect(k.every(([z, x, y]) => z === 5 && x >= 12 && x <= 15 && y >= 0 && y <= 7)).toBe(true);
  });

  it('follows a pan to the left and down, with the corner', () => {
    const p = new PrefetchPlanner({ ring: 0, parent: false, budget: 100 });
    view(p, 6, 10, 10, 4, 4);
    p.plan();
    view(p, 6, 9, 10, 1, 5); // one column left...
    view(p, 6, 9, 14, 4, 1); // ...and one row down
    const k = keys(p).map(xy);
    expect(k.length).toBeGreaterThan(0);
    expect(k.every(([, x, y]) => x < 9 || y > 14)).toBe(true);
    expect(k.map(([, x, y]) => `${x},${y}`)).toContain('8,15'); // the corner
  });

  it('after a zoom in, plans the next level around where the next zoom lands', () => {
    const p = new PrefetchPlanner({ ring: 1, parent: true, budget: 100 });
    view(p, 3, 0, 0, 4, 4);
    p.plan();
    // Zoom in at the view's top-left quarter centre: the new view is z 4, x 1..4, y 1..4 (centre 3).
    view(p, 4, 1, 1, 4, 4);
    const k = keys(p, (u) => u.includes('/ds/3/')).map(xy); // the parents are still cached
    expect(k).toHaveLength(4); // a quarter of a view
    // The first zoom was at p = 2*3 - 2*2 = 2; the next one centres on (2 + 3) / 2 = 2.5 at z 4, i.e. 5 at z 5.
    expect(k.map(([z, x, y]) => `${z}/${x}/${y}`).sort()).toEqual(['5/4/4', '5/4/5', '5/5/4', '5/5/5']);
  });

  it('keeps to its budget, best first', () => {
    const p = new PrefetchPlanner({ ring: 2, parent: true, budget: 5 });
    view(p, 4, 4, 4, 4, 4);
    const k = keys(p);
    expect(k).toHaveLength(5);
    expect(k.slice(0, 4).every((key) => key.startsWith('3/'))).toBe(true);
  });

  it('a fill-in of the known view is no motion', () => {
    const p = new PrefetchPlanner({ ring: 0, parent: false, budget: 100 });
    view(p, 5, 0, 0, 8, 8);
    p.plan();
    view(p, 5, 8, 0, 2, 8);
    const before = keys(p);
    view(p, 5, 3, 3, 1, 1); // inside the view: changes nothing
    expect(keys(p)).toEqual(before);
  });

  it('never plans a tile whose request was aborted, until the page asks for it again', () => {
    const p = new PrefetchPlanner({ ring: 1, parent: false, budget: 100 });
    view(p, 3, 2, 2, 1, 1);
    p.aborted(url({ z: 3, x: 3, y: 2, ext: 'jpg' }));
    expect(keys(p)).not.toContain('3/3/2.jpg');
    expect(p.hasLeft(url({ z: 3, x: 3, y: 2, ext: 'jpg' }))).toBe(true);
    p.served(tile(3, 3, 2));
    expect(p.hasLeft(url({ z: 3, x: 3, y: 2, ext: 'jpg' }))).toBe(false);
  });

  it('plans nothing before a tile was served', () => {
    expect(new PrefetchPlanner({ ring: 1, parent: true, budget: 10 }).plan()).toEqual([]);
  });
});
