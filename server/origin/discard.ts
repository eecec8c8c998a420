import type { Readable } from 'node:stream';

/**
 * Destroys a body nobody will read. The no-op error listener matters: undici's
 * body emits an AbortError when destroyed unfinished, which would otherwise
 * surface as an uncaught exception.
 */
export function discard(body: Readable): void {
  if (body.destroyed) return;
  body.on('error', () => {});
  body.destroy();
}
