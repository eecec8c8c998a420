import { describe, expect, it, vi } from 'vitest';
import { neighbours, Prefetcher, type PrefetcherOptions, type PrefetchTask } from './Prefetcher.js';

const task = (i: number): PrefetchTask => ({
  url: `u${i}`,
  dataset: 'ds',
  key: `5/${i}/0.png`,
  batchUrl: 'b',
});

function make(extra: Partial<PrefetcherOptions>) {
  const ran: string[] = [];
  const p = new Prefetcher({
    enabled: true,
    maxInFlight: 2,
    perSecond: 1000,
    maxQueue: 100,
    busy: () => false,
    saveData: () => false,
    run: async (t) => {
      ran.push(t.url);
      return true;
    },
    pauseMs: 1,
    ...extra,
  });
  return { p, ran };
}

describe('neighbours', () => {
  it('gives the same-zoom ring and the parent, clipped to the level', () => {
    const n = neighbours({ z: 2, x: 0, y: 1, ext: 'jpg' }, 1, true);
    expect(n.map((c) => `${c.z}/${c.x}/${c.y}`).sort()).toEqual(
      ['2/0/0', '2/1/0', '2/1/1', '2/0/2', '2/1/2', '1/0/0'].sort(),
    );
    expect(neighbours({ z: 0, x: 0, y: 0, ext: 'jpg' }, 1, true)).toEqual([]);
  });
});

describe('Prefetcher', () => {
  it('never runs more than maxInFlight at once', async () => {
    let running = 0;
    let peak = 0;
    const { p } = make({
      run: async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return true;
      },
    });
    p.add(Array.from({ length: 10 }, (_, i) => task(i)));
    await vi.waitFor(() => expect(p.queued + p.running).toBe(0), { timeout: 10_000 });
    expect(peak).toBe(2);
  });

  it('waits while visible tiles are busy', async () => {
    let busy = true;
    const { p, ran } = make({ busy: () => busy });
    p.add([task(1)]);
    await new Promise((r) => setTimeout(r, 20));
    expect(ran).toEqual([]);
    busy = false;
    await vi.waitFor(() => expect(ran).toEqual(['u1']), { timeout: 10_000 });
  });

  it('keeps to the per-second cap', async () => {
    let t = 0;
    const { p, ran } = make({ perSecond: 3, maxInFlight: 100, now: () => t });
    p.add(Array.from({ length: 10 }, (_, i) => task(i)));
    await new Promise((r) => setTimeout(r, 10));
    expect(ran).toHaveLength(3);
    t = 1000;
    await vi.waitFor(() => expect(ran).toHaveLength(6), { timeout: 10_000 });
    p.cancel();
  });

  it('prefetches nothing under Save-Data', () => {
    const { p, ran } = make({ saveData: () => true });
    expect(p.add([task(1)])).toBe(0);
    expect(ran).toEqual([]);
  });

  it('runs the newest targets first and bounds its queue', async () => {
    const { p, ran } = make({ maxInFlight: 1, maxQueue: 3, busy: () => false });
    p.add([task(1)]); // starts at once
    p.add([task(2), task(3), task(4), task(5)]); // u2 falls out of the queue of 3
    await vi.waitFor(() => expect(ran).toHaveLength(4), { timeout: 10_000 });
    expect(ran).toEqual(['u1', 'u5', 'u4', 'u3']);
  });
});
