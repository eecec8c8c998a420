import { expect, type Page, test } from '@playwright/test';
import { openControlled, type SwStack, startSwStack, waitForStats } from './swStack.js';

// What the worker spends prefetch on, counted at the server: batches go as
// GET so their keys are in the URL the server logs.

let stack: SwStack | undefined;
test.afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** Keys of every batch the server saw from `from` on. */
const batchKeys = (s: SwStack, from = 0) =>
  s.serverRequests
    .slice(from)
    .filter((r) => /\/api\/tiles\/sample\/batch\?/.test(r.url))
    .flatMap((r) => new URLSearchParams(r.url.split('?')[1]).getAll('tiles'));

type Shown = Array<{ ok: boolean }>;
const show = (page: Page, x0: number, y0: number, cols: number, rows: number) =>
  page.evaluate(
    ([a, b, c, d]) =>
      (globalThis as unknown as { showTiles(...args: unknown[]): Promise<Shown> }).showTiles(
        'sample',
        4,
        a,
        b,
        c,
        d,
      ),
    [x0, y0, cols, rows],
  );

const num = (v: unknown) => Number(v);

test('prefetch follows the motion: after pans to the right, the prefetched tiles are to the right', async ({
  page,
}) => {
  stack = await startSwStack();
  await openControlled(page, stack.pageUrl({ batch: { method: 'GET' } }));
  await show(page, 0, 4, 8, 8); // x 0..7, y 4..11
  // First view, no motion known: parents (16) and the ring, clipped at x -1 (26).
  await waitForStats(page, (s) => num(s['prefetched']) >= 42 && num(s['in_flight']) === 0);
  await show(page, 8, 4, 2, 8); // two columns right; column 8 came from the ring
  // The plan: the new parents (column 4 of z 3) and the next two columns, 10 and 11.
  await waitForStats(page, (s) => num(s['prefetched']) >= 62 && num(s['in_flight']) === 0);
  const from = stack.serverRequests.length;
  const before = await waitForStats(page, () => true);
  const shown = await show(page, 10, 4, 2, 8); // and again
  expect(shown.filter((s) => s.ok)).toHaveLength(16);
  const after = await waitForStats(page, (s) => num(s['prefetched']) >= 82 && num(s['in_flight']) === 0);
  // The pan's tiles were all there: none was fetched for it...
  expect(num(after['cache_misses'])).toBe(num(before['cache_misses']));
  expect(num(after['prefetch_used']) - num(before['prefetch_used'])).toBe(16);
  // ...and what the server was asked for since is ahead of the motion: columns 12 and 13.
  const keys = batchKeys(stack, from);
  const level4 = keys.filter((k) => k.startsWith('4/')).map((k) => Number(k.split('/')[1]));
  expect(level4).toHaveLength(16);
  expect(level4.every((x) => x === 12 || x === 13)).toBe(true);
  expect(keys.filter((k) => !k.startsWith('4/')).sort()).toEqual([
    '3/5/2.jpg',
    '3/5/3.jpg',
    '3/5/4.jpg',
    '3/5/5.jpg',
  ]);
});
