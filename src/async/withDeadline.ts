import { TileError } from '../protocol/errors.js';

/**
 * `p`, or a DEADLINE_EXCEEDED rejection naming `what` after `ms`. The wait
 * ends, the work behind `p` does not (storage APIs take no AbortSignal); the
 * point is that nobody waiting on it (a fetch event's `waitUntil`, a queue)
 * is held by a call that never settles.
 */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new TileError('DEADLINE_EXCEEDED', `${what} not done within ${ms} ms`)),
      ms,
    );
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
