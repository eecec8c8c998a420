import { afterEach, describe, expect, it, vi } from 'vitest';
import { isTileError } from '../protocol/errors.js';
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

  it('a write that never settles: its adds settle at maxWriteMs, counted, and the next group is still written', async () => {
    fake();
    const groups: number[][] = [];
    let timeouts = 0;
    const wb = new WriteBehind<number>({
      write: async (group) => {
        groups.push(group);
        // The first group's storage call never answers (a Cache Storage put, an IndexedDB transaction).
        if (groups.length === 1) await new Promise<void>(() => {});
      },
      delayMs: 30,
      groupSize: 100,
      maxWriteMs: 5000,
      onTimeout: () => timeouts++,
    });
    const settled: number[] = [];
    for (const i of [1, 2, 3]) void wb.add(i).then(() => settled.push(i));
    await vi.advanceTimersByTimeAsync(30);
    expect(groups).toEqual([[1, 2, 3]]);
    await vi.advanceTimersByTimeAsync(4900);
    expect(settled).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    // Each of these is some fetch event's waitUntil: none stays pending past the deadline.
    expect(settled).toEqual([1, 2, 3]);
    expect(timeouts).toBe(1);
    const later = wb.add(4).then(() => settled.push(4));
    await vi.advanceTimersByTimeAsync(30);
    await later;
    expect(groups).toEqual([[1, 2, 3], [4]]);
    expect(settled).toEqual([1, 2, 3, 4]);
    expect(timeouts).toBe(1);
  });

  it('an explicit flush of a write that never settles rejects with DEADLINE_EXCEEDED at maxWriteMs', async () => {
    fake();
    const wb = new WriteBehind<number>({
      write: () => new Promise<void>(() => {}),
      delayMs: 30,
      groupSize: 100,
      maxWriteMs: 1000,
    });
    let item = 'pending';
    void wb.add(1).then(() => (item = 'settled'));
    let flushed = 'pending';
    void wb.flush().then(
      () => (flushed = 'resolved'),
      (e: unknown) => (flushed = isTileError(e, 'DEADLINE_EXCEEDED') ? 'deadline' : 'other'),
    );
    await vi.advanceTimersByTimeAsync(1000);
    expect(flushed).toBe('deadline');
    expect(item).toBe('settled');
  });

  it('the idle waits of one group add up to maxDeferMs, not maxDeferMs per item', async () => {
    fake();
    let idleCalls = 0;
    const wb = new WriteBehind<number>({
      // Like the persistent tier: one idle wait before each body.
      write: async (group, idle) => {
        for (const _ of group) {
          idleCalls++;
          await idle();
        }
      },
      delayMs: 30,
      groupSize: 5,
      busy: () => true, // the page never stops asking
      maxDeferMs: 1000,
    });
    let settled = 0;
    for (let i = 0; i < 5; i++) void wb.add(i).then(() => settled++);
    // The group starts maxDeferMs after its first item, then waits maxDeferMs for the page in all
    // (one delayMs step of slack each), then writes every body: 2 s, not 1 s + 5 × 1 s.
    await vi.advanceTimersByTimeAsync(2 * (1000 + 30));
    expect(idleCalls).toBe(5);
    expect(settled).toBe(5);
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
