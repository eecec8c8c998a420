import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `cond` every `everyMs` until it holds; rejects after `ms` so a test
 * fails instead of hanging, with a message naming the condition that did not
 * come true (its source text, or `what`). The deadline is generous (10 s, half
 * the node project's test timeout): it only decides how a broken test fails,
 * never whether a slow, loaded machine passes.
 */
export async function until(cond: () => boolean, ms = 10_000, everyMs = 10, what?: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not met within ${ms} ms: ${what ?? condText(cond)}`);
    await sleep(everyMs);
  }
}

function condText(cond: () => boolean): string {
  return cond.toString().replace(/\s+/g, ' ').slice(0, 200);
}
