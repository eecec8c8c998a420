import type { Writable } from 'node:stream';

/**
 * Resolves on the next `drain`, or on `close` so a writer whose client left
 * is never stuck waiting for a drain that cannot come.
 */
export function drainOrClose(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      w.off('drain', done);
      w.off('close', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
  });
}
