import { TileError } from '../../src/protocol/errors.js';

/**
 * Waits for `p` at most `ms`, and not past `signal`. ioredis commands cannot
 * be cancelled, so the command itself runs on (its reply is dropped, and
 * ioredis' own commandTimeout settles it); what matters is that the tile path
 * stops waiting. Rejects with DEADLINE_EXCEEDED or ABORTED; leaves no timer
 * or listener behind.
 */
export function raceDeadline<T>(p: Promise<T>, ms: number, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(new TileError('ABORTED', 'request aborted'));
  }
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(new TileError('ABORTED', 'request aborted'));
    };
    const timer = setTimeout(() => {
      done();
      reject(new TileError('DEADLINE_EXCEEDED', 'shared cache deadline exceeded', { ms }));
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        done();
        resolve(v);
      },
      (e: unknown) => {
        done();
        reject(e);
      },
    );
  });
}
