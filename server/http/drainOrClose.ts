import { Socket } from 'node:net';
import type { Writable } from 'node:stream';

/** How long a response's writes may stay blocked (SEND_TIMEOUT_MS), and what to do when they do. */
export interface SendDeadline {
  ms: number;
  /** Called once, just before the stalled response is destroyed (count it, log it). */
  onStall: () => void;
}

/**
 * Resolves on the next `drain`, or on `close` so a writer whose client left
 * is never stuck waiting for a drain that cannot come. With a deadline, a
 * client that takes nothing for `deadline.ms` is a send stall (nginx's
 * `send_timeout`): the writer is destroyed, which closes its socket, and the
 * caller sees `destroyed` and stops, aborting the origin read behind it.
 */
export function drainOrClose(w: Writable, deadline?: SendDeadline): Promise<void> {
  return settle(w, 'drain', deadline);
}

/**
 * After `end()`: resolves when the last bytes are handed to the kernel
 * (`finish`) or the socket closed. Under a deadline a client that stops
 * reading just before the end is cut too, rather than keeping the socket
 * and its buffered bytes for ever (keep-alive timeouts only start after
 * `finish`).
 */
export function finishOrClose(w: Writable, deadline?: SendDeadline): Promise<void> {
  if (w.writableFinished || w.destroyed) return Promise.resolve();
  return settle(w, 'finish', deadline);
}

function settle(w: Writable, event: 'drain' | 'finish', deadline: SendDeadline | undefined): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      w.off(event, done);
      w.off('close', done);
      resolve();
    };
    w.on(event, done);
    w.on('close', done);
    if (deadline) {
      timer = setTimeout(() => {
        if (!w.destroyed) {
          deadline.onStall();
          // A reset rather than a FIN: the kernel drops the unsent bytes at once instead of
          // holding them (MiBs per connection) for a peer that is not reading.
          const socket = (w as { socket?: unknown }).socket;
          if (socket instanceof Socket && !socket.destroyed) socket.resetAndDestroy();
          w.destroy();
        }
        done();
      }, deadline.ms);
    }
  });
}
