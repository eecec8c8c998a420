import { describe, expect, it } from 'vitest';
import { storageBudget } from './storageBudget.js';

describe('storageBudget', () => {
  it('prefers the fixed budget and never asks the browser then', async () => {
    let asked = 0;
    const b = storageBudget({ budgetBytes: 1234, budgetFraction: 0.5 }, async () => {
      asked++;
      return { quota: 1e9 };
    });
    expect(await b()).toBe(1234);
    expect(asked).toBe(0);
  });

  it('takes the fraction of the quota, resolved once', async () => {
    let asked = 0;
    const b = storageBudget({ budgetBytes: undefined, budgetFraction: 0.25 }, async () => {
      asked++;
      return { quota: 1000 };
    });
    expect([await b(), await b()]).toEqual([250, 250]);
    expect(asked).toBe(1);
  });

  it('falls back to 256 MiB without an estimate, a quota, or when the estimate fails', async () => {
    const MiB256 = 256 * 1024 * 1024;
    expect(await storageBudget({ budgetBytes: undefined, budgetFraction: 0.5 })()).toBe(MiB256);
    expect(await storageBudget({ budgetBytes: undefined, budgetFraction: 0.5 }, async () => ({}))()).toBe(
      MiB256,
    );
    const failing = storageBudget({ budgetBytes: undefined, budgetFraction: 0.5 }, async () => {
      throw new Error('no storage');
    });
    expect(await failing()).toBe(MiB256);
  });
});
