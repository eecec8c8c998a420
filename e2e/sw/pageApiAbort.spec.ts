import { expect, test } from '@playwright/test';
import { openControlled, type SwStack, startSwStack } from './swStack.js';

// acc.stats / resetStats / prefetch / clear take `{ signal }`: an abort
// rejects the call with a TileError coded ABORTED and the page stops waiting;
// the worker may still do the work.

let stack: SwStack | undefined;
test.afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

test('page API calls reject ABORTED on an aborted signal and work without one', async ({ page }) => {
  stack = await startSwStack();
  await openControlled(page, stack.pageUrl());
  const result = await page.evaluate(async () => {
    type Opts = { signal?: AbortSignal };
    const acc = (
      globalThis as unknown as {
        acc: {
          stats(o?: Opts): Promise<Record<string, number>>;
          resetStats(o?: Opts): Promise<Record<string, number>>;
          prefetch(t: unknown, o?: Opts): Promise<{ accepted: number; rejected: number }>;
          clear(d?: string, o?: Opts): Promise<number>;
        };
      }
    ).acc;
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: { name?: string; code?: string }) => `${e.name}:${e.code}`,
      );
    const already = AbortSignal.abort();
    const before = await Promise.all([
      outcome(acc.stats({ signal: already })),
      outcome(acc.resetStats({ signal: already })),
      outcome(acc.prefetch(['/api/tiles/sample/4/1/1.jpg'], { signal: already })),
      outcome(acc.clear('sample', { signal: already })),
      outcome(acc.clear(undefined, { signal: already })),
    ]);
    // Aborted after the message went out, before the worker's answer can arrive (a later task).
    const during: string[] = [];
    for (const call of [
      (s: AbortSignal) => acc.stats({ signal: s }),
      (s: AbortSignal) =>
        acc.prefetch({ dataset: 'sample', z: 4, x0: 0, y0: 0, x1: 1, y1: 1, ext: 'jpg' }, { signal: s }),
      (s: AbortSignal) => acc.clear('sample', { signal: s }),
    ]) {
      const ac = new AbortController();
      const p = call(ac.signal);
      ac.abort();
      during.push(await outcome(p));
    }
    // The handle still works, with a live signal or none.
    const live = new AbortController().signal;
    const stats = await acc.stats({ signal: live });
    const prefetched = await acc.prefetch([{ dataset: 'sample', key: '4/2/2.jpg' }], { signal: live });
    return { before, during, total: typeof stats['total_requests'], prefetched: prefetched.accepted };
  });
  expect(result.before).toEqual(Array(5).fill('TileError:ABORTED'));
  expect(result.during).toEqual(Array(3).fill('TileError:ABORTED'));
  expect(result.total).toBe('number');
  expect(result.prefetched).toBe(1);
  // The prefetch the worker accepted reaches the server like any other.
  await expect.poll(() => stack!.origin.count('sample/4/2/2.jpg')).toBe(1);
});
