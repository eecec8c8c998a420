import { afterEach } from 'vitest';
import { type Stack, type StackOptions, startStack } from './startStack.js';

/**
 * For vitest files: `const start = useStack();` at the top, then
 * `await start(opts)` in a test. Every stack a test started is closed after
 * it, failed or not, so no port or origin pool outlives its test.
 */
export function useStack(): (opts?: StackOptions) => Promise<Stack> {
  const open: Stack[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return async (opts = {}) => {
    const s = await startStack(opts);
    open.push(s);
    return s;
  };
}
