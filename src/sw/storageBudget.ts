const FALLBACK_BUDGET = 256 * 1024 * 1024;

export interface BudgetSettings {
  /** A fixed budget; wins over the fraction. */
  budgetBytes?: number | undefined;
  /** Share of the origin's storage quota (`navigator.storage.estimate()`). */
  budgetFraction: number;
}

/**
 * The persistent tier's byte budget, resolved once on first use: `budgetBytes`
 * when set, else `budgetFraction` of the quota the browser reports, else
 * 256 MiB (no estimate, or it failed).
 */
export function storageBudget(
  s: BudgetSettings,
  estimate?: () => Promise<{ quota?: number | undefined }>,
): () => Promise<number> {
  let value: Promise<number> | undefined;
  return () => {
    value ??= (async () => {
      if (s.budgetBytes !== undefined) return s.budgetBytes;
      try {
        const q = (await estimate?.())?.quota;
        return q ? Math.floor(q * s.budgetFraction) : FALLBACK_BUDGET;
      } catch {
        return FALLBACK_BUDGET;
      }
    })();
    return value;
  };
}
