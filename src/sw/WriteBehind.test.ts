import { afterEach, describe, expect, it, vi } from 'vitest';
import { WriteBehind } from './WriteBehind.js';

/** Fake timers including performance.now(), which the policy measures its waits with. */
const fake = () =>
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  });
afterEach(() => {
  vi.useRealTimers();
});

function setup(o: { groupSize?: number; busy?: () => boolean; maxDeferMs?: number } = {}) {
  const groups: number[][] = [];
  const wb = new WriteBehind<number>({
    // Like the persistent tier: the group's records at once, then each body when idle.
    write: async (group, idle) => {
      groups.push(group);
      for (const _ of group) await idle();
    },
    delayMs: 30,
    groupSize: o.groupSize ?? 100,
    ...(o.busy ? { busy: o.busy } : {}),
    ...(o.maxDeferMs !== undefined ? { maxDeferMs: o.maxDeferMs } : {}),
  });
  return { wb, groups };
}

describe('WriteBehind', () => {
  it('writes one group delayMs after the last item of a burst, and settles every add with it', async () => {
    fake();
    const { wb, groups } = setup();
    const settled: number[] = [];
    for (let i = 0; i < 5; i++) {
      void wb.add(i).then(() => settled.push(i));
      await vi.advanceTimersByTimeAsync(20); // each item extends the quiet gap
    }
    expect(groups).toEqual([]);
    await vi.advanceTimersByTimeAsync(10);
    expect(groups).toEqual([[0, 1, 2, 3, 4]]);
    expect(settled).toEqual([0, 1, 2, 3, 4]);
  });

  it('writes at once when a group is full, and starts a new group after it', async () => {
    fake();
    const { wb, groups } = setup({ groupSize: 3 });
    const a = [1, 2, 3].map((i) => wb.add(i));
    await Promise.all(a);
    expect(groups).toEqual([[1, 2, 3]]);
    const b = wb.add(4);
    await vi.advanceTimersByTimeAsync(30);
    await b;
    expect(groups).toEqual([[1, 2, 3], [4]]);
  });

  it('waits while visible tiles are pending, but not past maxDeferMs', async () => {
    fake();
    let busy = true;
    const { wb, groups } = setup({ busy: () => busy, maxDeferMs: 1000 });
    void wb.add(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(groups).toEqual([]); // held back by the visible burst
    busy = false;
    await vi.advanceTimersByTimeAsync(30);
    expect(groups).toEqual([[1]]);
    busy = true;
    void wb.add(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(groups).toEqual([[1]]);
    await vi.advanceTimersByTimeAsync(100);
    expect(groups).toEqual([[1], [2]]); // its group started at the latest maxDeferMs after it was added
  });

  it('flush writes what is pending now; an empty flush writes nothing', async () => {
    const { wb, groups } = setup();
    await wb.flush();
    expect(groups).toEqual([]);
    const p = wb.add(7);
    await wb.flush();
    await p;
    expect(groups).toEqual([[7]]);
  });

  it('settles the adds even when the write fails', async () => {
    const wb = new WriteBehind<number>({
      write: async () => {
        throw new Error('disk gone');
      },
      delayMs: 1,
      groupSize: 1,
    });
    await expect(wb.add(1)).resolves.toBeUndefined();
  });
});
