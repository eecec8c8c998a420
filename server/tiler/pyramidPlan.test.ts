import { describe, expect, it } from 'vitest';
import { defaultMaxZoom, planPyramid } from './pyramidPlan.js';

describe('planPyramid', () => {
  it('makes the sample layout: 8192 px wide at z=5, rows past the bottom left out', () => {
    const p = planPyramid(1000, 872, 256, 5);
    expect(p.levels.map((l) => [l.z, l.width, l.height, l.cols, l.rows])).toEqual([
      [0, 256, 223, 1, 1],
      [1, 512, 446, 2, 2],
      [2, 1024, 893, 4, 4],
      [3, 2048, 1786, 8, 7],
      [4, 4096, 3572, 16, 14],
      [5, 8192, 7143, 32, 28],
    ]);
    expect([p.width, p.height, p.totalTiles]).toEqual([8192, 7143, 1 + 4 + 16 + 56 + 224 + 896]);
  });

  it('sizes a portrait image by its height so x and y stay below 2^z', () => {
    const p = planPyramid(300, 1000, 256, 2);
    const z2 = p.levels[2]!;
    expect([z2.width, z2.height, z2.cols, z2.rows]).toEqual([307, 1024, 2, 4]);
    for (const l of p.levels) expect(Math.max(l.cols, l.rows)).toBeLessThanOrEqual(2 ** l.z);
  });

  it('picks the shallowest zoom that does not downsample the source', () => {
    expect(defaultMaxZoom(256, 100, 256)).toBe(0);
    expect(defaultMaxZoom(257, 100, 256)).toBe(1);
    expect(defaultMaxZoom(1000, 872, 256)).toBe(2);
    expect(defaultMaxZoom(20000, 20000, 256)).toBe(7);
    expect(planPyramid(12000, 12000, 256).maxZoom).toBe(6);
  });

  it('rejects sizes that make no pyramid', () => {
    expect(() => planPyramid(0, 10, 256)).toThrow(expect.objectContaining({ code: 'BAD_IMAGE' }));
    expect(() => planPyramid(10, 10, 100.5)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(() => planPyramid(10, 10, 256, 17)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(() => planPyramid(10, 10, 256, -1)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});
