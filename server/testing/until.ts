import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `cond` every `everyMs` until it holds; rejects after `ms` so a test fails instead of hanging. */
export async function until(cond: () => boolean, ms = 5_000, everyMs = 10): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(everyMs);
  }
}
