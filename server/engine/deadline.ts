import { errorFromSignal } from '../../src/async/errorFromSignal.js';
import { TileError } from '../../src/protocol/errors.js';

export interface Deadline {
  signal: AbortSignal;
  /** Clears the timer and unhooks the parent; call on every path. */
  clear(): void;
  /** Clears only the timer: the parent link stays (a stream outlives its header deadline). */
  clearTimer(): void;
}

/**
 * A child signal that aborts when `parent` aborts (same reason) or after `ms`
 * (reason: a TileError with `code`). Hand-rolled instead of
 * AbortSignal.any + AbortSignal.timeout because those timers cannot be
 * cleared, are invisible to fake timers in tests, and cannot carry our error
 * code; this one leaves no timer or listener behind once cleared.
 */
export function withDeadline(
  parent: AbortSignal,
  ms: number,
  code: 'DEADLINE_EXCEEDED' | 'ORIGIN_TIMEOUT',
): Deadline {
  const ctl = new AbortController();
  if (parent.aborted) {
    ctl.abort(parent.reason);
    return { signal: ctl.signal, clear: () => {}, clearTimer: () => {} };
  }
  const onAbort = () => ctl.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => {
    parent.removeEventListener('abort', onAbort);
    ctl.abort(
      new TileError(code, code === 'ORIGIN_TIMEOUT' ? 'origin attempt timed out' : 'deadline exceeded', {
        ms,
      }),
    );
  }, ms);
  return {
    signal: ctl.signal,
    clear() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
    clearTimer() {
      clearTimeout(timer);
    },
  };
}

/** setTimeout as a promise that rejects (with the signal's TileError) on abort and leaves no timer behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(errorFromSignal(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(errorFromSignal(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Waits for `p`, but not past `signal` nor, when given, `ms` milliseconds.
 * The work behind `p` is not cancelled here (its owner holds the signal, or
 * it cannot be cancelled at all, like an ioredis command); only the caller
 * stops waiting. Rejects with ABORTED or DEADLINE_EXCEEDED (`what` names the
 * wait in its message); leaves no timer or listener behind either way.
 */
export function raceSignal<T>(p: Promise<T>, signal: AbortSignal, ms?: number, what = 'wait'): Promise<T> {
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(new TileError('ABORTED', 'request aborted'));
  }
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(new TileError('ABORTED', 'request aborted'));
    };
    if (ms !== undefined) {
      timer = setTimeout(() => {
        done();
        reject(new TileError('DEADLINE_EXCEEDED', `${what} deadline exceeded`, { ms }));
      }, ms);
    }
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
