import { describe, expect, it } from 'vitest';
import { LatencyWindow } from './LatencyWindow.js';

describe('LatencyWindow', () => {
  it('gives nearest-rank percentiles and 0 when empty', () => {
    const w = new LatencyWindow(1000);
    expect(w.percentile(50)).toBe(0);
    for (let i = 100; i >= 1; i--) w.add(i);
    expect(w.percentile(50)).toBe(50);
    expect(w.percentile(95)).toBe(95);
    expect(w.percentile(100)).toBe(100);
  });

  it('keeps only the last `size` samples', () => {
    const w = new LatencyWindow(10);
    for (let i = 0; i < 10; i++) w.add(1000);
    for (let i = 0; i < 10; i++) w.add(1);
    expect(w.percentile(95)).toBe(1);
  });
});
