import { afterEach, describe, expect, it } from 'vitest';
import { type CpuHog, startCpuHog } from './cpuHog';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Polls until every pid is gone; the deadline's message names the survivors.
async function allExit(pids: readonly number[], deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0) return;
    if (Date.now() > end)
      throw new Error(`hog processes ${left.join(', ')} still running after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let hog: CpuHog | undefined;
afterEach(() => hog?.stop());

describe('startCpuHog', () => {
  it('starts the busy processes and each exits by itself after its bound', async () => {
    hog = startCpuHog({ processes: 2, boundMs: 200, cpu: 0 });
    expect(hog.pids).toHaveLength(2);
    expect(hog.pids.every((p) => p > 0)).toBe(true);
    // No stop(): they must go on their own (deadline far above the 200 ms bound).
    await allExit(hog.pids, 15_000);
  });

  it('stop() kills them before their bound', async () => {
    hog = startCpuHog({ processes: 2, boundMs: 10 * 60_000, cpu: 0 });
    expect(hog.pids.every(alive)).toBe(true);
    hog.stop();
    await allExit(hog.pids, 15_000);
  });
});
